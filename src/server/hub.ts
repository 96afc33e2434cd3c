// SignalingHub: the rooms and sockets of one signaling server, and the
// protocol of protocol.ts. It never looks inside `data`: it checks who may send
// what to whom, and relays the text of `data` as the sender wrote it (spliced,
// never re-serialised: a value nested thousands deep would overflow the stack
// of JSON.stringify). No socket can throw out of its handlers: whatever goes
// wrong with one socket ends that socket, never the process. All state is per
// instance: two servers in one process share nothing. The other servers
// sharing its rooms over a bus are room-federation.ts's business.
import { WebSocket, type RawData } from 'ws'
import { scanJson } from '../transport/json-scan'
import type { HubStats } from './health'
import { TokenBucket, type SignalingLimits } from './limits'
import {
  CLOSE_INTERNAL_ERROR,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_POLICY_VIOLATION,
  CLOSE_UNSUPPORTED_DATA,
  encodeRelayedSignal,
  parseClientMessage,
  type ServerMessage,
  type SignalingErrorCode,
} from './protocol'
import type { RoomBus } from './room-bus'
import { RoomFederation } from './room-federation'
import { closeQuietly, rawLength, rawText } from './socket'
import { messageInProgress } from './unfinished-message'

/** How long a dropped socket has to answer our close frame. */
const DROP_GRACE_MS = 1_000

/** One connected socket. */
interface Client {
  ws: WebSocket
  /** the remote address its share is counted against (address.ts) */
  address: string
  bucket: TokenBucket
  violations: number
  /** room -> the peer id this socket joined it as (the only `from` it can send) */
  rooms: Map<string, string>
  /** answered the last ping */
  alive: boolean
  connectedAt: number
  /** has joined a room at least once (before that, joinDeadlineMs runs) */
  joined: boolean
  /** when a sweep first saw a message of it begun and unfinished; null when none is */
  unfinishedSince: number | null
}

export class SignalingHub {
  /** room -> peer id -> client */
  private readonly rooms = new Map<string, Map<string, Client>>()
  private readonly clients = new Set<Client>()
  /** remote address -> its sockets */
  private readonly perAddress = new Map<string, number>()
  /** with a bus: the other servers sharing the rooms */
  private readonly federation: RoomFederation<Client> | null

  constructor(
    private readonly limits: SignalingLimits,
    private readonly now: () => number,
    /** other servers sharing the rooms, and this server's id on the bus */
    bus: { bus: RoomBus; server: string } | null = null,
  ) {
    this.federation =
      bus === null ? null : new RoomFederation(bus.bus, bus.server, this.rooms, (c, msg) => this.send(c, msg), limits.maxPeersPerRoom, now)
  }

  /** Resync the rooms with the other servers (room-federation.ts); called every minute (index.ts). */
  resync(): void {
    this.federation?.resync()
  }

  stats(): HubStats {
    let bufferedBytes = 0
    for (const c of this.clients) bufferedBytes += c.ws.bufferedAmount
    return { rooms: this.rooms.size, sockets: this.clients.size, bufferedBytes }
  }

  get socketCount(): number {
    return this.clients.size
  }

  /** sockets connected from `address` now */
  socketsFrom(address: string): number {
    return this.perAddress.get(address) ?? 0
  }

  /** Take charge of a freshly upgraded socket from `address`. */
  attach(ws: WebSocket, address: string): void {
    const client: Client = {
      ws,
      address,
      bucket: new TokenBucket(this.limits.messagesPerSecond, this.limits.messageBurst, this.now),
      violations: 0,
      rooms: new Map(),
      alive: true,
      connectedAt: this.now(),
      joined: false,
      unfinishedSince: null,
    }
    this.clients.add(client)
    this.perAddress.set(address, this.socketsFrom(address) + 1)
    ws.on('message', (data, isBinary) => this.guard(client, () => this.onFrame(client, data, isBinary)))
    ws.on('ping', (data) => this.guard(client, () => this.onPing(client, data)))
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
        this.cut(c)
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

  /** Enforce the deadlines: a first join within joinDeadlineMs, a message
   *  begun finished within messageDeadlineMs. Called often (index.ts). */
  sweep(): void {
    const now = this.now()
    this.federation?.expire(now)
    for (const c of [...this.clients]) {
      if (!c.joined && now - c.connectedAt > this.limits.joinDeadlineMs) {
        this.drop(c, CLOSE_POLICY_VIOLATION, 'BAD_MESSAGE', 'no room joined in time')
        continue
      }
      if (!messageInProgress(c.ws)) c.unfinishedSince = null
      else if (c.unfinishedSince === null) c.unfinishedSince = now
      else if (now - c.unfinishedSince > this.limits.messageDeadlineMs) this.drop(c, CLOSE_POLICY_VIOLATION, 'BAD_MESSAGE', 'message not finished in time')
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
    for (const ws of sockets) closeQuietly(ws, code, reason)
    const grace = setTimeout(() => {
      for (const ws of sockets) ws.terminate()
    }, graceMs)
    await Promise.all(closed)
    clearTimeout(grace)
  }

  /** Run a socket's handler; a throw (a bug, or input we did not foresee)
   *  ends that socket and never reaches the process. */
  private guard(c: Client, handle: () => void): void {
    try {
      handle()
    } catch {
      this.drop(c, CLOSE_INTERNAL_ERROR, 'BAD_MESSAGE', 'the server could not handle this message')
    }
  }

  private onFrame(c: Client, data: RawData, isBinary: boolean): void {
    c.unfinishedSince = null
    if (isBinary) {
      this.drop(c, CLOSE_UNSUPPORTED_DATA, 'BAD_MESSAGE', 'binary frames are not part of the protocol')
      return
    }
    if (!c.bucket.take()) {
      this.violation(c, 'RATE_LIMITED', 'too many messages')
      return
    }
    const bytes = rawLength(data)
    if (bytes > this.limits.maxMessageBytes) {
      this.violation(c, 'TOO_LARGE', `message of ${bytes} bytes exceeds ${this.limits.maxMessageBytes}`)
      return
    }
    const text = rawText(data)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      this.drop(c, CLOSE_INVALID_PAYLOAD, 'BAD_MESSAGE', 'unparsable JSON')
      return
    }
    // measured on the text, without recursion, before anything walks the value
    const scan = scanJson(text, this.limits.maxJsonDepth)
    if (scan.depth > this.limits.maxJsonDepth) {
      this.violation(c, 'BAD_MESSAGE', `nested deeper than ${this.limits.maxJsonDepth}`)
      return
    }
    const parsed = parseClientMessage(value, this.limits)
    if (!parsed.ok) {
      this.violation(c, 'BAD_MESSAGE', parsed.reason)
      return
    }
    const m = parsed.message
    switch (m.type) {
      case 'ping':
        {
          this.send(c, { type: 'pong' })
          return
        }
      case 'join':
        {
          this.join(c, m.room, m.peer)
          return
        }
      case 'leave':
        {
          this.leave(c, m.room)
          return
        }
      case 'signal': {
        // parseClientMessage saw `data`, so the scan found its text
        const span = scan.members.get('data')!
        this.relay(c, m.room, m.to, text.slice(span.start, span.end))
        return
      }
    }
  }

  /** A control-frame ping costs a token like a message, and its pong is queued
   *  only to a socket that reads (ws's automatic pong is off: index.ts). */
  private onPing(c: Client, data: Buffer): void {
    if (!c.bucket.take()) {
      this.violation(c, 'RATE_LIMITED', 'too many pings')
      return
    }
    if (!this.hasRoom(c)) return
    c.ws.pong(data)
  }

  private join(c: Client, room: string, peer: string): void {
    const members = this.rooms.get(room)
    const current = c.rooms.get(room)
    if (current !== undefined) {
      if (current !== peer) {
        this.error(c, 'BAD_MESSAGE', `already in this room as ${current}`, room)
        return
      }
      // a repeated join is answered again, idempotently
      this.send(c, { type: 'peers', room, peers: othersIn(members, peer) })
      return
    }
    if (c.rooms.size >= this.limits.maxRoomsPerSocket) {
      this.error(c, 'ROOM_FULL', `a socket may be in at most ${this.limits.maxRoomsPerSocket} rooms`, room)
      return
    }
    const elsewhere = this.federation?.elsewhere(room)
    if (members?.has(peer) || elsewhere?.has(peer)) {
      this.error(c, 'DUPLICATE_PEER', `peer ${peer} is already in the room`, room)
      return
    }
    if ((members?.size ?? 0) + (elsewhere?.size ?? 0) >= this.limits.maxPeersPerRoom) {
      this.error(c, 'ROOM_FULL', `the room holds at most ${this.limits.maxPeersPerRoom} peers`, room)
      return
    }
    if (members !== undefined && countFrom(members, c.address) >= this.limits.maxRoomPeersPerAddress) {
      this.error(c, 'ROOM_FULL', `the room holds at most ${this.limits.maxRoomPeersPerAddress} peers from one address`, room)
      return
    }
    const others = [...othersIn(members, peer), ...(elsewhere?.keys() ?? [])]
    const peers = members ?? new Map<string, Client>()
    peers.set(peer, c)
    this.rooms.set(room, peers)
    c.rooms.set(room, peer)
    c.joined = true
    this.send(c, { type: 'peers', room, peers: others })
    for (const [p, other] of peers) if (p !== peer) this.send(other, { type: 'joined', room, peer })
    this.federation?.joined(room, peer, members === undefined)
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
    this.federation?.left(room, peer, members.size === 0)
  }

  /** Relay `dataText` (the JSON text of the sender's `data`, as it wrote it). */
  private relay(c: Client, room: string, to: string, dataText: string): void {
    const from = c.rooms.get(room)
    if (from === undefined) {
      this.violation(c, 'BAD_MESSAGE', 'signal to a room this socket has not joined', room)
      return
    }
    const target = this.rooms.get(room)?.get(to)
    if (target !== undefined) {
      this.send(target, encodeRelayedSignal(room, from, dataText))
      return
    }
    if (this.federation?.relay(room, to, from, dataText) === true) return
    // the target may have just left: a race, not misbehaviour
    this.error(c, 'BAD_MESSAGE', `no peer ${to} in the room`, room)
  }

  private detach(c: Client): void {
    if (!this.clients.delete(c)) return
    const left = this.socketsFrom(c.address) - 1
    if (left > 0) this.perAddress.set(c.address, left)
    else this.perAddress.delete(c.address)
    for (const room of [...c.rooms.keys()]) this.leave(c, room)
  }

  private violation(c: Client, code: SignalingErrorCode, message: string, room?: string): void {
    c.violations++
    if (c.violations > this.limits.maxViolations) {
      this.drop(c, CLOSE_POLICY_VIOLATION, code, `${message}; too many violations`)
      return
    }
    this.error(c, code, message, room)
  }

  /** Tell the client why, then close its socket with `closeCode`. A client
   *  that does not answer the close frame is cut after DROP_GRACE_MS (ws would
   *  wait 30 s), so dropped sockets cannot pile up beyond their address's share. */
  private drop(c: Client, closeCode: number, code: SignalingErrorCode, message: string): void {
    this.error(c, code, message)
    closeQuietly(c.ws, closeCode, message.slice(0, 120))
    this.detach(c)
    setTimeout(() => c.ws.terminate(), DROP_GRACE_MS).unref()
  }

  /** End a socket at once, without a word (it does not read, or is broken);
   *  its rooms hear it left now, not when its TCP connection finally closes. */
  private cut(c: Client): void {
    c.ws.terminate()
    this.detach(c)
  }

  private error(c: Client, code: SignalingErrorCode, message: string, room?: string): void {
    this.send(c, room === undefined ? { type: 'error', code, message } : { type: 'error', code, message, room })
  }

  /** Whether `c` may be sent more: one that does not read what it is sent is
   *  cut before the server holds more than maxBufferedBytes (+ one message) for it. */
  private hasRoom(c: Client): boolean {
    if (c.ws.readyState !== WebSocket.OPEN) return false
    if (c.ws.bufferedAmount <= this.limits.maxBufferedBytes) return true
    this.cut(c)
    return false
  }

  private send(c: Client, msg: ServerMessage | string): void {
    if (!this.hasRoom(c)) return
    try {
      c.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg), (err) => {
        // a failed send means a broken socket: end it
        if (err) this.cut(c)
      })
    } catch {
      this.cut(c)
    }
  }
}

function countFrom(members: Map<string, Client>, address: string): number {
  let n = 0
  for (const c of members.values()) if (c.address === address) n++
  return n
}

function othersIn(members: Map<string, Client> | undefined, self: string): string[] {
  return members === undefined ? [] : [...members.keys()].filter((p) => p !== self)
}
