// A member tab's network interface on the VirtualNetwork: the one
// registration of its member id (a tab's life: a restarted member is a new
// host, and what was sent to the old one is lost), and the dispatch of what
// arrives to the virtual WebRTC peers (virtual-peer.ts) and the signaling
// channel (virtual-signaling.ts) living on it, by their endpoint numbers.
//
// A packet is [kind][to endpoint][from endpoint][payload]. Endpoint numbers
// come from one counter per simulated world (VirtualHosts), never reused, so
// a packet of an old connection never reaches a new one.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { VirtualClock } from './virtual-time'
import type { VirtualNetwork } from './virtual-network'

export const PacketKind = {
  /** ICE connectivity check and consent freshness (unreliable, like STUN) */
  check: 0,
  checkAnswer: 1,
  /** data channel message (reliable, ordered: SCTP) */
  data: 2,
  /** the data channel closed on purpose (after what it carried) */
  close: 3,
  /** signaling, to or from the room server (reliable, ordered: a WebSocket) */
  signaling: 4,
} as const
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind]

/** Something on a host that packets are addressed to. */
export interface PacketReceiver {
  receive(kind: PacketKind, from: string, fromEndpoint: number, payload: Uint8Array): void
}

/** The simulated world's hosts: one network, one clock, one endpoint counter. */
export class VirtualHosts {
  private endpoints = 0
  /** the host that holds each member id's registration now */
  readonly current = new Map<string, VirtualHost>()

  constructor(
    readonly network: VirtualNetwork<Uint8Array>,
    readonly clock: VirtualClock,
  ) {}

  /** a number no other endpoint of this world has had */
  nextEndpoint(): number {
    return ++this.endpoints
  }

  /** Bring a tab of `member` onto the network (a new life: what was in flight to an older one is lost). */
  host(member: string): VirtualHost {
    return new VirtualHost(this, member)
  }
}

export class VirtualHost {
  private readonly receivers = new Map<number, PacketReceiver>()
  private alive = true

  constructor(
    readonly world: VirtualHosts,
    readonly member: string,
  ) {
    world.network.register(member, (from, bytes) => this.deliver(from, bytes))
    world.current.set(member, this)
  }

  get clock(): VirtualClock {
    return this.world.clock
  }

  /** false once the tab crashed or closed: it sends nothing more */
  get isAlive(): boolean {
    return this.alive
  }

  attach(endpoint: number, receiver: PacketReceiver): void {
    this.receivers.set(endpoint, receiver)
  }

  detach(endpoint: number): void {
    this.receivers.delete(endpoint)
  }

  /** an unreliable packet (lost to partitions and to the network's random faults) */
  sendPacket(to: string, kind: PacketKind, toEndpoint: number, fromEndpoint: number, payload: Uint8Array = EMPTY): void {
    if (!this.alive) return
    this.world.network.send(this.member, to, encodePacket(kind, toEndpoint, fromEndpoint, payload))
  }

  /** a message on the reliable ordered stream to `to`, kept through partitions while `wanted()` */
  sendInOrder(to: string, kind: PacketKind, toEndpoint: number, fromEndpoint: number, payload: Uint8Array, wanted: () => boolean): void {
    if (!this.alive) return
    this.world.network.sendInOrder(this.member, to, encodePacket(kind, toEndpoint, fromEndpoint, payload), wanted)
  }

  /** The tab is gone (crashed or closed): nothing more is sent or received. */
  shutdown(): void {
    if (!this.alive) return
    this.alive = false
    this.receivers.clear()
    // a newer tab of the member may hold the registration already
    if (this.world.current.get(this.member) !== this) return
    this.world.current.delete(this.member)
    this.world.network.unregister(this.member)
  }

  private deliver(from: string, bytes: Uint8Array): void {
    if (!this.alive) return
    const p = decodePacket(bytes)
    this.receivers.get(p.to)?.receive(p.kind, from, p.from, p.payload)
  }
}

const EMPTY = new Uint8Array(0)

export function encodePacket(kind: PacketKind, to: number, from: number, payload: Uint8Array): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, kind)
  encoding.writeVarUint(enc, to)
  encoding.writeVarUint(enc, from)
  encoding.writeUint8Array(enc, payload)
  return encoding.toUint8Array(enc)
}

export function decodePacket(bytes: Uint8Array): { kind: PacketKind; to: number; from: number; payload: Uint8Array } {
  const dec = decoding.createDecoder(bytes)
  const kind = decoding.readUint8(dec) as PacketKind
  const to = decoding.readVarUint(dec)
  const from = decoding.readVarUint(dec)
  return { kind, to, from, payload: decoding.readTailAsUint8Array(dec) }
}
