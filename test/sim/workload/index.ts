// The znode client workload over the simulated cluster, checked for
// linearizability (see tree-workload.ts for what one seed does and what it
// checks; session-closes.ts for how session ends enter the history).
//
//   runTreeWorkloadSeed(seed, { members?, bugs?, ... }) -> { ok, report, histories, linearizable, verdict, stats, history, hash }
//   addTreeWorkloads(summary, from, count)   // what `npm run sim` calls per seed
//
// Run more seeds: `TREE_SEEDS=1-300 npx vitest run test/sim/tree-workload.test.ts`
// or `npm run sim -- --seeds 300` (Raft simulator and tree workload on each seed).
// Planted bugs (tests only): `bugs: { readWithoutReadIndex: true }` or
// `{ applyRetriesTwice: true }` (MemberBugs in src/driver/options.ts).
export { runTreeWorkloadSeed } from './tree-workload'
export type { TreeWorkloadOptions, TreeWorkloadResult } from './tree-workload'
export { addTreeWorkloads } from './sim-cli'
export type { TreeSeedsOptions } from './sim-cli'
