// The znode client workload over the simulated cluster, checked for
// linearizability (see tree-workload.ts). `runTreeWorkloadSeed(seed)` is what
// tests and the sim CLI call.
export { runTreeWorkloadSeed } from './tree-workload'
export type { TreeWorkloadOptions, TreeWorkloadResult } from './tree-workload'
export { addTreeWorkloads } from './sim-cli'
export type { TreeSeedsOptions } from './sim-cli'
