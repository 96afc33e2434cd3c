// FramedLink: a Link (src/transport/types) over any ordered, reliable frame
// pipe (a FramePort: a WebRTC data channel through simple-peer, or an
// in-memory pipe in tests). It chunks messages (framing.ts), sends the chunks
// only as fast as the port drains (backpressure: a data channel that buffers
// too much is closed by the browser), reassembles what arrives, and drops the
// peer on the first frame that breaks the framing rules.
//
// Besides the app's messages a link carries CONTROL messages for the
// transport itself (the hello, relayed signaling); they overtake queued data
// between two chunks, so a hello is never stuck behind a snapshot.
//
// Under a room secret the link has a LinkSecurity (src/wire/link-security.ts):
// every data message is sealed (AES-GCM under the room key, bound to this
// link, counted for replay) before it is framed, and opened after it is
// reassembled; a message that does not open, or a replay, closes the link.
// Sealing and opening are asynchronous but keep the order of the calls.
// Until the peer's proof is verified its sealed messages wait inside the
// LinkSecurity (bounded), so nothing unproven is ever delivered. Control
// messages are not sealed by the link: the transport seals the hello itself,
// and the rest (peer lists, relayed signaling) is only accepted after it.
//
// What must stay true: messages are delivered whole and in order; onClose
// listeners run exactly once; after close, send throws CLOSED and nothing
// more is delivered.
import { ENVELOPE_KIND } from '../wire/envelope'
import type { WireError } from '../wire/errors'
import type { LinkSecurity } from '../wire/link-security'
import { TransportError } from './errors'
import { controlFrame, dataFrames, DEFAULT_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES, nextSeq, Reassembler } from './framing'
import type { FramingOptions } from './framing'
import type { Link } from './types'

/** An ordered, reliable pipe of frames to one peer. */
export interface FramePort {
  /** send one frame; returns false when the caller should wait for the
   *  drain callback before writing more (the frame itself is taken) */
  write(frame: Uint8Array): boolean
  /** register the three callbacks; called once, by the link */
  attach(events: { frame(frame: Uint8Array): void; drain(): void; close(reason: string): void }): void
  close(): void
}

export interface LinkOptions extends FramingOptions {
  /** bytes queued for sending before the link gives up on a peer that does
   *  not read (it closes with reason 'send queue overflow'); also the most
   *  received bytes held before anyone listens ('inbox overflow') */
  maxQueuedBytes?: number
  /** a frame that breaks the framing rules, or a listener that threw */
  onError?: (err: unknown) => void
  /** with a room secret: seals what is sent and opens what arrives (the
   *  transport runs its handshake; the link takes its callbacks) */
  security?: LinkSecurity
}

export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024

interface Outgoing {
  frames: Iterator<Uint8Array>
  bytes: number
}

export class FramedLink implements Link {
  private readonly reassembler: Reassembler
  private readonly frameBytes: number
  private readonly maxMessageBytes: number
  private readonly maxQueuedBytes: number
  private readonly messageListeners = new Set<(bytes: Uint8Array) => void>()
  private readonly controlListeners = new Set<(bytes: Uint8Array) => void>()
  private readonly closeListeners = new Set<(reason: string) => void>()
  /** messages that arrived before anyone listened: kept for the first listener */
  private inbox: Uint8Array[] | null = []
  private inboxBytes = 0
  private controlInbox: Uint8Array[] | null = []
  private readonly dataQueue: Outgoing[] = []
  private readonly controlQueue: Uint8Array[] = []
  private queued = 0
  private sendSeq = 0
  /** sizes of the messages being sealed, in call order (counted in `queued`) */
  private readonly sealing: number[] = []
  private waitingForDrain = false
  private pumping = false
  private closedReason: string | null = null
  private peerFault: Error | null = null

  constructor(
    readonly peer: string,
    private readonly port: FramePort,
    private readonly opts: LinkOptions = {},
  ) {
    this.frameBytes = opts.frameBytes ?? DEFAULT_FRAME_BYTES
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES
    this.reassembler = new Reassembler(opts)
    const security = opts.security
    if (security !== undefined) {
      security.onFrame = (frame) => {
        const plainBytes = this.sealing.shift() ?? 0
        if (this.closedReason !== null) return
        this.queued -= plainBytes
        this.enqueue(frame)
      }
      security.onEnvelope = (env) => {
        if (this.closedReason !== null) return
        if (env.kind !== ENVELOPE_KIND.node) {
          this.fail(new TransportError('BAD_MESSAGE', `sealed frame of kind ${env.kind} on a link`, this.peer))
          return
        }
        this.accept(env.body)
      }
      // a frame that does not open under the room key, a replay, another
      // sender's frame: the peer proved the secret, so it is broken or hostile
      security.onError = (err: WireError) => this.fail(err)
      security.onCallbackError = (err) => this.opts.onError?.(err)
    }
    port.attach({
      frame: (frame) => this.receive(frame),
      drain: () => {
        this.waitingForDrain = false
        this.pump()
      },
      close: (reason) => this.finish(reason),
    })
  }

  get open(): boolean {
    return this.closedReason === null
  }

  /** why the link closed, or null while open */
  get closeReason(): string | null {
    return this.closedReason
  }

  /** bytes accepted by send() and not yet handed to the port */
  get queuedBytes(): number {
    return this.queued
  }

  send(bytes: Uint8Array): void {
    if (this.closedReason !== null) throw new TransportError('CLOSED', `link to ${this.peer} is closed (${this.closedReason})`, this.peer)
    if (bytes.length > this.maxMessageBytes) throw new TransportError('TOO_LARGE', `message of ${bytes.length} bytes exceeds ${this.maxMessageBytes}`, this.peer)
    // the caller may reuse its buffer once send returns
    const copy = bytes.slice()
    const security = this.opts.security
    if (security === undefined) {
      this.enqueue(copy)
      return
    }
    security.seal(ENVELOPE_KIND.node, copy) // comes back through onFrame, in order (throws before the handshake)
    this.sealing.push(copy.length)
    this.queued += copy.length
    if (this.queued > this.maxQueuedBytes) this.close('send queue overflow')
  }

  private enqueue(message: Uint8Array): void {
    this.dataQueue.push({ frames: dataFrames(this.sendSeq, message, this.frameBytes), bytes: message.length })
    this.sendSeq = nextSeq(this.sendSeq)
    this.queued += message.length
    if (this.queued > this.maxQueuedBytes) {
      this.close('send queue overflow')
      return
    }
    this.pump()
  }

  /** a transport-internal message (at most one frame) */
  sendControl(bytes: Uint8Array): void {
    if (this.closedReason !== null) throw new TransportError('CLOSED', `link to ${this.peer} is closed (${this.closedReason})`, this.peer)
    this.controlQueue.push(controlFrame(bytes))
    this.pump()
  }

  onMessage(fn: (bytes: Uint8Array) => void): () => void {
    this.messageListeners.add(fn)
    const early = this.inbox
    this.inbox = null
    if (early !== null) for (const m of early) this.deliver(this.messageListeners, m)
    return () => this.messageListeners.delete(fn)
  }

  onControl(fn: (bytes: Uint8Array) => void): () => void {
    this.controlListeners.add(fn)
    const early = this.controlInbox
    this.controlInbox = null
    if (early !== null) for (const m of early) this.deliver(this.controlListeners, m)
    return () => this.controlListeners.delete(fn)
  }

  onClose(fn: (reason: string) => void): () => void {
    if (this.closedReason !== null) {
      // already closed: tell the late listener at once (still exactly once)
      const reason = this.closedReason
      queueMicrotask(() => { fn(reason) })
      return () => { /* never added: nothing to remove */ }
    }
    this.closeListeners.add(fn)
    return () => this.closeListeners.delete(fn)
  }

  /** the peer's offence this link closed on (a frame that breaks the framing
   *  or does not open under the room key), or null: the transport refuses
   *  such a peer for a while instead of re-making the link at once */
  get fault(): Error | null {
    return this.peerFault
  }

  close(reason = 'closed'): void {
    if (this.closedReason !== null) return
    this.finish(reason)
    this.port.close()
  }

  private pump(): void {
    if (this.pumping) return // re-entered from a synchronous drain
    this.pumping = true
    try {
      while (this.closedReason === null && !this.waitingForDrain) {
        const frame = this.nextFrame()
        if (frame === null) break
        if (!this.port.write(frame)) this.waitingForDrain = true
      }
    } catch (err) {
      this.opts.onError?.(err)
      this.close('send failed')
    } finally {
      this.pumping = false
    }
  }

  private nextFrame(): Uint8Array | null {
    const control = this.controlQueue.shift()
    if (control !== undefined) return control
    const head = this.dataQueue[0]
    if (head === undefined) return null
    const step = head.frames.next()
    if (step.done) {
      this.dataQueue.shift()
      this.queued -= head.bytes
      return this.nextFrame()
    }
    return step.value
  }

  private receive(frame: Uint8Array): void {
    if (this.closedReason !== null) return
    let out
    try {
      out = this.reassembler.push(frame)
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
      return
    }
    if (out.kind === 'data') {
      if (this.opts.security !== undefined) this.opts.security.open(out.message) // comes back through onEnvelope
      else this.accept(out.message)
    } else if (out.kind === 'control') {
      const copy = out.message.slice()
      if (this.controlInbox !== null) this.controlInbox.push(copy)
      else this.deliver(this.controlListeners, copy)
    }
  }

  /** a whole (opened) data message: to the listeners, or held until one comes */
  private accept(message: Uint8Array): void {
    if (this.inbox === null) {
      this.deliver(this.messageListeners, message)
      return
    }
    // nobody listens yet (the hello is not through): hold a bounded amount
    this.inbox.push(message)
    this.inboxBytes += message.length
    if (this.inboxBytes > this.maxQueuedBytes) this.close('inbox overflow')
  }

  private fail(err: Error): void {
    if (this.closedReason !== null) return
    this.peerFault = err
    this.opts.onError?.(err)
    this.close(`bad frame: ${err.message}`)
  }

  private deliver(listeners: Set<(bytes: Uint8Array) => void>, message: Uint8Array): void {
    for (const fn of [...listeners]) {
      if (this.closedReason !== null) return
      try {
        fn(message)
      } catch (err) {
        // a listener's bug must not desync the link or starve the others
        this.opts.onError?.(err)
      }
    }
  }

  private finish(reason: string): void {
    if (this.closedReason !== null) return
    this.closedReason = reason
    this.dataQueue.length = 0
    this.controlQueue.length = 0
    this.queued = 0
    this.sealing.length = 0
    this.inbox = null
    this.controlInbox = null
    const listeners = [...this.closeListeners]
    this.closeListeners.clear()
    this.messageListeners.clear()
    this.controlListeners.clear()
    for (const fn of listeners) {
      try {
        fn(reason)
      } catch (err) {
        this.opts.onError?.(err)
      }
    }
  }
}
