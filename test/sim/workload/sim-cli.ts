// How `npm run sim` (test/sim/cli.ts) runs the znode tree workload.
//
// The simulator's own `--workload` hook plugs a synchronous client into its
// raw-Raft world; the tree workload needs the real node driver and awaits
// Mesh promises, so it runs beside the Raft seeds instead: one tree history
// per seed, on the same seed numbers. Its results fold into the CLI's summary:
// each history checked adds to H in `, H histories linearizable` when the
// checker accepts it, and a seed whose history is not linearizable (or whose
// replicas disagree) counts as a violation — once, even if the Raft run of
// that seed failed too.
import type { SimSummary } from '../run'
import { runTreeWorkloadSeed } from './tree-workload'
import type { TreeWorkloadResult } from './tree-workload'

export interface TreeSeedsOptions {
  /** print the per-seed line even when it passed */
  verbose?: boolean
  /** print each seed's history hash (deterministic, for --trace-hash) */
  hash?: boolean
  log?: (line: string) => void
}

/** Runs seeds from..from+count-1 of the tree workload, folds them into `summary` and returns the failing seeds. */
export async function addTreeWorkloads(summary: SimSummary, from: number, count: number, opts: TreeSeedsOptions = {}): Promise<number[]> {
  const log = opts.log ?? ((line: string) => console.log(line))
  const failedAlready = new Set(summary.failing.filter((r) => r.violations.length > 0 || r.workload.violations.length > 0).map((r) => r.seed))
  const failing: number[] = []
  for (let seed = from; seed < from + count; seed++) {
    let r: TreeWorkloadResult
    try {
      r = await runTreeWorkloadSeed(seed)
    } catch (err) {
      // a crash of the workload itself (not a MeshError an app would see) fails the seed, not the CLI
      summary.histories++
      if (!failedAlready.has(seed)) summary.violations++
      failing.push(seed)
      log(`--- seed ${seed} tree workload FAILED ---\nthe workload threw: ${(err as Error).stack ?? String(err)}\nreplay: npm run sim -- --seed ${seed}`)
      continue
    }
    summary.histories += r.histories
    summary.linearizable += r.linearizable
    if (opts.hash === true) log(`seed ${seed} tree history hash ${r.hash}`)
    if (!r.ok) {
      failing.push(seed)
      if (!failedAlready.has(seed)) summary.violations++
      log(`--- seed ${seed} tree workload FAILED ---\n${r.report}\nreplay: npm run sim -- --seed ${seed}`)
    } else if (opts.verbose === true) log(r.report)
  }
  return failing
}
