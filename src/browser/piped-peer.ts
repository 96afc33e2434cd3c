// Which of a tab pipe (tab-pipe.ts) and WebRTC carries a link between two
// tabs of one browser: every attempt offers both, and
//
//   - the initiator opens a BroadcastChannel under a fresh random name and
//     signals the name (`{ type: 'pipe', pipe }`, before WebRTC's offer, over
//     the same sealed signaling); a peer in another browser opens a channel
//     of that name that reaches nobody, and WebRTC goes on as before;
//   - the answerer opens the channel and says 'ready'; the initiator answers
//     'ack'; each side, having heard the other, is connected: the attempt
//     connects on the pipe and its WebRTC peer is dropped;
//   - the initiator decides which of the two carries the link, the first to
//     connect at its end, and the answerer follows: were each side to take
//     its own first, one could take the pipe while the other took WebRTC,
//     and both links would die (seen in Chromium: a link closed by its peer
//     seconds after forming). When WebRTC connects first at the initiator,
//     it closes the pipe and signals `{ type: 'pipe', off: true }` (a peer
//     in another browser hears only that); an answerer that opened the pipe
//     lets its own WebRTC connect count only once it heard 'ack' (pipe) or
//     that the pipe is off;
//   - the pipe goes first. A page's first RTCPeerConnection costs tens of
//     ms of its main thread (bench `lifecycle --diag`, probes: 48–55 ms
//     from an attempt's start to its WebRTC peer in a new tab, 7–31 ms in
//     later ones), and the pipe used to wait behind it at both ends. So the
//     initiator signals the pipe's name before it makes its WebRTC peer (the
//     other tab opens its end meanwhile), and the answerer makes its WebRTC
//     peer only when a WebRTC signal (the offer) comes, none once the pipe
//     carries the link; a peer in another browser is answered as before,
//     its offer making the peer;
//   - to a peer that a same-browser channel announced (BroadcastChannel
//     signaling: certainly a tab of this browser) the pipe goes alone for
//     PIPE_HEAD_START_MS, and only then does the initiator make its WebRTC
//     peer: made at once, that page's first RTCPeerConnection held up the
//     'ready' it was waiting for (bench lifecycle, a reopen whose caretaker
//     runs in the same page: attempt → pipe connected 20 ms, both ends on
//     one main thread). A peer met only through a server gets WebRTC at once;
//   - the hello handshake (member proof, room secret) and link sealing run
//     on the pipe exactly as on a data channel: it is only a FramePort.
import { PIPE_NAME } from '../transport/signal-parse'
import type { FramePort } from '../transport/link'
import type { PeerFactory, PeerLike } from '../transport/simple-peer-port'
import { simplePeerPort } from '../transport/simple-peer-port'
import { PipeEnd, randomName } from './tab-pipe'
import type { PipeLocks, Side } from './tab-pipe'

/** how long the initiator's pipe to a tab of this browser goes alone before
 *  WebRTC is tried beside it (a pipe connects in 1–5 ms; one that has not
 *  after this reaches a tab without pipes, or one too busy to answer) */
export const PIPE_HEAD_START_MS = 150

type Listener = (...args: never[]) => void

/**
 * A PeerLike that races a pipe against the WebRTC peer `inner` makes, and
 * connects on whichever connects first (module comment). Events of the WebRTC
 * peer pass through until the pipe wins; after that only the pipe counts.
 */
class PipedPeer implements PeerLike {
  readonly pipes = true as const
  private readonly listeners = new Map<string, Set<Listener>>()
  private pipe: PipeEnd | null = null
  /** the WebRTC peer, once made (module comment: made after the pipe had its start) */
  private inner: PeerLike | null = null
  private winner: 'pipe' | 'webrtc' | null = null
  private destroyed = false
  /** answerer: its WebRTC peer connected, waiting for the initiator's choice */
  private innerConnected = false
  /** answerer: the initiator said the pipe is off (or closed it) */
  private pipeOff = false

  /** initiator of a same-browser peer: the WebRTC peer is made when this fires (PIPE_HEAD_START_MS) */
  private headStart: ReturnType<typeof setTimeout> | null = null

  constructor(
    private readonly makeInner: () => PeerLike,
    private readonly initiator: boolean,
    private readonly locks: PipeLocks,
    sameBrowser: boolean,
  ) {
    if (!initiator) return // its WebRTC peer is made by the first WebRTC signal (signal())
    this.pipe = this.openPipe(randomName(), 'i')
    // after the caller has its listeners on (attempts.ts listens right after the factory returns)
    const name = this.pipe.name
    queueMicrotask(() => {
      if (this.destroyed) return
      this.emit('signal', { type: 'pipe', pipe: name })
      if (this.winner !== null) return
      if (sameBrowser) {
        // a tab of this browser: the pipe connects in a few ms, and making the
        // WebRTC peer now would hold up the very main thread that must hear
        // the pipe's 'ready' (a page's first RTCPeerConnection: 20–50 ms), and
        // that of the other end when it runs in this page (a caretaker)
        this.headStart = setTimeout(() => this.tryWebRtc(), PIPE_HEAD_START_MS)
        return
      }
      // the pipe's name is on its way: the other tab opens its end while we make the offer
      this.tryWebRtc()
    })
  }

  private tryWebRtc(): void {
    this.headStart = null
    if (this.destroyed || this.winner !== null) return
    try {
      this.webRtc()
    } catch {
      // no WebRTC here (simple-peer throws without RTCPeerConnection): the pipe may still
      // connect; if it does not, the attempt's connect timeout fails it, as a silent peer
    }
  }

  private stopHeadStart(): void {
    if (this.headStart !== null) clearTimeout(this.headStart)
    this.headStart = null
  }

  /** the WebRTC peer, made on first use; its events pass through until the pipe wins */
  private webRtc(): PeerLike {
    if (this.inner !== null) return this.inner
    const inner = (this.inner = this.makeInner())
    inner.on('signal', (data: unknown) => this.emit('signal', data))
    inner.on('connect', () => {
      if (this.winner !== null) return
      // the answerer of an opened pipe follows the initiator's choice
      if (!this.initiator && this.pipe !== null && !this.pipeOff) {
        this.innerConnected = true
        return
      }
      this.takeWebRtc()
    })
    for (const event of ['data', 'drain', 'error'] as const) inner.on(event, (...args: unknown[]) => this.winner !== 'pipe' && this.emit(event, ...args))
    inner.on('close', () => {
      // the WebRTC peer we dropped for the pipe closes quietly
      if (this.winner !== 'pipe') this.emit('close')
    })
    return inner
  }

  signal(data: unknown): void {
    if (this.destroyed) return
    const pipe = (data as { type?: unknown; pipe?: unknown }).pipe
    if ((data as { type?: unknown }).type === 'pipe' && (data as { off?: unknown }).off === true) {
      if (!this.initiator) this.offByInitiator()
      return
    }
    if ((data as { type?: unknown }).type === 'pipe') {
      // only the answerer opens the initiator's pipe, once
      if (this.initiator || this.pipe !== null || this.winner !== null || typeof pipe !== 'string' || !PIPE_NAME.test(pipe)) return
      this.pipe = this.openPipe(pipe, 'a')
      this.pipe.sayReady()
      return
    }
    // the pipe carries the link: WebRTC's offer and candidates are not needed
    if (this.winner === 'pipe') return
    this.webRtc().signal(data)
  }

  write(chunk: Uint8Array): boolean {
    // written only once connected: on WebRTC, whose peer exists then (the pipe has its own port)
    return this.webRtc().write(chunk)
  }

  destroy(err?: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    this.stopHeadStart()
    this.pipe?.close()
    this.inner?.destroy(err)
  }

  on(event: 'signal' | 'connect' | 'data' | 'drain' | 'close' | 'error', fn: Listener): unknown {
    let set = this.listeners.get(event)
    if (set === undefined) this.listeners.set(event, (set = new Set()))
    set.add(fn)
    return this
  }

  /** the link's FramePort: the pipe's end when the pipe won, else the WebRTC peer's */
  port(): FramePort {
    if (this.winner === 'pipe' && this.pipe !== null) return this.pipe
    return simplePeerPort(this.webRtc())
  }

  /** WebRTC carries the link: the initiator tells the answerer, which follows */
  private takeWebRtc(): void {
    this.winner = 'webrtc'
    if (this.initiator && this.pipe !== null) this.emit('signal', { type: 'pipe', off: true })
    this.pipe?.close()
    this.emit('connect')
  }

  /** answerer: the initiator chose WebRTC (its signal, or its close of the pipe before 'ack') */
  private offByInitiator(): void {
    if (this.winner !== null || this.pipeOff) return
    this.pipeOff = true
    this.pipe?.close()
    if (this.innerConnected) this.takeWebRtc()
  }

  private openPipe(name: string, side: Side): PipeEnd {
    return new PipeEnd(
      name,
      side,
      this.locks,
      () => {
        if (this.winner !== null || this.destroyed) return
        this.winner = 'pipe'
        this.stopHeadStart()
        // the WebRTC attempt is no longer needed (an answerer may never have made one)
        this.inner?.destroy()
        this.emit('connect')
      },
      () => {
        // a pipe that carried the link closes the attempt; one that lost or never connected says nothing,
        // but an answerer's pipe closed by the initiator before it connected is the initiator's choice of WebRTC
        if (this.winner === 'pipe') this.emit('close')
        else if (!this.initiator) this.offByInitiator()
      },
    )
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (...a: unknown[]) => void)(...args)
  }
}

/** Wrap a WebRTC PeerFactory so that tabs of one browser link through a pipe.
 *  Without BroadcastChannel or Web Locks, `factory` is returned as it is. */
export function withTabPipes(factory: PeerFactory, locks: PipeLocks | undefined): PeerFactory {
  if (typeof globalThis.BroadcastChannel !== 'function' || locks === undefined) return factory
  return (opts) => new PipedPeer(() => factory(opts), opts.initiator, locks, opts.sameBrowser === true)
}
