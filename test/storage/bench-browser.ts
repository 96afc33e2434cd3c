// Real IndexedDB in Debian's Chromium: the save latency of a small batch with
// 'strict' and 'relaxed' durability (and a durability-across-reload check).
// Prints figures; exits non-zero if what was saved is not there after reload.
// Headless Chromium keeps its profile in a temporary directory, so 'strict'
// here flushes to whatever disk backs /tmp.
//   npx tsx test/storage/bench-browser.ts [saves=300] [entriesPerSave=4]
import { openStoragePage } from './browser/driver'

const saves = Number(process.argv[2] ?? 300)
const perSave = Number(process.argv[3] ?? 4)

const browser = await openStoragePage()
let failed = false
try {
  await browser.call((api) => api.saveSome('reload', 25))
  await browser.reload()
  const after = await browser.call((api) => api.loadSummary('reload'))
  const ok = after !== null && after.entries === 25 && after.commit === 25 && after.members.join() === 'a'
  console.log(`reload: ${ok ? 'ok' : 'FAILED'} ${JSON.stringify(after)}`)
  failed ||= !ok
  for (const durability of ['strict', 'relaxed'] as const) {
    const r = await browser.call((api, a) => {
      const [d, n, k] = a as ['strict' | 'relaxed', number, number]
      return api.bench(d, n, k)
    }, [durability, saves, perSave])
    const f = (x: number): string => x.toFixed(2)
    console.log(`chromium IndexedDB ${durability.padEnd(7)} saves=${saves} entries/save=${perSave} p50=${f(r.p50)}ms p99=${f(r.p99)}ms max=${f(r.max)}ms throughput=${Math.round(r.perSecond)} saves/s`)
  }
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
