// `npm run bench` (issue 7): headless Chromium on this machine, in one run —
//   the floor: what the browser itself costs (BroadcastChannel, WebRTC data
//     channel, navigator.locks, IndexedDB strict/relaxed);
//   the peers: failover of the broadcast-channel package's leader election
//     and of a bare Web Locks election;
//   meshkeeper: 3 tabs (commit, throughput, reads, watches, failover, locks,
//     reopen of a 10,000-node tree), then 9 tabs, 16 tabs over 4 browsers and
//     50 tabs over 5 browsers (formation time, commit latency, links per member).
// Prints a table, writes test/bench/results.json with every figure, its ratio
// to its floor, and the goals of issues 7 and 17 marked met / missed. A figure that
// cannot be measured is null with the reason; the run always completes.
//   npm run bench [-- --quick] [-- --only floor,peers,mesh3,reopen,lifecycle,vanish,scale9,scale16,scale50] [-- --failover-trials N] [-- --scale-failover-trials N] [-- --lifecycle-trials N] [-- --diag] [-- --profile DIR]
// This file is the entry point: which parts run (parts/), then ratios and
// goals (goals.ts), the table (report.ts) and results.json. The other flags
// and the trial counts are read in options.ts; importing harness.ts builds
// and serves the pages.
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { N, quick } from './options'
import { figures, notes } from './figures'
import { attachFloors, goals } from './goals'
import { browserVersion, closeHarness } from './harness'
import { table } from './report'
import { benchFloor, clockOffsetMs } from './parts/floor'
import { benchLifecycle } from './parts/lifecycle'
import { benchMesh3 } from './parts/mesh3'
import { benchPeers, peerImpl } from './parts/peers'
import { benchReopen } from './parts/reopen'
import { benchScale } from './parts/scale'
import { benchVanish } from './parts/vanish'

const onlyArg = process.argv.indexOf('--only')
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : null
const runs = (part: string): boolean => only === null || only.has(part)

const startedAt = Date.now()
try {
  if (runs('floor')) await benchFloor()
  if (runs('peers')) await benchPeers()
  if (runs('mesh3')) await benchMesh3()
  if (runs('reopen')) await benchReopen()
  if (runs('lifecycle')) await benchLifecycle()
  if (runs('vanish')) await benchVanish()
  if (runs('scale') || runs('scale9')) await benchScale('mesh9', 9, 1)
  if (runs('scale') || runs('scale16')) await benchScale('mesh16x4', 16, 4)
  // 50 tabs on this machine's cores: formation, commits and links; failover
  // trials of 50 tabs each would take the run's whole budget
  if (runs('scale') || runs('scale50')) await benchScale('mesh50x5', 50, 5, { failover: false })
} finally {
  await closeHarness()
}

attachFloors()
const allGoals = goals()
const results = {
  date: new Date(startedAt).toISOString(),
  quick,
  durationMs: Date.now() - startedAt,
  browser: browserVersion,
  cores: cpus().length,
  node: process.version,
  /** a tab's wall clock minus the driver's, measured once (failover times are corrected by it) */
  clockOffsetMs,
  peerImplementations: peerImpl,
  /** errors the write loops saw (e.g. during failover), by code */
  notes,
  trials: N,
  figures,
  goals: allGoals,
}
writeFileSync(fileURLToPath(new URL('./results.json', import.meta.url)), `${JSON.stringify(results, null, 2)}\n`)
console.log(`\n${browserVersion}, ${cpus().length} cores, ${quick ? 'quick' : 'full'} run in ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n`)
console.log(table(allGoals))
console.log('\nwritten: test/bench/results.json')
process.exit(0)
