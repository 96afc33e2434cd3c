// A link between two tabs of one browser without WebRTC (issue 17: a new
// tab, a reload, a reopen wait for their first link).
//
// Between tabs of one browser a WebRTC connection costs an SDP exchange, ICE,
// DTLS and SCTP before a frame moves: 150–250 ms of a new tab's join on this
// machine (bench `lifecycle --diag`: transport-open → first-link). Tabs of one
// browser (one origin, one profile) can reach each other through a
// BroadcastChannel in a millisecond. So every attempt also offers a pipe:
// this file is one end of it (a FramePort over a BroadcastChannel); which
// of the pipe and WebRTC carries the link is piped-peer.ts.
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
import { CLOSED_BY_PEER } from '../transport/types'

/** how long a freed lock waits for the other end's closing word (tab-pipe close reasons) */
const CLOSE_WORD_MS = 50
/** the most bytes held for the link: received before it attaches, or written while the other tab is frozen (as the data channel port holds) */
const MAX_HELD_BYTES = MAX_HELD_INBOUND_BYTES

/** the part of `navigator.locks` a pipe uses */
export type PipeLocks = Pick<LockManager, 'request'>

export type Side = 'i' | 'a'
type PipeMessage = { from: Side; t: 'ready' | 'ack' | 'pause' | 'resume' } | { from: Side; t: 'close'; lost?: true } | { from: Side; t: 'f'; f: Uint8Array; n: number }

/** the close reason of a pipe that lost frames: not the peer's doing (no penalty), the link is made again */
export const PIPE_LOST_FRAMES = 'pipe lost frames'
type Events = Parameters<FramePort['attach']>[0]

/** a fresh pipe's channel name */
export function randomName(): string {
  return `meshkeeper-pipe:${randomHex(platformRandomBytes, 12)}`
}

/** One end of a pipe: the channel, our lock, the watch on the other's. */
export class PipeEnd implements FramePort {
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
