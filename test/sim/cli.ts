// npm run sim -- --seeds N | --from S --seeds N | --seed S [--trace-hash] [--verbose] [--bug NAME] [--no-tree]
// (--no-tree: Raft only, skipping the znode workload that costs ~0.2–1 s per seed)
//
// Runs seeds of the deterministic simulator, prints a readable trace for each
// failing seed and ends with `sim: N seeds, V violations, L liveness failures`.
// Exits non-zero when V or L is not 0. `--seed S --trace-hash` prints the hash
// of every event of that run (the same every time for the same seed).
// `--bug NAME` plants a bug (see PlantedBugs in src/raft/types.ts), to watch
// the simulator find it. `--workload MODULE` runs the clients of another
// workload: MODULE (a path, relative to the working directory) exports
// `createWorkload(): Workload` (see workload.ts); when its results count
// histories, the summary line gains `, H histories linearizable`.
// Every seed also runs the znode tree workload (test/sim/workload: real node
// driver, clients recorded and checked for linearizability), so the summary
// line always ends with `, H histories linearizable`; a history that is not
// linearizable counts as a violation of its seed.
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import type { Workload } from './workload'
import type { PlantedBugs } from '../../src/raft/types'
import { failureReport, runSeeds, summaryLine } from './run'
import { addTreeWorkloads } from './workload/index'

interface CliArgs {
  from: number
  count: number
  traceHash: boolean
  verbose: boolean
  bugs: PlantedBugs
  workload: string | null
  tree: boolean
}

function parse(argv: readonly string[]): CliArgs {
  const args: CliArgs = { from: 1, count: 100, traceHash: false, verbose: false, bugs: {}, workload: null, tree: true }
  const num = (i: number, flag: string): number => {
    const v = Number(argv[i])
    if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} needs a non-negative integer, got ${argv[i]}`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    switch (a) {
      case '--seeds':
        args.count = num(++i, a)
        break
      case '--from':
        args.from = num(++i, a)
        break
      case '--seed':
        args.from = num(++i, a)
        args.count = 1
        break
      case '--trace-hash':
        args.traceHash = true
        break
      case '--verbose':
        args.verbose = true
        break
      case '--bug':
        ;(args.bugs as Record<string, boolean>)[String(argv[++i])] = true
        break
      case '--no-tree':
        args.tree = false
        break
      case '--workload':
        args.workload = String(argv[++i])
        break
      default:
        throw new Error(
          `unknown argument ${a}; usage: npm run sim -- [--seeds N] [--from S] [--seed S] [--trace-hash] [--verbose] [--bug NAME] [--workload MODULE] [--no-tree]`,
        )
    }
  }
  return args
}

async function loadWorkload(path: string): Promise<() => Workload> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { createWorkload?: () => Workload }
  if (typeof mod.createWorkload !== 'function') throw new Error(`${path} does not export createWorkload()`)
  return mod.createWorkload
}

async function main(): Promise<number> {
  let args: CliArgs
  let workload: (() => Workload) | undefined
  try {
    args = parse(process.argv.slice(2))
    if (args.workload !== null) workload = await loadWorkload(args.workload)
  } catch (e) {
    console.error((e as Error).message)
    return 2
  }
  const started = performance.now()
  const base = { bugs: args.bugs, hash: args.traceHash, ...(workload === undefined ? {} : { workload }) }
  const summary = runSeeds(args.from, args.count, base, (r) => {
    if (args.traceHash) console.log(`seed ${r.seed} trace hash ${r.hash} (${r.stats.events} events)`)
    if (args.verbose)
      console.log(
        `seed ${r.seed}: ${r.stats.events} events, ${r.stats.virtualMs} virtual ms, committed ${r.stats.committed}, ` +
          `${r.stats.leaderTerms} leader terms, recovery ${r.stats.recoveryMs ?? '-'} ms, ` +
          `${r.workload.acknowledged} acks, ${r.workload.reads} reads`,
      )
    if (r.violations.length > 0 || r.liveness !== null || r.workload.violations.length > 0) console.log(failureReport(r))
  })
  // the znode tree workload on the same seeds (async: it awaits Mesh calls)
  if (args.tree) await addTreeWorkloads(summary, args.from, args.count, { verbose: args.verbose, hash: args.traceHash })
  const seconds = (performance.now() - started) / 1000
  console.error(`(${seconds.toFixed(1)} s wall, ${((seconds * 1000) / Math.max(1, summary.seeds)).toFixed(1)} ms per seed)`)
  console.log(summaryLine(summary))
  return summary.violations > 0 || summary.livenessFailures > 0 ? 1 : 0
}

process.exitCode = await main()
