// A link between two tabs of one browser without WebRTC (issue 17: a new
// tab, a reload, a reopen wait for their first link).
//
// Between tabs of one browser a WebRTC connection costs an SDP exchange, ICE,
// DTLS and SCTP before a frame moves: 150–250 ms of a new tab's join on this
// machine (bench `lifecycle --diag`: transport-open → first-link). Tabs of one
// browser (one origin, one profile) can reach each other through a
// BroadcastChannel in a millisecond. So every attempt also offers a pipe:
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
//
// A BroadcastChannel says nothing when the tab at the other end dies. Each
// side therefore holds a Web Lock named after the pipe and its side for the
// pipe's life, and queues a request for the other side's: the browser grants
// it when that tab closes the pipe or dies (crash, kill), and the pipe closes
// then. The lock is requested before the name goes out (the initiator) or
// before 'ready' (the answerer), so the other side's request always queues
// behind the holder's.
//
// Order: one BroadcastChannel delivers one sender's messages in order, so
// frames arrive in order and a 'close' after the last frame. Frames that
// arrive before the link attaches are held for it (bounded, as the data
// channel port does). The pipe never pushes back (write() is always true):
// the link's own bound on queued bytes is the only one, and a tab of the same
// origin is the app itself.
import { MAX_HELD_INBOUND_BYTES } from '../transport/data-channel-port'
import type { FramePort } from '../transport/link'
import { platformRandomBytes, randomHex } from '../transport/randomness'
import { PIPE_NAME } from '../transport/signal-parse'
import type { PeerFactory, PeerLike } from '../transport/simple-peer-port'
import { simplePeerPort } from '../transport/simple-peer-port'
import { CLOSED_BY_PEER } from '../transport/types'

/** how long a freed lock waits for the other end's closing word (tab-pipe close reasons) */
const CLOSE_WORD_MS = 50
/** how long the initiator's pipe to a tab of this browser goes alone before
 *  WebRTC is tried beside it (a pipe connects in 1–5 ms; one that has not
 *  after this reaches a tab without pipes, or one too busy to answer) */
export const PIPE_HEAD_START_MS = 150
/** the most bytes held for the link: received before it attaches, or written while the other tab is frozen (as the data channel port holds) */
const MAX_HELD_BYTES = MAX_HELD_INBOUND_BYTES

/** the part of `navigator.locks` a pipe uses */
export type PipeLocks = Pick<LockManager, 'request'>

type Side = 'i' | 'a'
type PipeMessage = { from: Side; t: 'ready' | 'ack' | 'pause' | 'resume' } | { from: Side; t: 'close'; lost?: true } | { from: Side; t: 'f'; f: Uint8Array; n: number }

/** the close reason of a pipe that lost frames: not the peer's doing (no penalty), the link is made again */
export const PIPE_LOST_FRAMES = 'pipe lost frames'
type Events = Parameters<FramePort['attach']>[0]

function randomName(): string {
  return `meshkeeper-pipe:${randomHex(platformRandomBytes, 12)}`
}

/** One end of a pipe: the channel, our lock, the watch on the other's. */
class PipeEnd implements FramePort {
  private readonly channel: BroadcastChannel
  private readonly ownLock = new AbortController()
  private releaseOwn: (() => void) | null = null
  private readonly watch = new AbortController()
  private events: Events | null = null
  private held: Uint8Array[] = []
  private heldBytes = 0
  private connected = false
  private closed = false
  /** the number of our next frame, and of the next frame we expect */
  private sent = 0
  private expected = 0
  /** the other tab is frozen: what we write waits here until it resumes */
  private paused: Uint8Array[] | null = null
  private pausedBytes = 0
  private readonly offLifecycle: () => void

  constructor(
    readonly name: string,
    private readonly side: Side,
    private readonly locks: PipeLocks,
    /** the other side was heard: the pipe carries frames from now on */
    private readonly onConnect: () => void,
    /** the pipe ended before or after it connected */
    private readonly onEnd: (reason: string) => void,
  ) {
    // held for the pipe's life: its release (ours, or our tab's death) tells the other side
    locks
      .request(`${name}:${side}`, { mode: 'exclusive', signal: this.ownLock.signal }, () =>
        // granted after the pipe ended (the abort came too late): let it go at once
        this.closed ? undefined : new Promise<void>((r) => (this.releaseOwn = r)),
      )
      .catch(() => undefined)
    this.channel = new BroadcastChannel(name)
    this.channel.onmessage = (e: MessageEvent<unknown>) => this.heard(e.data)
    this.offLifecycle = this.followFreezes()
  }

  /**
   * Chromium drops BroadcastChannel messages sent to a frozen page (measured:
   * after a resume the link's next message was 11 ahead of the expected one).
   * So a page about to be frozen tells the other end to hold what it writes
   * until the page resumes, as a data channel would. A page frozen without
   * the event, or frames already on their way, show as a gap in the frame
   * numbers: the pipe closes as PIPE_LOST_FRAMES and the link is made again.
   */
  private followFreezes(): () => void {
    const doc = (globalThis as { document?: Document }).document
    if (doc === undefined) return () => undefined
    const pause = (): void => this.post({ from: this.side, t: 'pause' })
    const resume = (): void => this.post({ from: this.side, t: 'resume' })
    doc.addEventListener('freeze', pause)
    doc.addEventListener('resume', resume)
    return () => {
      doc.removeEventListener('freeze', pause)
      doc.removeEventListener('resume', resume)
    }
  }

  /** the answerer says it is there */
  sayReady(): void {
    this.post({ from: this.side, t: 'ready' })
  }

  write(frame: Uint8Array): boolean {
    if (this.closed) return true
    if (this.paused !== null) {
      this.pausedBytes += frame.length
      if (this.pausedBytes > MAX_HELD_BYTES) this.end('send queue overflow (peer frozen)')
      else this.paused.push(frame)
      return true
    }
    this.post({ from: this.side, t: 'f', f: frame, n: this.sent++ })
    return true
  }

  attach(events: Events): void {
    this.events = events
    const held = this.held
    this.held = []
    this.heldBytes = 0
    for (const frame of held) events.frame(frame)
  }

  close(): void {
    this.end(null)
  }

  private heard(data: unknown): void {
    if (this.closed || typeof data !== 'object' || data === null) return
    const msg = data as Partial<PipeMessage>
    if (msg.from === this.side || (msg.from !== 'i' && msg.from !== 'a')) return // our own side (another end of ours cannot exist), or junk
    switch (msg.t) {
      case 'ready':
        if (this.side !== 'i' || this.connected) return
        this.post({ from: this.side, t: 'ack' })
        this.connect()
        return
      case 'ack':
        if (this.side !== 'a' || this.connected) return
        this.connect()
        return
      case 'close':
        this.end((msg as { lost?: unknown }).lost === true ? PIPE_LOST_FRAMES : CLOSED_BY_PEER)
        return
      case 'pause':
        this.paused ??= []
        return
      case 'resume': {
        const waiting = this.paused ?? []
        this.paused = null
        this.pausedBytes = 0
        for (const frame of waiting) this.write(frame)
        return
      }
      case 'f': {
        const frame = (msg as { f?: unknown }).f
        // anything but bytes is no frame: an empty one, which the link's reassembler refuses (it drops the peer)
        const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(0)
        if (!this.connected) return
        if ((msg as { n?: unknown }).n !== this.expected) {
          this.end(PIPE_LOST_FRAMES)
          return
        }
        this.expected++
        if (this.events !== null) {
          this.events.frame(bytes)
          return
        }
        this.heldBytes += bytes.length
        if (this.heldBytes > MAX_HELD_BYTES) {
          this.end('inbox overflow')
          return
        }
        this.held.push(bytes)
        return
      }
    }
  }

  private connect(): void {
    this.connected = true
    // granted when the other side lets go of its lock: it closed the pipe, or its tab died
    const other: Side = this.side === 'i' ? 'a' : 'i'
    this.locks
      .request(`${this.name}:${other}`, { mode: 'exclusive', signal: this.watch.signal }, () => {
        // a closing end posts its word before it lets go of the lock, but the two may
        // arrive in either order: its word (lost frames, say) gets a moment to come first
        setTimeout(() => this.end(CLOSED_BY_PEER), CLOSE_WORD_MS)
      })
      .catch(() => undefined)
    this.onConnect()
  }

  /** end the pipe: `reason` null is our own close (the other side hears it) */
  private end(reason: string | null): void {
    if (this.closed) return
    this.closed = true
    // the other end hears every close that is not its own; one of lost frames is nobody's doing
    if (reason !== CLOSED_BY_PEER) this.post({ from: this.side, t: 'close', ...(reason === PIPE_LOST_FRAMES ? { lost: true } : {}) })
    this.channel.close()
    this.offLifecycle()
    this.paused = null
    this.watch.abort()
    this.ownLock.abort()
    this.releaseOwn?.()
    this.held = []
    const events = this.events
    if (reason !== null) {
      events?.close(reason)
      this.onEnd(reason)
    }
  }

  private post(msg: PipeMessage): void {
    try {
      this.channel.postMessage(msg)
    } catch {
      // closed meanwhile: the end is already under way
    }
  }
}

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
