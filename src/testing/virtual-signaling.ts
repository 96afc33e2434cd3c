// Signaling on the simulated network: a room server (like meshkeeper-signal)
// that is a node of the VirtualNetwork, and the SignalingChannel
// (src/transport/signaling.ts) each member's MeshTransport uses to reach it.
// Every message is a hop on the network's reliable ordered streams (a
// WebSocket is TCP), so it takes the network's delays twice (member →
// server → member), stalls while a member is isolated, and is lost to a tab
// that crashed. The server knows a tab's connection by its host's endpoint;
// a channel that closes (or whose tab crashed: the OS closes the socket)
// leaves its room at once, and the room hears that the peer is gone.
import { Listeners } from '../transport/signaling'
import type { SignalData, SignalingChannel } from '../transport/signaling'
import type { PacketKind, PacketReceiver, VirtualHost, VirtualHosts } from './virtual-host'
import { decodePacket, encodePacket, PacketKind as Kind } from './virtual-host'

/** the server's name on the network (not a member id: no member can take it) */
export const SIGNALING_SERVER = '~signaling'

type ToServer = { op: 'join'; room: string; peer: string } | { op: 'signal'; to: string; data: SignalData } | { op: 'leave' }
type ToClient = { op: 'peer'; peer: string; present: boolean } | { op: 'signal'; from: string; data: SignalData }

interface Connection {
  member: string
  endpoint: number
  room: string
  peer: string
}

const SERVER_ENDPOINT = 0
const text = new TextEncoder()
const bytesText = new TextDecoder()

export class VirtualSignalingServer {
  /** room -> signaling id -> connection */
  private readonly rooms = new Map<string, Map<string, Connection>>()
  /** "member#endpoint" -> connection */
  private readonly connections = new Map<string, Connection>()

  constructor(private readonly world: VirtualHosts) {
    world.network.register(SIGNALING_SERVER, (from, bytes) => this.deliver(from, bytes))
  }

  /** a channel for one tab (its host) */
  channel(host: VirtualHost): VirtualSignalingChannel {
    return new VirtualSignalingChannel(host)
  }

  /** signaling ids present in `room` (for tests) */
  present(room: string): string[] {
    return [...(this.rooms.get(room)?.keys() ?? [])].sort()
  }

  /** `member`'s tab died: its sockets closed, which a real server notices at once (TCP), so its rooms hear it left */
  disconnect(member: string): void {
    for (const [key, conn] of [...this.connections]) if (conn.member === member) this.leave(key, conn)
  }

  private deliver(from: string, bytes: Uint8Array): void {
    const p = decodePacket(bytes)
    const msg = JSON.parse(bytesText.decode(p.payload)) as ToServer
    const key = `${from}#${p.from}`
    const conn = this.connections.get(key)
    if (msg.op === 'join') {
      if (conn !== undefined) this.leave(key, conn)
      const room = this.rooms.get(msg.room) ?? new Map<string, Connection>()
      this.rooms.set(msg.room, room)
      const joined: Connection = { member: from, endpoint: p.from, room: msg.room, peer: msg.peer }
      // a peer id joined again (a reconnect) replaces the older connection
      const older = room.get(msg.peer)
      if (older !== undefined) this.connections.delete(`${older.member}#${older.endpoint}`)
      for (const other of room.values()) {
        if (other.peer === msg.peer) continue
        this.send(other, { op: 'peer', peer: msg.peer, present: true })
        this.send(joined, { op: 'peer', peer: other.peer, present: true })
      }
      room.set(msg.peer, joined)
      this.connections.set(key, joined)
      return
    }
    if (conn === undefined) return
    if (msg.op === 'leave') {
      this.leave(key, conn)
      return
    }
    const target = this.rooms.get(conn.room)?.get(msg.to)
    if (target !== undefined) this.send(target, { op: 'signal', from: conn.peer, data: msg.data })
  }

  private leave(key: string, conn: Connection): void {
    this.connections.delete(key)
    const room = this.rooms.get(conn.room)
    if (room?.get(conn.peer) !== conn) return
    room.delete(conn.peer)
    for (const other of room.values()) this.send(other, { op: 'peer', peer: conn.peer, present: false })
    if (room.size === 0) this.rooms.delete(conn.room)
  }

  private send(to: Connection, msg: ToClient): void {
    const key = `${to.member}#${to.endpoint}`
    this.world.network.sendInOrder(SIGNALING_SERVER, to.member, packet(to.endpoint, SERVER_ENDPOINT, msg), () => this.connections.get(key) === to)
  }
}

export class VirtualSignalingChannel implements SignalingChannel, PacketReceiver {
  readonly name = 'virtual'
  readonly endpoint: number
  private readonly peers = new Listeners<[string, boolean]>()
  private readonly signals = new Listeners<[string, SignalData]>()
  private closed = false

  constructor(private readonly host: VirtualHost) {
    this.endpoint = host.world.nextEndpoint()
    host.attach(this.endpoint, this)
  }

  /** the server is reachable (an isolated member's socket is down) */
  get connected(): boolean {
    return !this.closed && this.host.isAlive && !this.host.world.network.isBlocked(this.host.member, SIGNALING_SERVER)
  }

  join(room: string, peer: string): void {
    this.toServer({ op: 'join', room, peer })
  }

  onPeer(fn: (peer: string, present: boolean) => void): () => void {
    return this.peers.add(fn)
  }

  signal(to: string, data: SignalData): void {
    this.toServer({ op: 'signal', to, data })
  }

  onSignal(fn: (from: string, data: SignalData) => void): () => void {
    return this.signals.add(fn)
  }

  close(): void {
    if (this.closed) return
    // said even by a crashed tab: the OS closes its socket
    this.host.world.network.sendInOrder(this.host.member, SIGNALING_SERVER, packet(SERVER_ENDPOINT, this.endpoint, { op: 'leave' }))
    this.closed = true
    this.host.detach(this.endpoint)
    this.peers.clear()
    this.signals.clear()
  }

  receive(kind: PacketKind, from: string, _fromEndpoint: number, payload: Uint8Array): void {
    if (this.closed || kind !== Kind.signaling || from !== SIGNALING_SERVER) return
    const msg = JSON.parse(bytesText.decode(payload)) as ToClient
    if (msg.op === 'peer') this.peers.emit(msg.peer, msg.present)
    else this.signals.emit(msg.from, msg.data)
  }

  private toServer(msg: ToServer): void {
    if (this.closed || !this.host.isAlive) return
    this.host.world.network.sendInOrder(this.host.member, SIGNALING_SERVER, packet(SERVER_ENDPOINT, this.endpoint, msg), () => !this.closed)
  }
}

function packet(to: number, from: number, msg: ToServer | ToClient): Uint8Array {
  return encodePacket(Kind.signaling, to, from, text.encode(JSON.stringify(msg)))
}
