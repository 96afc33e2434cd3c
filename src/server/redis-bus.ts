// The RoomBus over Redis pub/sub (an existing engine, not a home-made one):
// one channel per room, `meshkeeper:room:<room>`. ioredis is an optional peer
// dependency of meshkeeper/server, loaded only when a Redis URL is given, so
// a server without Redis (and every browser bundle) never needs it.
import { parseRoomEvent, type RoomBus, type RoomEvent } from './room-bus'

const PREFIX = 'meshkeeper:room:'

interface RedisClient {
  connect(): Promise<void>
  subscribe(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
  on(event: 'message', fn: (channel: string, message: string) => void): unknown
  on(event: 'error', fn: (err: Error) => void): unknown
  on(event: 'ready' | 'close', fn: () => void): unknown
  quit(): Promise<unknown>
  disconnect(): void
}

export async function connectRedisBus(url: string): Promise<RoomBus> {
  let Redis: new (url: string, options: object) => RedisClient
  try {
    Redis = ((await import('ioredis')) as unknown as { Redis: typeof Redis }).Redis
  } catch {
    throw new Error("startSignalingServer({ redis }) needs the 'ioredis' package: npm install ioredis")
  }
  // the first connection must succeed for the server to start (lazyConnect,
  // then connect()); afterwards ioredis reconnects by itself and re-subscribes.
  // While Redis is down a publish fails at once rather than queue without
  // bound (no offline queue); subscriptions, one per room here, may queue.
  const pub = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  const sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null })
  const errorFns: ((err: Error) => void)[] = []
  const eventFns: ((room: string, event: RoomEvent) => void)[] = []
  const reconnectFns: (() => void)[] = []
  let failing = false
  let connected = false
  const reportFailure = (err: unknown): void => {
    if (failing) return
    failing = true
    for (const fn of errorFns) fn(err instanceof Error ? err : new Error(String(err)))
  }
  // an outage ends when both connections are ready again (a publish needs pub)
  const down = new Set<RedisClient>()
  for (const client of [pub, sub]) {
    client.on('error', reportFailure)
    client.on('close', () => {
      if (connected) down.add(client)
    })
    client.on('ready', () => {
      if (!down.delete(client) || down.size > 0) return
      failing = false
      for (const fn of reconnectFns) fn()
    })
  }
  try {
    await Promise.all([pub.connect(), sub.connect()])
  } catch (err) {
    pub.disconnect()
    sub.disconnect()
    throw new Error(`cannot reach Redis at ${url}: ${String(err)}`)
  }
  connected = true
  sub.on('message', (channel, message) => {
    if (!channel.startsWith(PREFIX)) return
    const event = parseRoomEvent(message)
    if (event === null) return
    for (const fn of eventFns) fn(channel.slice(PREFIX.length), event)
  })
  return {
    subscribe: async (room) => {
      await sub.subscribe(PREFIX + room)
    },
    unsubscribe: (room) => void sub.unsubscribe(PREFIX + room).catch(reportFailure),
    publish: (room, event) => void pub.publish(PREFIX + room, JSON.stringify(event)).catch(reportFailure),
    onEvent: (fn) => void eventFns.push(fn),
    onError: (fn) => void errorFns.push(fn),
    onReconnect: (fn) => void reconnectFns.push(fn),
    close: async () => {
      await Promise.allSettled([pub.quit(), sub.quit()])
    },
  }
}
