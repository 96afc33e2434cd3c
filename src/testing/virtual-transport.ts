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

  /** Bring a member online: it gets links to every member already online
   *  that either side wants (Transport.setLinkPolicy; every one until a side says otherwise). */
  connect(hello: PeerHello): VirtualTransport {
    if (this.transports.has(hello.member)) throw new MeshError('BAD_ARGUMENTS', `${hello.member} is already online`)
    const t = new VirtualTransport(hello, () => this.disconnect(hello.member), () => this.relink(hello.member))
    this.network.register(hello.member, (from, msg) => t.deliver(from, msg))
    const others = [...this.transports.values()]
    this.transports.set(hello.member, t)
    for (const other of others) if (t.wants(other.self.member) || other.wants(hello.member)) this.pair(t, other)
    return t
  }

  /** `member`'s link policy changed: as MeshTransport does, a pair is linked
   *  when either side wants it; a pair neither wants is unlinked; a refused
   *  pair stays cut off */
  private relink(member: string): void {
    const t = this.transports.get(member)
    if (t === undefined) return
    for (const other of [...this.transports.values()]) {
      if (other === t || t.refusedPeer(other.self.member) || other.refusedPeer(member)) continue
      const wanted = t.wants(other.self.member) || other.wants(member)
      const linked = t.linkTo(other.self.member)?.open === true
      if (wanted && !linked) this.pair(t, other)
      else if (!wanted && linked) t.linkTo(other.self.member)!.closeBoth('unwanted')
    }
  }

  private pair(t: VirtualTransport, other: VirtualTransport): void {
    const here = new VirtualLink(other.self.member, t.self.member, this.network)
    const there = new VirtualLink(t.self.member, other.self.member, this.network)
    here.twin = there
    there.twin = here
    t.addLink(here, other.self)
    other.addLink(there, t.self)
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
  private policy: (peer: string) => boolean = () => true
  private readonly refused = new Set<string>()

  constructor(
    readonly self: PeerHello,
    private readonly onClosed: () => void,
    private readonly onPolicy: () => void = () => undefined,
  ) {}

  setLinkPolicy(wants: (peer: string) => boolean): void {
    this.policy = wants
    if (!this.closed) this.onPolicy()
  }

  /** @internal does this member's node want a link to `peer`? */
  wants(peer: string): boolean {
    return this.policy(peer)
  }

  /** @internal */
  refusedPeer(peer: string): boolean {
    return this.refused.has(peer)
  }

  /** @internal */
  linkTo(peer: string): VirtualLink | undefined {
    return this.linkMap.get(peer)
  }

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
    this.refused.add(peer)
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
