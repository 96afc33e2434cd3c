// WebSocketSignaling against a scripted in-test server: what it sends, and
// that a hostile or broken server's frames are refused without a throw.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { WebSocketSignaling } from '../../src/transport/websocket-signaling'
import type { WebSocketConstructor } from '../../src/transport/websocket-signaling'
import { createMeshTransport } from '../../src/transport/create'
import type { TransportError } from '../../src/transport/errors'
import { toMeshError } from '../../src/shared/errors'
import { namedKeys } from './identities'

const cleanup: Array<() => void> = []
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn()
})

async function scriptedServer() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const received: unknown[] = []
  const sockets: WebSocket[] = []
  wss.on('connection', (socket) => {
    sockets.push(socket)
    socket.on('message', (raw) => received.push(JSON.parse(String(raw))))
  })
  cleanup.push(() => {
    for (const s of sockets) s.terminate()
    wss.close()
  })
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  return { wss, url, received, sockets, push: (frame: unknown) => sockets.at(-1)!.send(typeof frame === 'string' ? frame : JSON.stringify(frame)) }
}

function channel(url: string) {
  const errors: string[] = []
  const ch = new WebSocketSignaling(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, backoffBaseMs: 20, backoffMaxMs: 100, onError: (code) => errors.push(code) })
  const events: string[] = []
  ch.onPeer((p, present) => events.push(`${present ? '+' : '-'}${p}`))
  ch.onSignal((from, data) => events.push(`signal ${from} ${JSON.stringify(data)}`))
  cleanup.push(() => ch.close())
  return { ch, errors, events }
}

describe('WebSocketSignaling speaks the server protocol', () => {
  it('joins on connect, reports peers, joined, left and signals of its room, sends signals and leaves', async () => {
    const srv = await scriptedServer()
    const { ch, events } = channel(srv.url)
    ch.join('room1', 'me/t')
    await expect.poll(() => srv.received).toEqual([{ type: 'join', room: 'room1', peer: 'me/t' }])
    srv.push({ type: 'peers', room: 'room1', peers: ['a/t', 'me/t'] })
    srv.push({ type: 'joined', room: 'room1', peer: 'b/t' })
    srv.push({ type: 'joined', room: 'other-room', peer: 'x/t' })
    srv.push({ type: 'signal', room: 'room1', from: 'a/t', data: { k: 1 } })
    srv.push({ type: 'left', room: 'room1', peer: 'a/t' })
    await expect.poll(() => events).toEqual(['+a/t', '+b/t', 'signal a/t {"k":1}', '-a/t'])
    ch.signal('b/t', { hello: true })
    await expect.poll(() => srv.received.length).toBe(2)
    expect(srv.received[1]).toEqual({ type: 'signal', room: 'room1', to: 'b/t', data: { hello: true } })
    ch.close()
    await expect.poll(() => srv.received.length).toBe(3)
    expect(srv.received[2]).toEqual({ type: 'leave', room: 'room1' })
  })

  it('refuses malformed frames and reports server errors, without throwing', async () => {
    const srv = await scriptedServer()
    const { ch, errors, events } = channel(srv.url)
    ch.join('room1', 'me/t')
    await expect.poll(() => srv.received.length).toBe(1)
    srv.push('not json')
    srv.push('[1,2]')
    srv.push({ type: 'signal', room: 'room1', from: 'bad id with spaces', data: {} })
    srv.push({ type: 'signal', room: 'room1', from: 'a/t', data: 'not an object' })
    srv.push({ type: 'peers', room: 'room1', peers: 'nope' })
    srv.push({ type: 'error', code: 'RATE_LIMITED', message: 'slow down' })
    srv.push({ type: 'joined', room: 'room1', peer: 'ok/t' })
    await expect.poll(() => events).toEqual(['+ok/t'])
    expect(errors).toEqual(['BAD_MESSAGE', 'BAD_MESSAGE', 'RATE_LIMITED'])
    expect(ch.connected).toBe(true)
  })

  it('reconnects after the socket drops, re-joins, and reports peers that left meanwhile', async () => {
    const srv = await scriptedServer()
    const { ch, events } = channel(srv.url)
    ch.join('room1', 'me/t')
    await expect.poll(() => srv.received.length).toBe(1)
    srv.push({ type: 'peers', room: 'room1', peers: ['a/t', 'b/t'] })
    await expect.poll(() => events).toEqual(['+a/t', '+b/t'])
    srv.sockets[0]!.terminate()
    await expect.poll(() => srv.sockets.length, { timeout: 5000 }).toBe(2)
    await expect.poll(() => srv.received.length).toBe(2)
    expect(srv.received[1]).toEqual({ type: 'join', room: 'room1', peer: 'me/t' })
    srv.push({ type: 'peers', room: 'room1', peers: ['b/t'] })
    await expect.poll(() => events).toEqual(['+a/t', '+b/t', '-a/t', '+b/t'])
  })
})

describe('a sibling: another room on the same socket (the lobby, lobby.ts)', () => {
  it('joins and signals through the one socket, gets only its room, re-joins after a reconnect, and leaves before the socket closes', async () => {
    const srv = await scriptedServer()
    const { ch, events } = channel(srv.url)
    const sib = ch.sibling()
    const sibEvents: string[] = []
    sib.onPeer((p, present) => sibEvents.push(`${present ? '+' : '-'}${p}`))
    sib.onSignal((from, data) => sibEvents.push(`signal ${from} ${JSON.stringify(data)}`))
    ch.join('room1', 'me/t')
    sib.join('lobby', 'lobby.1')
    await expect.poll(() => srv.received).toEqual([
      { type: 'join', room: 'room1', peer: 'me/t' },
      { type: 'join', room: 'lobby', peer: 'lobby.1' },
    ])
    expect(srv.sockets.length).toBe(1)
    expect(sib.connected).toBe(true)
    srv.push({ type: 'peers', room: 'lobby', peers: ['lobby.2'] })
    srv.push({ type: 'signal', room: 'lobby', from: 'lobby.2', data: { lobby: 'check' } })
    srv.push({ type: 'joined', room: 'room1', peer: 'a/t' })
    await expect.poll(() => events).toEqual(['+a/t'])
    await expect.poll(() => sibEvents).toEqual(['+lobby.2', 'signal lobby.2 {"lobby":"check"}'])
    sib.signal('lobby.2', { x: 1 })
    await expect.poll(() => srv.received.at(-1)).toEqual({ type: 'signal', room: 'lobby', to: 'lobby.2', data: { x: 1 } })
    // a reconnect re-joins both rooms on the new socket
    srv.sockets[0]!.terminate()
    await expect.poll(() => srv.sockets.length, { timeout: 5000 }).toBe(2)
    await expect.poll(() => srv.received.slice(-2)).toEqual([
      { type: 'join', room: 'room1', peer: 'me/t' },
      { type: 'join', room: 'lobby', peer: 'lobby.1' },
    ])
    ch.close()
    await expect.poll(() => srv.received.slice(-2)).toEqual([
      { type: 'leave', room: 'room1' },
      { type: 'leave', room: 'lobby' },
    ])
    expect(sib.connected).toBe(false)
  })
})

/** A TCP server that takes connections and never answers the WebSocket handshake. */
async function silentTcpServer() {
  const sockets: Socket[] = []
  const server = createNetServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets }
}

/** A TCP server that counts connections and resets each at once. */
async function refusingServer() {
  let attempts = 0
  const server = createNetServer((socket) => {
    attempts++
    socket.on('error', () => {})
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(() => server.close())
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts: () => attempts }
}

describe('signaling mistakes are visible, and close() never throws', () => {
  it('reports an unreachable server once (UNAVAILABLE) after the first failed attempt, then retries quietly', async () => {
    const srv = await refusingServer()
    const { ch, errors } = channel(srv.url)
    const heard: string[] = []
    ch.onError((code) => heard.push(code))
    ch.join('room1', 'me/t')
    await expect.poll(() => errors, { timeout: 5000 }).toEqual(['UNAVAILABLE'])
    await expect.poll(() => srv.attempts(), { timeout: 5000 }).toBeGreaterThanOrEqual(4)
    expect(errors).toEqual(['UNAVAILABLE'])
    expect(heard).toEqual(['UNAVAILABLE'])
  })

  it('reports a new outage after the connection was back', async () => {
    const srv = await scriptedServer()
    const { ch, errors } = channel(srv.url)
    ch.join('room1', 'me/t')
    await expect.poll(() => srv.received.length).toBe(1)
    expect(errors).toEqual([])
    // the server goes away: the reconnect attempts fail, reported once
    for (const s of srv.sockets) s.terminate()
    srv.wss.close()
    await expect.poll(() => errors, { timeout: 5000 }).toEqual(['UNAVAILABLE'])
  })

  it('reports a URL that cannot be opened as BAD_ARGUMENTS, once, without retrying', async () => {
    const { ch, errors } = channel('not a url')
    ch.join('room1', 'me/t')
    expect(errors).toEqual(['BAD_ARGUMENTS'])
    expect(ch.connected).toBe(false)
  })

  it('closes without a throw or an error event while the socket is still connecting', async () => {
    const srv = await silentTcpServer()
    const { ch, errors } = channel(srv.url)
    ch.join('room1', 'me/t')
    await expect.poll(() => srv.sockets.length).toBe(1)
    expect(() => ch.close()).not.toThrow()
    // the aborted handshake's error (ws emits it on a later tick) has nowhere to go but nowhere
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(errors).toEqual([])
  })

  it('closes without a throw when open, closing, closed, or never joined', async () => {
    const srv = await scriptedServer()
    const { ch } = channel(srv.url)
    ch.join('room1', 'me/t')
    await expect.poll(() => ch.connected).toBe(true)
    expect(() => ch.close()).not.toThrow()
    expect(() => ch.close()).not.toThrow()
    expect(() => channel(srv.url).ch.close()).not.toThrow()
  })
})

describe('signaling errors reach the transport and the app', () => {
  it('a transport made by createMeshTransport reports an unreachable signaling server as UNAVAILABLE, a MeshError code', async () => {
    const srv = await refusingServer()
    const { m } = await namedKeys('m')
    const transport = await createMeshTransport({
      self: { member: m!.id, tab: 't1', browser: 'node' },
      identity: m!,
      room: 'room1',
      signaling: srv.url,
      broadcastChannel: false,
      websocket: { WebSocket: WebSocket as unknown as WebSocketConstructor, backoffBaseMs: 20, backoffMaxMs: 100 },
      peerFactory: () => {
        throw new Error('no peer is made in this test')
      },
    })
    cleanup.push(() => void transport.close())
    const errors: TransportError[] = []
    transport.onError((e) => errors.push(e))
    await expect.poll(() => errors.length, { timeout: 5000 }).toBe(1)
    const mesh = toMeshError(errors[0])
    expect(mesh).toMatchObject({ code: 'UNAVAILABLE' })
    expect(mesh.message).toContain(srv.url)
  })
})
