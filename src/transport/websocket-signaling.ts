// Signaling through a WebSocket signaling server (src/server; the protocol is
// in src/server/protocol.ts): JSON text frames
//   → { type: 'join', room, peer }      ← { type: 'peers', room, peers }
//                                        ← { type: 'joined' | 'left', room, peer }
//   → { type: 'signal', room, to, data } ← { type: 'signal', room, from, data }
//   → { type: 'leave', room }
//   → { type: 'ping' }                   ← { type: 'pong' }
//                                        ← { type: 'error', code, message }
// One channel per server URL (`websocketSignaling(urls)` makes several); a
// lost connection is re-made with exponential backoff and the room re-joined,
// and a connection that stays silent past `silenceTimeoutMs` is presumed dead.
// A sibling (sibling()) is another room on the same socket: it sends through
// its host's socket, is joined again at each of its opens, and is handed the
// frames of its room.
// The server is untrusted like any peer: every frame is checked.
// Its timers run on the clock it is given and its backoff jitter comes from
// the random it is given (real time and Math.random by default), so a
// simulator can drive it.
import { realClock } from '../shared/clock'
import type { Clock, TimerHandle } from '../shared/clock'
import { scanJson } from './json-scan'
import { platformRandom } from './randomness'
import { isPlainObject, Listeners, SIGNAL_ID_PATTERN } from './signaling'
import type { SignalData, SignalingChannel } from './signaling'

/** The slice of the WebSocket API we use (browser WebSocket, or `ws` in Node). */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((ev: never) => void) | null
  onclose: ((ev: never) => void) | null
  onerror: ((ev: never) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

export interface WebSocketSignalingOptions {
  /** WebSocket implementation (default: globalThis.WebSocket; pass `ws` in Node 20) */
  WebSocket?: WebSocketConstructor
  /** reconnect backoff base and cap in ms (default 500 ms, 30 s) */
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** ping cadence (default 15 s); silence for `silenceTimeoutMs` (default 40 s) drops the socket */
  pingIntervalMs?: number
  silenceTimeoutMs?: number
  /** an error frame from the server, a malformed frame, or a server that
   *  cannot be reached (UNAVAILABLE, once per outage); also `onError()` */
  onError?: (code: string, message: string) => void
  /** timers and time (default: real time) */
  clock?: Clock
  /** uniform in [0, 1), for reconnect jitter (default Math.random) */
  random?: () => number
}

const OPEN = 1
const MAX_FRAME_CHARS = 256 * 1024
/** a frame's nesting: a signal is ~5 deep; thousands would overflow the stack
 *  of whatever walks the value (signal-parse.ts) */
const MAX_FRAME_DEPTH = 32
/** what a server may call an error: a code like ours, a message of some length */
const ERROR_CODE = /^[A-Z][A-Z_]{0,31}$/
const MAX_ERROR_MESSAGE = 200
const validId = (x: unknown): x is string => typeof x === 'string' && SIGNAL_ID_PATTERN.test(x)

export class WebSocketSignaling implements SignalingChannel {
  readonly name: string
  private socket: WebSocketLike | null = null
  private room: string | null = null
  private self: string | null = null
  private closed = false
  private attempts = 0
  private reconnectTimer: TimerHandle | null = null
  private pingTimer: TimerHandle | null = null
  private lastHeard = 0
  /** peers the server told us are in the room (to report who vanished after a reconnect) */
  private present = new Set<string>()
  private readonly peers = new Listeners<[string, boolean]>()
  private readonly signals = new Listeners<[string, SignalData]>()
  /** a sibling's host: the channel whose socket it shares */
  private host: WebSocketSignaling | null = null
  /** a host's siblings */
  private readonly guests = new Set<WebSocketSignaling>()
  private readonly errors = new Listeners<[string, string]>()
  /** the current outage (attempts that did not open) has been reported */
  private outageReported = false
  private readonly clock: Clock
  private readonly random: () => number

  constructor(
    readonly url: string,
    private readonly opts: WebSocketSignalingOptions = {},
  ) {
    this.name = url
    this.clock = opts.clock ?? realClock
    this.random = opts.random ?? platformRandom
  }

  /** true while the socket is open and the room joined */
  get connected(): boolean {
    return this.host !== null ? this.host.connected : this.socket?.readyState === OPEN
  }

  join(room: string, peer: string): void {
    if (this.room !== null) throw new Error('WebSocketSignaling: already joined')
    this.room = room
    this.self = peer
    // a sibling joins now if the socket is open, else at its next open
    if (this.host !== null) this.host.send({ type: 'join', room, peer })
    else this.connect()
  }

  /** another room on this socket (the protocol lets a socket join several) */
  sibling(): SignalingChannel {
    const host = this.host ?? this
    const guest = new WebSocketSignaling(this.url, this.opts)
    guest.host = host
    host.guests.add(guest)
    return guest
  }

  onPeer(fn: (peer: string, present: boolean) => void): () => void {
    return this.peers.add(fn)
  }

  onSignal(fn: (from: string, data: SignalData) => void): () => void {
    return this.signals.add(fn)
  }

  /** What goes wrong with this server: `code` is a MeshError code
   *  (UNAVAILABLE: it cannot be reached, reported after the first failed
   *  attempt of an outage; retries go on quietly) or a code the server sent. */
  onError(fn: (code: string, message: string) => void): () => void {
    return this.errors.add(fn)
  }

  signal(to: string, data: SignalData): void {
    if (this.room !== null) this.send({ type: 'signal', room: this.room, to, data })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.room !== null) this.send({ type: 'leave', room: this.room })
    // siblings leave while the socket is still open
    for (const guest of [...this.guests]) guest.close()
    this.host?.guests.delete(this)
    this.stopTimers()
    const socket = this.socket
    this.socket = null
    if (socket !== null) closeQuietly(socket, 1000, 'leaving')
    this.peers.clear()
    this.signals.clear()
    this.errors.clear()
  }

  private connect(): void {
    if (this.closed) return
    const Ctor = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (Ctor === undefined) {
      this.report('BAD_ARGUMENTS', 'no WebSocket implementation: pass options.WebSocket')
      return
    }
    let socket: WebSocketLike
    try {
      socket = new Ctor(this.url)
    } catch (err) {
      // a URL that does not parse (or is forbidden here) never will: no retry
      this.report('BAD_ARGUMENTS', `cannot open signaling ${this.url}: ${String(err)}`)
      return
    }
    this.socket = socket
    let opened = false
    socket.onopen = () => {
      opened = true
      this.attempts = 0
      this.outageReported = false
      this.lastHeard = this.clock.now()
      if (this.room !== null && this.self !== null) this.send({ type: 'join', room: this.room, peer: this.self })
      for (const g of this.guests) if (g.room !== null && g.self !== null) this.send({ type: 'join', room: g.room, peer: g.self })
      this.startPing()
    }
    socket.onmessage = (ev) => {
      this.lastHeard = this.clock.now()
      this.receive(ev.data)
    }
    socket.onerror = () => {
      // onclose follows
    }
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = null
      if (!opened && !this.outageReported) {
        this.outageReported = true
        this.report('UNAVAILABLE', `signaling server ${this.url} cannot be reached; retrying`)
      }
      this.stopTimers()
      this.scheduleReconnect()
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return
    const base = this.opts.backoffBaseMs ?? 500
    const max = this.opts.backoffMaxMs ?? 30_000
    const delay = Math.min(max, base * 2 ** Math.min(this.attempts, 16)) * (0.5 + this.random() / 2)
    this.attempts++
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = null
      this.connect()
    }, delay)
  }

  private startPing(): void {
    this.stopPing()
    const every = this.opts.pingIntervalMs ?? 15_000
    const silence = this.opts.silenceTimeoutMs ?? 40_000
    // every `every` ms until stopped (a Clock has timeouts only: each tick arms the next)
    const tick = (): void => {
      this.pingTimer = this.clock.setTimeout(() => {
        this.pingTimer = null
        if (this.clock.now() - this.lastHeard > silence) {
          // a half-open connection: drop it, onclose reconnects
          const socket = this.socket
          if (socket !== null) {
            this.socket = null
            closeQuietly(socket, 4000, 'silent')
            this.stopTimers()
            this.scheduleReconnect()
          }
          return
        }
        tick()
        this.send({ type: 'ping' })
      }, every)
    }
    tick()
  }

  private stopPing(): void {
    if (this.pingTimer !== null) this.clock.clearTimeout(this.pingTimer)
    this.pingTimer = null
  }

  private stopTimers(): void {
    this.stopPing()
    if (this.closed && this.reconnectTimer !== null) {
      this.clock.clearTimeout(this.reconnectTimer)
      this.reconnectTimer = null
    }
  }

  private send(msg: object): void {
    if (this.host !== null) {
      this.host.send(msg)
      return
    }
    const socket = this.socket
    if (socket?.readyState !== OPEN) return // best effort: the transport retries
    try {
      socket.send(JSON.stringify(msg))
    } catch {
      // closing under us; onclose reconnects
    }
  }

  private report(code: string, message: string): void {
    this.opts.onError?.(code, message)
    this.errors.emit(code, message)
  }

  private receive(raw: unknown): void {
    if (typeof raw !== 'string' || raw.length > MAX_FRAME_CHARS) {
      this.report('BAD_MESSAGE', 'non-text or oversized frame')
      return
    }
    let msg: unknown
    try {
      msg = JSON.parse(raw)
    } catch {
      this.report('BAD_MESSAGE', 'frame is not JSON')
      return
    }
    // measured on the text, in a loop, before anything walks the value
    if (scanJson(raw, MAX_FRAME_DEPTH).depth > MAX_FRAME_DEPTH) {
      this.report('BAD_MESSAGE', `frame nested deeper than ${MAX_FRAME_DEPTH}`)
      return
    }
    if (!isPlainObject(msg)) {
      this.report('BAD_MESSAGE', 'frame is not an object')
      return
    }
    if (msg.type === 'pong') return
    if (msg.type === 'error') {
      // the server's words are untrusted too: a code of ours, a short message
      if (typeof msg.code !== 'string' || !ERROR_CODE.test(msg.code)) {
        this.report('BAD_MESSAGE', 'error frame without a valid code')
        return
      }
      this.report(msg.code, typeof msg.message === 'string' ? msg.message.slice(0, MAX_ERROR_MESSAGE) : '')
      return
    }
    if (msg.room !== this.room) {
      for (const g of this.guests) if (g.room !== null && g.room === msg.room) g.inRoom(msg)
      return
    }
    this.inRoom(msg)
  }

  /** a frame of this channel's room */
  private inRoom(msg: Record<string, unknown>): void {
    switch (msg.type) {
      case 'peers': {
        if (!Array.isArray(msg.peers)) return
        const now = new Set(msg.peers.filter((p): p is string => validId(p) && p !== this.self))
        // after a reconnect, whoever is no longer listed has left meanwhile
        for (const p of this.present) if (!now.has(p)) this.peers.emit(p, false)
        this.present = now
        for (const p of now) this.peers.emit(p, true)
        return
      }
      case 'joined':
        if (validId(msg.peer) && msg.peer !== this.self) {
          this.present.add(msg.peer)
          this.peers.emit(msg.peer, true)
        }
        return
      case 'left':
        if (validId(msg.peer)) {
          this.present.delete(msg.peer)
          this.peers.emit(msg.peer, false)
        }
        return
      case 'signal':
        if (validId(msg.from) && isPlainObject(msg.data)) this.signals.emit(msg.from, msg.data)
        return
    }
  }
}

/** Close a socket in whatever state it is, and hear nothing more from it: a
 *  socket closed while connecting throws (ws: "WebSocket was closed before the
 *  connection was established") or reports an error later, and neither may
 *  escape (an 'error' event without a listener is thrown by Node). */
function closeQuietly(socket: WebSocketLike, code: number, reason: string): void {
  socket.onopen = null
  socket.onclose = null
  socket.onmessage = null
  socket.onerror = () => { /* a late error of a socket we gave up: swallowed (see above) */ }
  try {
    socket.close(code, reason)
  } catch {
    // closed enough: it will not be used again
  }
}

/** One channel per signaling server URL. */
export function websocketSignaling(urls: string | string[], opts: WebSocketSignalingOptions = {}): WebSocketSignaling[] {
  return (Array.isArray(urls) ? urls : [urls]).map((url) => new WebSocketSignaling(url, opts))
}
