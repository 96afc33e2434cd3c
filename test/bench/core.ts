// Throughput of the pure Raft core: committed entries per second through a
// 3-member in-memory cluster (no disk, no network, no codec), proposals in
// batches on the leader, and CPU microseconds per committed entry.
//   npm run bench:core [-- entries batch size]
// Then the commit timeline of an in-process cluster of whole members (in-process.ts).
import { performance } from 'node:perf_hooks'
import { Network } from '../raft/network'
import { benchInProcessTimeline } from './in-process'

const total = Number(process.argv[2] ?? 300_000)
let batch = Number(process.argv[3] ?? 256)
const size = Number(process.argv[4] ?? 16)

function run(entries: number): { seconds: number; cpuMicros: number; applied: number; messages: number } {
  const net = Network.cluster(['1', '2', '3'], { maxInflightMsgs: 256, maxSizePerMsg: 64 * 1024 })
  net.stabilize()
  net.elect('1')
  // the benchmark keeps what the helper would record small: drop applied entries as they come
  let messages = 0
  net.onDeliver = () => {
    messages++
  }
  const leader = net.node('1')
  const payload = new Uint8Array(size).fill(7)
  const startApplied = leader.status().applied
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let done = 0; done < entries; done += batch) {
    for (let i = 0; i < batch; i++) leader.propose(payload)
    net.stabilize()
    for (const m of net.members.values()) m.applied.length = 0
  }
  const t1 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  const applied = leader.status().applied - startApplied
  for (const id of ['2', '3']) {
    if (net.node(id).status().applied !== leader.status().applied) throw new Error(`follower ${id} did not apply everything`)
  }
  return { seconds: (t1 - t0) / 1000, cpuMicros: cpu.user + cpu.system, applied, messages }
}

run(20_000) // warm-up
console.log(`raft core, 3 members in memory, ${size}-byte entries`)
for (const b of batch === 256 ? [1, 16, 256] : [batch]) {
  batch = b
  const r = run(b === 1 ? Math.min(total, 50_000) : total)
  console.log(`batches of ${b}:`)
  console.log(`  committed and applied on all members: ${r.applied} entries in ${r.seconds.toFixed(3)} s`)
  console.log(`  throughput: ${Math.round(r.applied / r.seconds).toLocaleString('en-US')} entries/s`)
  console.log(`  CPU: ${(r.cpuMicros / r.applied).toFixed(2)} µs per entry (whole cluster)`)
  console.log(`  messages delivered: ${r.messages} (${(r.applied / r.messages).toFixed(1)} entries per message)`)
}

// the whole member in-process: the commit timeline of its writes (in-process.ts)
await benchInProcessTimeline()
