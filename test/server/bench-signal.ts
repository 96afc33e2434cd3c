// Signaling relay figures over real sockets on 127.0.0.1: the round trip of a
// signal (a -> server -> b -> server -> a) and the time for N peers to join a
// room (each join answered and announced to all the others). Prints figures.
//   npx tsx test/server/bench-signal.ts [roundTrips=2000] [peers=64]
import { startSignalingServer } from '../../src/server/index'
import { TestClient } from './test-client'

const roundTrips = Number(process.argv[2] ?? 2000)
const peers = Number(process.argv[3] ?? 64)

const server = await startSignalingServer({ port: 0, host: '127.0.0.1', limits: { messagesPerSecond: 1e6, messageBurst: 1e6 } })
const [a, b] = [await TestClient.connect(server.url), await TestClient.connect(server.url)]
await a.join('bench', 'a')
await b.join('bench', 'b')
const sdp = { type: 'offer', sdp: 'v=0\r\n'.padEnd(1500, 'a') }
const latencies: number[] = []
for (let i = 0; i < roundTrips; i++) {
  const t0 = performance.now()
  a.send({ type: 'signal', room: 'bench', to: 'b', data: sdp })
  await b.next('signal')
  b.send({ type: 'signal', room: 'bench', to: 'a', data: sdp })
  await a.next('signal')
  latencies.push(performance.now() - t0)
}
latencies.sort((x, y) => x - y)
const at = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(3)
console.log(`signal round trip (1.5 KB data) n=${roundTrips}: p50=${at(50)}ms p99=${at(99)}ms max=${latencies.at(-1)!.toFixed(3)}ms`)

const t0 = performance.now()
const joined: TestClient[] = []
for (let i = 0; i < peers; i++) {
  const c = await TestClient.connect(server.url)
  await c.join('crowd', `p${i}`)
  joined.push(c)
}
// everyone has heard of everyone once the last peer's ping is answered after the joins
for (const c of joined) await c.sync()
console.log(`${peers} peers joined one room (connect + join + announcements): ${(performance.now() - t0).toFixed(1)}ms`)

for (const c of [a, b, ...joined]) c.close()
await server.close()
