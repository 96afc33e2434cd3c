// An in-process Transport for Node unit tests: every member on a MemoryHub has
// a FramedLink to every other, over an in-memory frame pipe that delivers
// asynchronously and pushes back like a data channel. The same link code as
// WebRTC (chunking, reassembly, backpressure, close), without WebRTC, on the
// clock it is given (real time by default; the simulator's VirtualTransport
// is the one on the virtual network).
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'
import { TransportError } from './errors'
import { FramedLink } from './link'
import type { LinkOptions } from './link'
import { memoryPortPair } from './memory-port'
import type { MemoryPort, MemoryPortOptions } from './memory-port'
import { Listeners } from './signaling'
import type { Link, PeerHello, Transport } from './types'

export interface MemoryHubOptions extends MemoryPortOptions {
  link?: LinkOptions
}

interface Pair {
  ports: [MemoryPort, MemoryPort]
}

export class MemoryHub {
  private readonly members = new Map<string, MemoryTransport>()
  private readonly pairs = new Map<string, Pair>()

  private readonly clock: Clock

  constructor(private readonly opts: MemoryHubOptions = {}) {
    this.clock = opts.clock ?? realClock
  }

  /** Bring a member online: links to every member already online open (asynchronously, as real ones do). */
  connect(hello: PeerHello): MemoryTransport {
    if (this.members.has(hello.member)) throw new TransportError('BAD_ARGUMENTS', `${hello.member} is already on the hub`)
    const t = new MemoryTransport(hello, () => this.leave(hello.member))
    const others = [...this.members.values()]
    this.members.set(hello.member, t)
    for (const other of others) this.pair(t, other)
    return t
  }

  online(): string[] {
    return [...this.members.keys()]
  }

  /** Cut the link between two members without a goodbye (both sides see it
   *  close); it is re-made after `remakeAfterMs` if both are still online. */
  fail(a: string, b: string, remakeAfterMs = 10): void {
    const pair = this.pairs.get(pairKey(a, b))
    if (pair === undefined) return
    this.pairs.delete(pairKey(a, b))
    pair.ports[0].fail('link failed')
    this.clock.setTimeout(() => {
      const ta = this.members.get(a)
      const tb = this.members.get(b)
      if (ta !== undefined && tb !== undefined && !this.pairs.has(pairKey(a, b))) this.pair(ta, tb)
    }, remakeAfterMs)
  }

  private pair(x: MemoryTransport, y: MemoryTransport): void {
    const ports = memoryPortPair(this.opts)
    this.pairs.set(pairKey(x.self.member, y.self.member), { ports })
    const xy = new FramedLink(y.self.member, ports[0], this.opts.link)
    const yx = new FramedLink(x.self.member, ports[1], this.opts.link)
    // announce on a later turn, as a data channel opens after signaling
    this.clock.setTimeout(() => {
      if (xy.open) x.adopt(xy, y.self)
      if (yx.open) y.adopt(yx, x.self)
    }, 0)
  }

  private leave(member: string): void {
    this.members.delete(member)
    for (const key of [...this.pairs.keys()]) if (key.split('\u0000').includes(member)) this.pairs.delete(key)
  }
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`)

export class MemoryTransport implements Transport {
  private readonly current = new Map<string, Link>()
  private readonly linkListeners = new Listeners<[Link, PeerHello]>()
  private closed = false

  constructor(
    readonly self: PeerHello,
    private readonly onClosed: () => void,
  ) {}

  onLink(fn: (link: Link, hello: PeerHello) => void): () => void {
    return this.linkListeners.add(fn)
  }

  links(): Map<string, Link> {
    return new Map(this.current)
  }

  // async although nothing is awaited: Transport.close is a promise, and a
  // throw must reject it rather than escape the caller
  // eslint-disable-next-line @typescript-eslint/require-await
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.onClosed()
    for (const link of this.current.values()) link.close('transport closed')
    this.current.clear()
    this.linkListeners.clear()
  }

  /** @internal the hub hands over a new open link */
  adopt(link: FramedLink, hello: PeerHello): void {
    if (this.closed) {
      link.close('transport closed')
      return
    }
    const old = this.current.get(link.peer)
    this.current.set(link.peer, link)
    if (old !== undefined && old !== link) old.close('replaced')
    link.onClose(() => {
      if (this.current.get(link.peer) === link) this.current.delete(link.peer)
    })
    this.linkListeners.emit(link, hello)
  }
}
