// The signaling server over real sockets on 127.0.0.1 (port 0): the protocol
// of src/server/protocol.ts, its limits, health, and lifecycle.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from '../../src/server/index'
import { TestClient } from './test-client'

const servers: SignalingServer[] = []
const clients: TestClient[] = []

async function server(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const s = await startSignalingServer({ port: 0, host: '127.0.0.1', ...options })
  servers.push(s)
  return s
}

async function client(s: SignalingServer | string, options: { autoPong?: boolean } = {}): Promise<TestClient> {
  const c = await TestClient.connect(typeof s === 'string' ? s : s.url, options)
  clients.push(c)
  return c
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of servers.splice(0)) await s.close()
})

describe('rooms: join, peers, joined, leave, left', () => {
  it('answers a join with the others in the room and tells them who joined', async () => {
    const s = await server()
    const a = await client(s)
    const b = await client(s)
    expect(await a.join('r', 'alice')).toEqual([])
    expect(await b.join('r', 'bob')).toEqual(['alice'])
    expect(await a.next('joined')).toEqual({ type: 'joined', room: 'r', peer: 'bob' })
  })

  it('tells the others when a peer leaves, and when its socket closes', async () => {
    const s = await server()
    const [a, b, c] = [await client(s), await client(s), await client(s)]
    await a.join('r', 'a')
    await b.join('r', 'b')
    await c.join('r', 'c')
    b.send({ type: 'leave', room: 'r' })
    expect(await a.next('left')).toEqual({ type: 'left', room: 'r', peer: 'b' })
    expect(await c.next('left')).toEqual({ type: 'left', room: 'r', peer: 'b' })
    c.close()
    expect(await a.next('left')).toEqual({ type: 'left', room: 'r', peer: 'c' })
    // b left: it hears nothing about c
    await b.sync()
    expect(b.drain().filter((m) => m.type === 'left')).toEqual([])
  })

  it('lets a peer id that left be taken again, and answers a repeated join again', async () => {
    const s = await server()
    const a = await client(s)
    await a.join('r', 'a')
    expect(await a.join('r', 'a')).toEqual([])
    a.send({ type: 'leave', room: 'r' })
    const b = await client(s)
    await a.sync()
    expect(await b.join('r', 'a')).toEqual([])
  })

  it('answers ping with pong', async () => {
    const a = await client(await server())
    a.send({ type: 'ping' })
    expect(await a.next('pong')).toEqual({ type: 'pong' })
  })
})

describe('signal relay', () => {
  it('forwards data only to `to`, with `from` set by the server', async () => {
    const s = await server()
    const [a, b, c] = [await client(s), await client(s), await client(s)]
    await a.join('r', 'a')
    await b.join('r', 'b')
    await c.join('r', 'c')
    const data = { sdp: 'v=0...', type: 'offer', nested: [1, 2, { x: null }] }
    a.send({ type: 'signal', room: 'r', to: 'b', data })
    expect(await b.next('signal')).toEqual({ type: 'signal', room: 'r', from: 'a', data })
    await c.sync()
    expect(c.drain().filter((m) => m.type === 'signal')).toEqual([])
  })

  it('ignores a spoofed `from`: the receiver sees the sender\'s registered peer id', async () => {
    const s = await server()
    const [a, b] = [await client(s), await client(s)]
    await a.join('r', 'a')
    await b.join('r', 'b')
    a.send({ type: 'signal', room: 'r', to: 'b', from: 'someone-else', data: 'sealed-base64' })
    expect(await b.next('signal')).toEqual({ type: 'signal', room: 'r', from: 'a', data: 'sealed-base64' })
  })

  it('does not relay across rooms', async () => {
    const s = await server()
    const [a, c] = [await client(s), await client(s)]
    await a.join('r1', 'a')
    await c.join('r2', 'c')
    // c is not in r1; a is not in r2
    a.send({ type: 'signal', room: 'r1', to: 'c', data: 'wrong room' })
    expect((await a.next('error')).code).toBe('BAD_MESSAGE')
    a.send({ type: 'signal', room: 'r2', to: 'c', data: 'not joined' })
    expect((await a.next('error')).code).toBe('BAD_MESSAGE')
    // a barrier: the first signal c receives is the one sent after a joined r2
    await a.join('r2', 'a')
    a.send({ type: 'signal', room: 'r2', to: 'c', data: 'ok' })
    expect(await c.next('signal')).toEqual({ type: 'signal', room: 'r2', from: 'a', data: 'ok' })
  })

  it('uses the peer id of the room the signal names, when one socket is in two rooms', async () => {
    const s = await server()
    const [a, b] = [await client(s), await client(s)]
    await a.join('r1', 'a-in-r1')
    await a.join('r2', 'a-in-r2')
    await b.join('r2', 'b')
    a.send({ type: 'signal', room: 'r2', to: 'b', data: 1 })
    expect((await b.next('signal')).from).toBe('a-in-r2')
  })
})

describe('limits', () => {
  it('answers a message over maxMessageBytes with TOO_LARGE and keeps the socket', async () => {
    const s = await server({ limits: { maxMessageBytes: 1024 } })
    const [a, b] = [await client(s), await client(s)]
    await a.join('r', 'a')
    await b.join('r', 'b')
    a.send({ type: 'signal', room: 'r', to: 'b', data: 'x'.repeat(2000) })
    expect((await a.next('error')).code).toBe('TOO_LARGE')
    a.send({ type: 'signal', room: 'r', to: 'b', data: 'small' })
    expect((await b.next('signal')).data).toBe('small')
  })

  it('closes a socket that sends a frame far over the limit (1009)', async () => {
    const s = await server({ limits: { maxMessageBytes: 1024 } })
    const a = await client(s)
    a.send('x'.repeat(10_000))
    expect(await a.closed).toBe(1009)
  })

  it('rate-limits each socket with a token bucket: RATE_LIMITED once the burst is spent, refilled over time', async () => {
    let clock = 0
    const s = await server({ now: () => clock, limits: { messagesPerSecond: 2, messageBurst: 3 } })
    const [a, b] = [await client(s), await client(s)]
    for (let i = 0; i < 4; i++) a.send({ type: 'ping' })
    expect((await a.next('error')).code).toBe('RATE_LIMITED')
    expect(a.drain().filter((m) => m.type === 'pong')).toHaveLength(3)
    // another socket has its own bucket
    await b.sync()
    clock += 500 // one token back at 2/s
    a.send({ type: 'ping' })
    expect(await a.next('pong')).toEqual({ type: 'pong' })
    a.send({ type: 'ping' })
    expect((await a.next('error')).code).toBe('RATE_LIMITED')
  })

  it('refuses a peer beyond maxPeersPerRoom with ROOM_FULL', async () => {
    const s = await server({ limits: { maxPeersPerRoom: 2 } })
    const [a, b, c] = [await client(s), await client(s), await client(s)]
    await a.join('r', 'a')
    await b.join('r', 'b')
    c.send({ type: 'join', room: 'r', peer: 'c' })
    expect(await c.next('error')).toMatchObject({ code: 'ROOM_FULL', room: 'r' })
    // a does not hear of c
    await a.sync()
    expect(a.drain().filter((m) => m.type === 'joined')).toEqual([{ type: 'joined', room: 'r', peer: 'b' }])
  })

  it('refuses a socket more than maxRoomsPerSocket rooms (ROOM_FULL)', async () => {
    const s = await server({ limits: { maxRoomsPerSocket: 2 } })
    const a = await client(s)
    await a.join('r1', 'a')
    await a.join('r2', 'a')
    a.send({ type: 'join', room: 'r3', peer: 'a' })
    expect(await a.next('error')).toMatchObject({ code: 'ROOM_FULL', room: 'r3' })
    a.send({ type: 'leave', room: 'r1' })
    expect(await a.join('r3', 'a')).toEqual([])
  })

  it('refuses a peer id already in the room (DUPLICATE_PEER)', async () => {
    const s = await server()
    const [a, b] = [await client(s), await client(s)]
    await a.join('r', 'same')
    b.send({ type: 'join', room: 'r', peer: 'same' })
    expect(await b.next('error')).toMatchObject({ code: 'DUPLICATE_PEER', room: 'r' })
  })

  it('checks room name and peer id length and charset (BAD_MESSAGE)', async () => {
    const s = await server({ limits: { maxRoomNameLength: 8, maxPeerIdLength: 4 } })
    const a = await client(s)
    for (const bad of [
      { type: 'join', room: 'way-too-long', peer: 'a' },
      { type: 'join', room: 'r', peer: 'toolong' },
      { type: 'join', room: 'r r', peer: 'a' },
      { type: 'join', room: 'r', peer: '<a>' },
      { type: 'join', room: '', peer: 'a' },
      { type: 'join', room: 'r', peer: 42 },
      { type: 'signal', room: 'r', to: 'b' },
      { type: 'teleport' },
      [1, 2],
    ]) {
      a.send(bad)
      expect((await a.next('error')).code).toBe('BAD_MESSAGE')
    }
    expect(await a.join('ok-room', 'a')).toEqual([])
  })

  it('drops a socket that keeps violating the rules (1008)', async () => {
    const s = await server({ limits: { maxViolations: 3 } })
    const a = await client(s)
    for (let i = 0; i < 5; i++) a.send({ type: 'nonsense' })
    expect(await a.closed).toBe(1008)
  })

  it('drops a socket that sends unparsable JSON (1007) or a binary frame (1003)', async () => {
    const s = await server()
    const a = await client(s)
    a.send('{"type": "join", ')
    expect(await a.closed).toBe(1007)
    expect(a.drain()).toContainEqual(expect.objectContaining({ type: 'error', code: 'BAD_MESSAGE' }))
    const b = await client(s)
    b.ws.send(new Uint8Array([1, 2, 3]))
    expect(await b.closed).toBe(1003)
  })

  it('drops a socket that does not answer pings, and its rooms hear it left', async () => {
    const s = await server({ pingIntervalMs: 20 })
    const [alive, dead] = [await client(s), await client(s, { autoPong: false })]
    await alive.join('r', 'alive')
    await dead.join('r', 'dead')
    expect(await alive.next('left')).toEqual({ type: 'left', room: 'r', peer: 'dead' })
    await dead.closed
    // the live socket answered every ping and is still served
    await alive.sync()
  })
})

describe('health', () => {
  it('answers GET /health with ok, rooms, sockets and uptime', async () => {
    const s = await server()
    const a = await client(s)
    await a.join('r1', 'a')
    await a.join('r2', 'a')
    await client(s)
    const res = await fetch(`http://127.0.0.1:${s.port}/health`)
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ ok: true, rooms: 2, sockets: 2 })
    expect(typeof body.uptime).toBe('number')
    expect((await fetch(`http://127.0.0.1:${s.port}/other`)).status).toBe(404)
  })
})

describe('sharing an HTTP server', () => {
  it('takes upgrades on its path only and leaves other requests to the owner', async () => {
    const http: Server = createServer()
    const s = await server({ server: http, path: '/signal' })
    http.on('request', (req, res) => {
      if (req.url === '/health') return s.handleRequest(req, res)
      res.end('the demo')
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const port = (http.address() as AddressInfo).port
    expect(s.port).toBe(port)
    expect(s.url).toBe(`ws://127.0.0.1:${port}/signal`)
    const a = await client(s)
    const b = await client(s)
    await a.join('r', 'a')
    expect(await b.join('r', 'b')).toEqual(['a'])
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('the demo')
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toMatchObject({ ok: true, rooms: 1, sockets: 2 })
    await s.close()
    // closing the signaling server closed its sockets, not the owner's server
    expect(await a.closed).toBe(1001)
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('the demo')
    await new Promise<void>((resolve) => http.close(() => resolve()))
  })
})

describe('lifecycle', () => {
  it('keeps two servers in one process independent', async () => {
    const one = await server()
    const two = await server()
    const [a, b] = [await client(one), await client(two)]
    expect(await a.join('same-room', 'a')).toEqual([])
    expect(await b.join('same-room', 'b')).toEqual([])
    expect(await b.join('same-room', 'b')).toEqual([])
    await a.sync()
    expect(a.drain()).toEqual([])
    expect(one.health()).toMatchObject({ rooms: 1, sockets: 1 })
    await one.close()
    await b.sync()
    expect(two.health()).toMatchObject({ rooms: 1, sockets: 1 })
  })

  it('close() closes every socket (1001) and stops listening', async () => {
    const s = await startSignalingServer({ port: 0, host: '127.0.0.1' })
    const url = s.url
    const [a, b] = [await client(s), await client(s)]
    await a.join('r', 'a')
    await s.close()
    expect(await a.closed).toBe(1001)
    expect(await b.closed).toBe(1001)
    await expect(TestClient.connect(url)).rejects.toThrow()
  })
})

describe('who may connect', () => {
  it('refuses upgrades from origins not in allowOrigins (403) and accepts the listed ones', async () => {
    const s = await server({ allowOrigins: ['https://app.example'] })
    const ok = await TestClient.connect(s.url, { origin: 'https://app.example' })
    clients.push(ok)
    expect(await ok.join('r', 'a')).toEqual([])
    await expect(TestClient.connect(s.url, { origin: 'https://evil.example' })).rejects.toThrow(/403/)
    await expect(TestClient.connect(s.url)).rejects.toThrow(/403/)
  })

  it('refuses sockets beyond maxSockets (503)', async () => {
    const s = await server({ limits: { maxSockets: 1 } })
    await client(s)
    await expect(TestClient.connect(s.url)).rejects.toThrow(/503/)
  })

  it('cuts a socket that does not read what it is sent, and its rooms hear it left', async () => {
    const s = await server({ limits: { maxBufferedBytes: 64 * 1024, messageBurst: 2000, messagesPerSecond: 1 } })
    const [sender, reader, stalled] = [await client(s), await client(s), await client(s)]
    await sender.join('r', 'sender')
    await reader.join('r', 'reader')
    await stalled.join('r', 'stalled')
    // the stalled client stops reading from its TCP socket
    ;(stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const chunk = 'x'.repeat(60 * 1024)
    let left = false
    void reader.next('left').then(() => (left = true))
    // keep sending until the server's queue to it passes the limit (kernel
    // buffers absorb the first few megabytes)
    for (let i = 0; i < 1500 && !left; i++) {
      sender.send({ type: 'signal', room: 'r', to: 'stalled', data: chunk })
      if (i % 50 === 49) await sender.sync()
    }
    expect(left).toBe(true)
    await sender.sync()
    expect(s.health().sockets).toBe(2)
  })
})
