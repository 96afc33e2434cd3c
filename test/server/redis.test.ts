// Scale-out: signaling servers sharing rooms through a real redis-server
// (Debian's package; .ci/run installs it). Skipped, saying why, only where
// redis-server is not installed.
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSignalingServer, type SignalingServer } from '../../src/server/index'
import { TestClient } from './test-client'

const hasRedis = spawnSync('redis-server', ['--version']).status === 0
if (!hasRedis) console.warn('test/server/redis.test.ts skipped: redis-server is not installed (apt-get install redis-server)')

let port = 0
const servers: SignalingServer[] = []
const clients: TestClient[] = []

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const p = (probe.address() as { port: number }).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return p
}

async function startRedis(): Promise<void> {
  const started = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes'])
  if (started.status !== 0) throw new Error(`redis-server did not start: ${started.stderr.toString()}`)
  // daemonized: wait until it answers
  for (;;) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

beforeAll(async () => {
  if (!hasRedis) return
  port = await freePort()
  await startRedis()
})

afterAll(async () => {
  for (const c of clients.splice(0)) c.ws.terminate()
  for (const s of servers.splice(0)) await s.close()
  if (hasRedis && port !== 0) spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'])
})

async function server(options: { resyncIntervalMs?: number } = {}): Promise<SignalingServer> {
  const s = await startSignalingServer({ port: 0, host: '127.0.0.1', redis: `redis://127.0.0.1:${port}`, ...options })
  servers.push(s)
  return s
}

async function client(s: SignalingServer): Promise<TestClient> {
  const c = await TestClient.connect(s.url)
  clients.push(c)
  return c
}

describe.skipIf(!hasRedis)('signaling servers sharing rooms through Redis', () => {
  it('two clients on different servers, one room: each sees the other join, signals are relayed both ways, leaving is seen', async () => {
    const [one, two] = [await server(), await server()]
    const a = await client(one)
    const b = await client(two)
    expect(await a.join('shared', 'alice')).toEqual([])
    // b's server learns of alice by asking the room ('who' / 'here'), a hears b join
    const joinedB = a.next('joined')
    const peersOfB = await b.join('shared', 'bob')
    expect(await joinedB).toEqual({ type: 'joined', room: 'shared', peer: 'bob' })
    if (!peersOfB.includes('alice')) expect(await b.next('joined')).toEqual({ type: 'joined', room: 'shared', peer: 'alice' })
    a.send({ type: 'signal', room: 'shared', to: 'bob', data: { sdp: 'offer', nested: [1, { x: null }] } })
    expect(await b.next('signal')).toEqual({ type: 'signal', room: 'shared', from: 'alice', data: { sdp: 'offer', nested: [1, { x: null }] } })
    b.send({ type: 'signal', room: 'shared', to: 'alice', from: 'mallory', data: 'answer' })
    expect(await a.next('signal')).toEqual({ type: 'signal', room: 'shared', from: 'bob', data: 'answer' })
    // a peer id taken on the other server is a duplicate here too
    const c = await client(one)
    c.send({ type: 'join', room: 'shared', peer: 'bob' })
    expect(await c.next('error')).toMatchObject({ code: 'DUPLICATE_PEER' })
    // b's socket closes: a hears bob left
    b.close()
    expect(await a.next('left')).toEqual({ type: 'left', room: 'shared', peer: 'bob' })
    // a third server joining later is told who is there
    const three = await server()
    const d = await client(three)
    const peersOfD = await d.join('shared', 'dave')
    if (!peersOfD.includes('alice')) expect(await d.next('joined')).toEqual({ type: 'joined', room: 'shared', peer: 'alice' })
    expect(await a.next('joined')).toEqual({ type: 'joined', room: 'shared', peer: 'dave' })
  })

  it('after a Redis outage the servers correct each other: a leave lost meanwhile is heard', async () => {
    // resynced when Redis is back, and every second besides
    const [one, two] = [await server({ resyncIntervalMs: 1_000 }), await server({ resyncIntervalMs: 1_000 })]
    const a = await client(one)
    const b = await client(two)
    await a.join('outage', 'alice')
    const joinedB = a.next('joined')
    await b.join('outage', 'bob')
    expect(await joinedB).toEqual({ type: 'joined', room: 'outage', peer: 'bob' })
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'])
    // bob leaves while the servers cannot tell each other
    b.close()
    await b.closed
    // its server has let it go (the leave it could not publish happened in the outage)
    await expect.poll(() => two.health().sockets).toBe(0)
    await a.sync()
    expect(a.drain().filter((m) => m.type === 'left')).toEqual([])
    await startRedis()
    expect(await a.next('left')).toEqual({ type: 'left', room: 'outage', peer: 'bob' })
  }, 20_000)

  it('refuses to start when Redis cannot be reached, with the reason', async () => {
    const nowhere = await freePort()
    await expect(startSignalingServer({ port: 0, host: '127.0.0.1', redis: `redis://127.0.0.1:${nowhere}` })).rejects.toThrow(/cannot reach Redis/)
  })
})

describe.skipIf(!hasRedis)('meshkeeper-signal --redis', () => {
  it('a bin process and an in-process server share a room through Redis', async () => {
    const { spawn } = await import('node:child_process')
    const bin = new URL('../../bin/meshkeeper-signal.js', import.meta.url).pathname
    const child = spawn(process.execPath, [bin, '--port', '0', '--host', '127.0.0.1', '--redis', `redis://127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let out = ''
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const m = /listening on (ws:\/\/\S+?)(?: |,|$)/m.exec(out)
          if (m && out.includes('through Redis')) resolve(m[1]!)
        })
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
      })
      const local = await server()
      const a = await TestClient.connect(url)
      clients.push(a)
      const b = await client(local)
      await a.join('bin-room', 'a')
      const joined = a.next('joined')
      const peers = await b.join('bin-room', 'b')
      expect(await joined).toEqual({ type: 'joined', room: 'bin-room', peer: 'b' })
      if (!peers.includes('a')) expect(await b.next('joined')).toEqual({ type: 'joined', room: 'bin-room', peer: 'a' })
      b.send({ type: 'signal', room: 'bin-room', to: 'a', data: 'through the bin' })
      expect(await a.next('signal')).toEqual({ type: 'signal', room: 'bin-room', from: 'b', data: 'through the bin' })
    } finally {
      child.kill('SIGTERM')
    }
  }, 30_000)
})
