// Save latency of a small batch (the shape of one Raft Ready: a hard state and
// a few entries of ~100 bytes) in the memory storage and in IndexedDB through
// fake-indexeddb. Prints figures; asserts nothing (the machine is noisy).
// fake-indexeddb is an in-memory model of IndexedDB, so its figure measures our
// code plus idb plus the model, not a disk; the real IndexedDB figures come
// from the browser benchmark.
//   npx tsx test/storage/bench-storage.ts [saves=2000] [entriesPerSave=4]
import 'fake-indexeddb/auto'
import type { Entry } from '../../src/raft/types'
import type { StorageProvider } from '../../src/storage/types'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { IndexedDbStorageProvider } from '../../src/storage/indexeddb'

const saves = Number(process.argv[2] ?? 2000)
const perSave = Number(process.argv[3] ?? 4)
const payload = new Uint8Array(100).fill(42)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function bench(name: string, provider: StorageProvider, room: string): Promise<void> {
  const s = await provider.open(room, 'bench')
  await s.save({ meta: { member: 'bench', clusterId: 'bench', createdAt: 0 } })
  const latencies: number[] = []
  let index = 1
  const started = performance.now()
  for (let i = 0; i < saves; i++) {
    const entries: Entry[] = []
    for (let k = 0; k < perSave; k++) entries.push({ term: 1, index: index++, type: 'normal', data: payload })
    const t0 = performance.now()
    await s.save({ hardState: { term: 1, vote: 'bench', commit: index - 1 }, entries })
    latencies.push(performance.now() - t0)
  }
  const total = performance.now() - started
  const t0 = performance.now()
  const rec = await s.load()
  const loadMs = performance.now() - t0
  if (rec?.durable.entries.length !== saves * perSave) throw new Error(`${name}: loaded ${rec?.durable.entries.length} entries`)
  await s.close()
  latencies.sort((a, b) => a - b)
  const f = (x: number): string => x.toFixed(3)
  console.log(
    `${name.padEnd(28)} saves=${saves} entries/save=${perSave} ` +
      `p50=${f(percentile(latencies, 50))}ms p99=${f(percentile(latencies, 99))}ms max=${f(latencies.at(-1)!)}ms ` +
      `throughput=${Math.round((saves / total) * 1000)} saves/s load(${saves * perSave} entries)=${loadMs.toFixed(1)}ms`,
  )
}

await bench('memory', new MemoryStorageProvider(), 'bench')
await bench('fake-indexeddb strict', new IndexedDbStorageProvider({ durability: 'strict' }), 'bench-strict')
await bench('fake-indexeddb relaxed', new IndexedDbStorageProvider({ durability: 'relaxed' }), 'bench-relaxed')
