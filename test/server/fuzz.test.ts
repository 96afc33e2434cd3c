// Every byte from a client is untrusted: random JSON and near-miss messages
// never crash the server, never get a spoofed `from` through, and never stop
// it from serving well-behaved sockets.
import fc from 'fast-check'
import { afterEach, expect, it } from 'vitest'
import { startSignalingServer, type SignalingServer } from '../../src/server/index'
import { TestClient } from './test-client'

let server: SignalingServer | null = null
const clients: TestClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await server?.close()
  server = null
})

const nearMiss = fc.record(
  {
    type: fc.constantFrom('join', 'signal', 'leave', 'ping', 'peers', 'joined', 'error', '__proto__', 'constructor'),
    room: fc.oneof(fc.constantFrom('private', 'other', '', ' ', '../private', 'r'.repeat(300)), fc.string(), fc.integer(), fc.constant(null)),
    peer: fc.oneof(fc.constantFrom('victim', 'friend', 'fuzzer', 'server'), fc.string(), fc.constant(null)),
    to: fc.oneof(fc.constantFrom('victim', 'fuzzer', 'nobody'), fc.string(), fc.array(fc.string())),
    from: fc.constantFrom('victim', 'server'),
    data: fc.jsonValue(),
  },
  { requiredKeys: ['type'] },
)

/** a signal that would pass if the server trusted a client's `from` */
const spoofedSignal = fc.record({
  type: fc.constant('signal'),
  room: fc.constant('private'),
  to: fc.constantFrom('victim', 'friend'),
  from: fc.constantFrom('victim', 'friend', 'server'),
  data: fc.jsonValue(),
})

it('survives random and near-miss messages; every signal a member receives names a peer that joined', async () => {
  server = await startSignalingServer({ port: 0, host: '127.0.0.1', limits: { maxViolations: 1e9, messageBurst: 1e9, messagesPerSecond: 1e9 } })
  const victim = await TestClient.connect(server.url)
  const friend = await TestClient.connect(server.url)
  clients.push(victim, friend)
  await victim.join('private', 'victim')
  await friend.join('private', 'friend')
  let run = 0
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.array(fc.oneof(nearMiss, spoofedSignal, fc.jsonValue()), { minLength: 1, maxLength: 40 }), async (joinFirst, messages) => {
      const fuzzer = await TestClient.connect(server!.url)
      clients.push(fuzzer)
      if (joinFirst) fuzzer.send({ type: 'join', room: 'private', peer: `fuzzer-${++run}` })
      for (const m of messages) fuzzer.send(m)
      // the fuzzer is answered (or dropped), it never gets the server stuck
      await Promise.race([fuzzer.sync(), fuzzer.closed])
      fuzzer.close()
    }),
    { numRuns: 150 },
  )
  // replay what the victim heard: each signal's `from` is a peer present in
  // the room at that moment (announced by joined, not yet left), never itself
  await victim.sync()
  const present = new Set(['friend'])
  let signals = 0
  for (const m of victim.drain()) {
    if (m.type === 'joined' && m.room === 'private') present.add(m.peer)
    if (m.type === 'left' && m.room === 'private') present.delete(m.peer)
    if (m.type === 'signal') {
      signals++
      expect(m.room).toBe('private')
      expect(present.has(m.from), `signal from ${m.from}`).toBe(true)
      expect(m.from).not.toBe('victim')
    }
  }
  expect(signals).toBeGreaterThan(0)
  friend.send({ type: 'signal', room: 'private', to: 'victim', data: 'still here' })
  expect(await victim.next('signal')).toEqual({ type: 'signal', room: 'private', from: 'friend', data: 'still here' })
})
