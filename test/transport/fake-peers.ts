// simple-peer stand-ins for transport tests that need no real WebRTC: an
// initiator's offer names it, the answering peer pairs with it, and both
// 'connect'; written chunks reach the twin asynchronously, in order, as on a
// data channel. Every chunk written is recorded, so a test can read what an
// eavesdropper on the channel would see, or write bytes a hostile peer would.
import type { PeerFactory, PeerLike } from '../../src/transport/simple-peer-port'

type Handler = (...args: never[]) => void

export class FakePeer implements PeerLike {
  twin: FakePeer | null = null
  closed = false
  private readonly handlers = new Map<string, Handler[]>()

  constructor(
    private readonly net: FakePeerNet,
    readonly initiator: boolean,
  ) {
    if (initiator) {
      const id = `fake${net.nextId++}`
      net.offers.set(id, this)
      setTimeout(() => this.emit('signal', { type: 'offer', sdp: id }), 0)
    }
  }

  on(event: string, fn: Handler): this {
    const list = this.handlers.get(event) ?? []
    list.push(fn)
    this.handlers.set(event, list)
    return this
  }

  signal(data: unknown): void {
    if (this.closed) return
    const d = data as { type?: string; sdp?: string }
    if (d.type !== 'offer' || this.initiator) return // the answer carries nothing we need
    const offerer = this.net.offers.get(d.sdp ?? '')
    if (offerer === undefined || offerer.closed) return
    this.net.offers.delete(d.sdp ?? '')
    this.twin = offerer
    offerer.twin = this
    setTimeout(() => {
      this.emit('signal', { type: 'answer', sdp: d.sdp })
      this.emit('connect')
      offerer.emit('connect')
    }, 0)
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed) return true
    const copy = chunk.slice()
    this.net.written.push({ from: this, chunk: copy })
    this.deliverToTwin(copy)
    return true
  }

  /** what a hostile peer does: bytes on the channel that our link did not write */
  inject(chunk: Uint8Array): void {
    this.deliverToTwin(chunk.slice())
  }

  destroy(): void {
    if (this.closed) return
    this.closed = true
    this.emit('close')
    const twin = this.twin
    if (twin !== null) setTimeout(() => twin.destroy(), 0)
  }

  private deliverToTwin(chunk: Uint8Array): void {
    const twin = this.twin
    setTimeout(() => {
      if (twin !== null && !twin.closed) twin.emit('data', chunk)
    }, 0)
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) (fn as (...a: unknown[]) => void)(...args)
  }
}

export class FakePeerNet {
  nextId = 0
  readonly offers = new Map<string, FakePeer>()
  readonly peers: FakePeer[] = []
  /** every chunk any peer wrote, in order */
  readonly written: Array<{ from: FakePeer; chunk: Uint8Array }> = []

  readonly factory: PeerFactory = ({ initiator }) => {
    const p = new FakePeer(this, initiator)
    this.peers.push(p)
    return p
  }
}

/** Does `needle` occur anywhere in `hay`? */
export function containsBytes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}
