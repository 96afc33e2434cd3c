// A Transport over the simulator's VirtualNetwork. Every member on the hub has
// a link to every other live member; link messages travel as network packets,
// so they take the network's delays and obey its partitions, cuts, drops and
// reorderings. (A real Link is ordered and reliable; the virtual one may drop
// and reorder when the network is told to. The member copes: Raft retries,
// node messages are idempotent and resent.) A crashed member's links close on
// both sides, as a data channel does when its tab dies.
import type { Link, PeerHello, Transport } from '../transport/types'
import { MeshError } from '../shared/errors'

/** The slice of VirtualNetwork the hub uses. */
export interface PacketNetwork {
  register(id: string, deliver: (from: string, msg: Uint8Array) => void): void
  unregister(id: string): void
  send(from: string, to: string, msg: Uint8Array): void
}

export class VirtualHub {
  private readonly transports = new Map<string, VirtualTransport>()

  constructor(private readonly network: PacketNetwork) {}

  /** Bring a member online: it gets links to every member already online. */
  connect(hello: PeerHello): VirtualTransport {
    if (this.transports.has(hello.member)) throw new MeshError('BAD_ARGUMENTS', `${hello.member} is already online`)
    const t = new VirtualTransport(hello, () => this.disconnect(hello.member))
    this.network.register(hello.member, (from, msg) => t.deliver(from, msg))
    const others = [...this.transports.values()]
    this.transports.set(hello.member, t)
    for (const other of others) {
      const here = new VirtualLink(other.self.member, hello.member, this.network)
      const there = new VirtualLink(hello.member, other.self.member, this.network)
      here.twin = there
      there.twin = here
      t.addLink(here, other.self)
      other.addLink(there, hello)
    }
    return t
  }

  /** Take a member offline (crash or close): its links close on both sides. */
  disconnect(member: string): void {
    const t = this.transports.get(member)
    if (t === undefined) return
    this.transports.delete(member)
    this.network.unregister(member)
    t.shutdown('offline')
  }

  online(): string[] {
    return [...this.transports.keys()]
  }
}

export class VirtualTransport implements Transport {
  private readonly linkMap = new Map<string, VirtualLink>()
  private readonly listeners = new Set<(link: Link, hello: PeerHello) => void>()
  private closed = false

  constructor(
    readonly self: PeerHello,
    private readonly onClosed: () => void,
  ) {}

  onLink(fn: (link: Link, hello: PeerHello) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  links(): Map<string, Link> {
    return new Map(this.linkMap)
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a throw rejects and close keeps its microtask timing (the simulator depends on it)
  async close(): Promise<void> {
    if (this.closed) return
    this.onClosed()
  }

  /** peers this member refused, in order, with the node's reason (for tests) */
  readonly refusals: { peer: string; reason: string }[] = []

  /** The node found the peer breaking the protocol: its link closes on both
   *  sides. Unlike MeshTransport (which links again after a penalty), a
   *  virtual link is made only when a member comes online, so a refused peer
   *  stays cut off until it reconnects to the hub. */
  refuse(peer: string, reason: string): void {
    if (this.closed) return
    this.refusals.push({ peer, reason })
    const link = this.linkMap.get(peer)
    if (link === undefined) return
    this.linkMap.delete(peer)
    link.closeBoth(`refused: ${reason}`)
  }

  /** @internal */
  addLink(link: VirtualLink, hello: PeerHello): void {
    if (this.closed) return
    this.linkMap.set(link.peer, link)
    for (const fn of [...this.listeners]) fn(link, hello)
  }

  /** @internal a packet from the network */
  deliver(from: string, bytes: Uint8Array): void {
    const link = this.linkMap.get(from)
    if (link !== undefined) link.receive(bytes)
  }

  /** @internal */
  shutdown(reason: string): void {
    if (this.closed) return
    this.closed = true
    for (const link of this.linkMap.values()) {
      link.closeBoth(reason)
    }
    this.linkMap.clear()
    this.listeners.clear()
  }
}

export class VirtualLink implements Link {
  open = true
  twin: VirtualLink | null = null
  private readonly messageFns = new Set<(bytes: Uint8Array) => void>()
  private readonly closeFns = new Set<(reason: string) => void>()

  constructor(
    readonly peer: string,
    private readonly self: string,
    private readonly network: PacketNetwork,
  ) {}

  send(bytes: Uint8Array): void {
    if (!this.open) throw new MeshError('CLOSED', `link to ${this.peer} is closed`)
    // a copy: the sender may reuse its buffer, the receiver must not see it change
    this.network.send(this.self, this.peer, bytes.slice())
  }

  onMessage(fn: (bytes: Uint8Array) => void): () => void {
    this.messageFns.add(fn)
    return () => this.messageFns.delete(fn)
  }

  onClose(fn: (reason: string) => void): () => void {
    this.closeFns.add(fn)
    return () => this.closeFns.delete(fn)
  }

  close(): void {
    this.closeBoth('closed')
  }

  /** @internal */
  receive(bytes: Uint8Array): void {
    if (!this.open) return
    for (const fn of [...this.messageFns]) fn(bytes)
  }

  /** @internal */
  closeBoth(reason: string): void {
    this.closeOne(reason)
    this.twin?.closeOne(reason)
  }

  private closeOne(reason: string): void {
    if (!this.open) return
    this.open = false
    for (const fn of [...this.closeFns]) fn(reason)
    this.closeFns.clear()
    this.messageFns.clear()
  }
}
