// The signaling server (Node): browsers find each other here and exchange
// their WebRTC handshakes, then talk directly. Standalone it owns an HTTP
// server (any path upgrades to the signaling socket, GET /health answers);
// given an existing `server` it handles only upgrades on `path` and leaves
// every other request and upgrade to its owner (which may route /health to
// `handleRequest`), so `npm start` serves the demo and signaling on one port.
//
//   const signaling = await startSignalingServer({ port: 4444 })
//   // clients connect to signaling.url
//   await signaling.close()
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { clientAddress } from './address'
import type { HealthReport, HealthRequest, HealthResponse } from './health'
import { SignalingHub } from './hub'
import { connectRedisBus } from './redis-bus'
import type { RoomBus } from './room-bus'
import { DEFAULT_LIMITS, type SignalingLimits } from './limits'
import { CLOSE_GOING_AWAY } from './protocol'

export type { HealthReport, HealthRequest, HealthResponse } from './health'
export { DEFAULT_LIMITS, type SignalingLimits } from './limits'
export type { ClientMessage, ServerMessage, SignalingErrorCode } from './protocol'

export interface SignalingServerOptions {
  /** port to listen on when the server owns its HTTP server; 0 picks a free one (default 4444) */
  port?: number
  /** interface to listen on when it owns its HTTP server (default: all) */
  host?: string
  /** attach to this HTTP server (a Node `http.Server`) instead of creating one; the caller listens and closes it */
  server?: AttachableServer
  /** the upgrade path; default '/signal' with `server`, any path without */
  path?: string
  limits?: Partial<SignalingLimits>
  /** how often sockets are pinged; one that missed the previous ping is dropped (default 30 s) */
  pingIntervalMs?: number
  /** clock for rate limiting, in ms (default performance.now) */
  now?: () => number
  /** when set, only pages from these origins (e.g. 'https://app.example') may
   *  connect; the Origin header is what a browser cannot forge for a page */
  allowOrigins?: string[]
  /** behind a reverse proxy: count each socket against the address the proxy
   *  appended to X-Forwarded-For, not the proxy's own (default false) */
  trustProxy?: boolean
  /** a Redis URL ('redis://host:6379'): servers given the same Redis share
   *  their rooms through its pub/sub (needs the `ioredis` package); without
   *  it the server runs alone */
  redis?: string
  /** with `redis`: how often this server checks that the peers other servers
   *  announced are still there (default 60 s; also done when Redis comes back) */
  resyncIntervalMs?: number
  /** problems talking to Redis (default: console.error); the server keeps
   *  serving its own sockets meanwhile */
  onError?: (err: Error) => void
}

/** A Node `http.Server`, named by the methods the signaling server calls on
 *  it, so the published types need no @types/node. */
export interface AttachableServer {
  on(event: 'upgrade', listener: (...args: unknown[]) => void): unknown
  off(event: 'upgrade', listener: (...args: unknown[]) => void): unknown
  address(): unknown
}

export interface SignalingServer {
  /** the listening port (0 while an attached server is not yet listening) */
  readonly port: number
  /** ws:// URL clients connect to */
  readonly url: string
  health(): HealthReport
  /** answers GET /health with the HealthReport as JSON, anything else with 404 */
  handleRequest(req: HealthRequest, res: HealthResponse): void
  /** close every socket; and the HTTP server if this server created it */
  close(): Promise<void>
}

export async function startSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const limits: SignalingLimits = { ...DEFAULT_LIMITS, ...options.limits }
  const now = options.now ?? (() => performance.now())
  const startedAt = Date.now()
  const owned = options.server === undefined
  // an attached server is a Node http.Server (the option's type names only
  // what a caller must see, not what this code calls)
  const http = (options.server as Server | undefined) ?? createServer()
  const path = options.path ?? (owned ? null : '/signal')
  let bus: RoomBus | null = null
  if (options.redis !== undefined) {
    bus = await connectRedisBus(options.redis)
    const onError = options.onError ?? ((err: Error) => console.error(`meshkeeper-signal: redis: ${err.message}`))
    bus.onError(onError)
  }
  const hub = new SignalingHub(limits, now, bus === null ? null : { bus, server: randomUUID() })
  const allowOrigins = options.allowOrigins === undefined ? null : new Set(options.allowOrigins)
  // ws closes a frame far beyond the limit itself (code 1009); frames just
  // over it reach the hub, which answers TOO_LARGE and counts a violation.
  // The hub answers pings itself (rate-limited, only to sockets that read).
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes * 4,
    maxFragments: limits.maxFragments,
    autoPong: false,
  })

  const health = (): HealthReport => ({ ok: true, ...hub.stats(), uptime: Math.round((Date.now() - startedAt) / 1000) })

  const handleRequest = (req: HealthRequest, res: HealthResponse): void => {
    if (req.method === 'GET' && pathname(req.url) === '/health') {
      // public and harmless: a status page on another origin may poll it
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' })
      res.end(JSON.stringify(health()))
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // a reset before, during or after the upgrade ends that socket, never the process
    socket.on('error', () => socket.destroy())
    if (path !== null && pathname(req.url) !== path) {
      // another handler of a shared server may want it; an owned server has none
      if (owned) refuse(socket, 404, 'Not Found')
      return
    }
    if (allowOrigins !== null && !allowOrigins.has(req.headers.origin ?? '')) {
      refuse(socket, 403, 'Forbidden')
      return
    }
    if (hub.socketCount >= limits.maxSockets) {
      refuse(socket, 503, 'Service Unavailable')
      return
    }
    const address = clientAddress(req, options.trustProxy ?? false)
    if (hub.socketsFrom(address) >= limits.maxSocketsPerAddress) {
      refuse(socket, 429, 'Too Many Requests')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws, address))
  }

  http.on('upgrade', onUpgrade)
  if (owned) http.on('request', handleRequest)

  const pinger = setInterval(() => hub.heartbeat(), options.pingIntervalMs ?? 30_000)
  pinger.unref()
  // the deadlines are enforced to within a quarter of the shorter one
  const sweepEveryMs = Math.min(1_000, Math.max(25, Math.min(limits.messageDeadlineMs, limits.joinDeadlineMs) / 4))
  const sweeper = setInterval(() => hub.sweep(), sweepEveryMs)
  sweeper.unref()
  // with other servers: a minute's check that the peers they announced are still there
  const resyncer = bus === null ? null : setInterval(() => hub.resync(), options.resyncIntervalMs ?? 60_000)
  resyncer?.unref()

  if (owned) {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(options.port ?? 4444, options.host, () => {
        http.off('error', reject)
        resolve()
      })
    }).catch(async (err: unknown) => {
      clearInterval(pinger)
      clearInterval(sweeper)
      if (resyncer !== null) clearInterval(resyncer)
      await bus?.close()
      throw err
    })
  }

  const port = (): number => {
    const addr = http.address()
    return addr !== null && typeof addr === 'object' ? (addr).port : 0
  }
  const urlHost = (): string => {
    const h = options.host
    if (h === undefined || h === '0.0.0.0' || h === '::') return 'localhost'
    return h.includes(':') ? `[${h}]` : h
  }

  let closing: Promise<void> | null = null
  return {
    get port() {
      return port()
    },
    get url() {
      return `ws://${urlHost()}:${port()}${path ?? ''}`
    },
    health,
    handleRequest,
    close: () =>
      (closing ??= (async () => {
        clearInterval(pinger)
        clearInterval(sweeper)
        if (resyncer !== null) clearInterval(resyncer)
        http.off('upgrade', onUpgrade)
        if (owned) http.off('request', handleRequest)
        await hub.closeAll(CLOSE_GOING_AWAY, 'server closing', 1_000)
        await new Promise<void>((resolve) => wss.close(() => resolve()))
        // after closeAll: the other servers have been told its peers left
        await bus?.close()
        if (owned) {
          http.closeAllConnections()
          await new Promise<void>((resolve) => http.close(() => resolve()))
        }
      })()),
  }
}

function pathname(url: string | undefined): string {
  const q = (url ?? '/').indexOf('?')
  return q < 0 ? (url ?? '/') : (url ?? '/').slice(0, q)
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}
