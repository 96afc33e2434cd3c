// SignalingHub: the rooms and sockets of one signaling server, and the
// protocol of protocol.ts. It never looks inside `data`; it only checks who may
// send what to whom. All state is per instance: two servers in one process
// share nothing.
import { WebSocket, type RawData } from 'ws'
import type { HubStats } from './health'
import { TokenBucket, type SignalingLimits } from './limits'
import {
  CLOSE_INVALID_PAYLOAD,
  CLOSE_POLICY_VIOLATION,
  CLOSE_UNSUPPORTED_DATA,
  parseClientMessage,
  type ServerMessage,
  type SignalingErrorCode,
} from './protocol'

/** One connected socket. */
interface Client {
  ws: WebSocket
  bucket: TokenBucket
  violations: number
  /** room -> the peer id this socket joined it as (the only `from` it can send) */
  rooms: Map<string, string>
  /** answered the last ping */
  alive: boolean
}

export class SignalingHub {
  /** room -> peer id -> client */
  private readonly rooms = new Map<string, Map<string, Client>>()
  private readonly clients = new Set<Client>()

  constructor(
    private readonly limits: SignalingLimits,
    private readonly now: () => number,
  ) {}

  stats(): HubStats {
    return { rooms: this.rooms.size, sockets: this.clients.size }
  }

  get socketCount(): number {
    return this.clients.size
  }

  /** Take charge of a freshly upgraded socket. */
  attach(ws: WebSocket): void {
    const client: Client = {
      ws,
      bucket: new TokenBucket(this.limits.messagesPerSecond, this.limits.messageBurst, this.now),
      violations: 0,
      rooms: new Map(),
      alive: true,
    }
    this.clients.add(client)
    ws.on('message', (data, isBinary) => this.onFrame(client, data, isBinary))
    ws.on('pong', () => {
      client.alive = true
    })
    ws.on('close', () => this.detach(client))
    // a socket error is followed by 'close'; the listener keeps it from being thrown
    ws.on('error', () => ws.terminate())
  }

  /** Ping every socket; drop those that did not answer the previous ping. */
  heartbeat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        c.ws.terminate()
        this.detach(c)
        continue
      }
      c.alive = false
      try {
        c.ws.ping()
      } catch {
        // the socket is closing; its 'close' event detaches it
      }
    }
  }

  /** Close every socket (server shutdown): a close frame to each, and after
   *  `graceMs` the sockets whose clients did not answer it are cut. */
  async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
    const sockets = [...this.clients].map((c) => c.ws)
    for (const c of [...this.clients]) this.detach(c)
    const closed = sockets.map(
      (ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve()))),
    )
    for (const ws of sockets) ws.close(code, reason)
    const grace = setTimeout(() => {
      for (const ws of sockets) ws.terminate()
    }, graceMs)
    await Promise.all(closed)
    clearTimeout(grace)
  }

  private onFrame(c: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.drop(c, CLOSE_UNSUPPORTED_DATA, 'BAD_MESSAGE', 'binary frames are not part of the protocol')
    if (!c.bucket.take()) return this.violation(c, 'RATE_LIMITED', 'too many messages')
    const bytes = rawLength(data)
    if (bytes > this.limits.maxMessageBytes) return this.violation(c, 'TOO_LARGE', `message of ${bytes} bytes exceeds ${this.limits.maxMessageBytes}`)
    let value: unknown
    try {
      value = JSON.parse(rawText(data))
    } catch {
      return this.drop(c, CLOSE_INVALID_PAYLOAD, 'BAD_MESSAGE', 'unparsable JSON')
    }
    const parsed = parseClientMessage(value, this.limits)
    if (!parsed.ok) return this.violation(c, 'BAD_MESSAGE', parsed.reason)
    const m = parsed.message
    switch (m.type) {
      case 'ping':
        return this.send(c, { type: 'pong' })
      case 'join':
        return this.join(c, m.room, m.peer)
      case 'leave':
        return this.leave(c, m.room)
      case 'signal':
        return this.relay(c, m.room, m.to, m.data)
    }
  }

  private join(c: Client, room: string, peer: string): void {
    const members = this.rooms.get(room)
    const current = c.rooms.get(room)
    if (current !== undefined) {
      if (current !== peer) return this.error(c, 'BAD_MESSAGE', `already in this room as ${current}`, room)
      // a repeated join is answered again, idempotently
      return this.send(c, { type: 'peers', room, peers: othersIn(members, peer) })
    }
    if (c.rooms.size >= this.limits.maxRoomsPerSocket) {
      return this.error(c, 'ROOM_FULL', `a socket may be in at most ${this.limits.maxRoomsPerSocket} rooms`, room)
    }
    if (members?.has(peer)) return this.error(c, 'DUPLICATE_PEER', `peer ${peer} is already in the room`, room)
    if (members !== undefined && members.size >= this.limits.maxPeersPerRoom) {
      return this.error(c, 'ROOM_FULL', `the room holds at most ${this.limits.maxPeersPerRoom} peers`, room)
    }
    const others = othersIn(members, peer)
    const peers = members ?? new Map<string, Client>()
    peers.set(peer, c)
    this.rooms.set(room, peers)
    c.rooms.set(room, peer)
    this.send(c, { type: 'peers', room, peers: others })
    for (const [p, other] of peers) if (p !== peer) this.send(other, { type: 'joined', room, peer })
  }

  private leave(c: Client, room: string): void {
    const peer = c.rooms.get(room)
    if (peer === undefined) return
    c.rooms.delete(room)
    const members = this.rooms.get(room)
    if (members === undefined) return
    members.delete(peer)
    if (members.size === 0) this.rooms.delete(room)
    for (const other of members.values()) this.send(other, { type: 'left', room, peer })
  }

  private relay(c: Client, room: string, to: string, data: unknown): void {
    const from = c.rooms.get(room)
    if (from === undefined) return this.violation(c, 'BAD_MESSAGE', 'signal to a room this socket has not joined', room)
    const target = this.rooms.get(room)?.get(to)
    // the target may have just left: a race, not misbehaviour
    if (target === undefined) return this.error(c, 'BAD_MESSAGE', `no peer ${to} in the room`, room)
    this.send(target, { type: 'signal', room, from, data })
  }

  private detach(c: Client): void {
    if (!this.clients.delete(c)) return
    for (const room of [...c.rooms.keys()]) this.leave(c, room)
  }

  private violation(c: Client, code: SignalingErrorCode, message: string, room?: string): void {
    c.violations++
    if (c.violations > this.limits.maxViolations) return this.drop(c, CLOSE_POLICY_VIOLATION, code, `${message}; too many violations`)
    this.error(c, code, message, room)
  }

  /** Tell the client why, then close its socket with `closeCode`. */
  private drop(c: Client, closeCode: number, code: SignalingErrorCode, message: string): void {
    this.error(c, code, message)
    c.ws.close(closeCode, message.slice(0, 120))
    this.detach(c)
  }

  private error(c: Client, code: SignalingErrorCode, message: string, room?: string): void {
    this.send(c, room === undefined ? { type: 'error', code, message } : { type: 'error', code, message, room })
  }

  private send(c: Client, msg: ServerMessage): void {
    if (c.ws.readyState !== WebSocket.OPEN) return
    if (c.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      // it does not read what it is sent: cut it, and 'close' tells its rooms
      c.ws.terminate()
      return
    }
    c.ws.send(JSON.stringify(msg), (err) => {
      // a failed send means a broken socket: end it, and 'close' detaches it
      if (err) c.ws.terminate()
    })
  }
}

function othersIn(members: Map<string, Client> | undefined, self: string): string[] {
  return members === undefined ? [] : [...members.keys()].filter((p) => p !== self)
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0)
  return data.byteLength
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
