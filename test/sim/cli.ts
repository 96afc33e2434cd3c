// npm run sim -- --seeds N | --from S --seeds N | --seed S [--trace-hash] [--verbose] [--bug NAME]
//
// Runs seeds of the deterministic simulator, prints a readable trace for each
// failing seed and ends with `sim: N seeds, V violations, L liveness failures`.
// Exits non-zero when V or L is not 0. `--seed S --trace-hash` prints the hash
// of every event of that run (the same every time for the same seed).
// `--bug NAME` plants a bug (see PlantedBugs in src/raft/types.ts), to watch
// the simulator find it.
import type { PlantedBugs } from '../../src/raft/types'
import { failureReport, runSeeds, summaryLine } from './run'

interface CliArgs {
  from: number
  count: number
  traceHash: boolean
  verbose: boolean
  bugs: PlantedBugs
}

function parse(argv: readonly string[]): CliArgs {
  const args: CliArgs = { from: 1, count: 100, traceHash: false, verbose: false, bugs: {} }
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
      default:
        throw new Error(`unknown argument ${a}; usage: npm run sim -- [--seeds N] [--from S] [--seed S] [--trace-hash] [--verbose] [--bug NAME]`)
    }
  }
  return args
}

function main(): number {
  let args: CliArgs
  try {
    args = parse(process.argv.slice(2))
  } catch (e) {
    console.error((e as Error).message)
    return 2
  }
  const started = performance.now()
  const summary = runSeeds(args.from, args.count, { bugs: args.bugs, hash: args.traceHash }, (r) => {
    if (args.traceHash) console.log(`seed ${r.seed} trace hash ${r.hash} (${r.stats.events} events)`)
    if (args.verbose)
      console.log(
        `seed ${r.seed}: ${r.stats.events} events, ${r.stats.virtualMs} virtual ms, committed ${r.stats.committed}, ` +
          `${r.stats.leaderTerms} leader terms, recovery ${r.stats.recoveryMs ?? '-'} ms, ` +
          `${r.workload.acknowledged} acks, ${r.workload.reads} reads`,
      )
    if (r.violations.length > 0 || r.liveness !== null || r.workload.violations.length > 0) console.log(failureReport(r))
  })
  const seconds = (performance.now() - started) / 1000
  console.error(`(${seconds.toFixed(1)} s wall, ${((seconds * 1000) / Math.max(1, summary.seeds)).toFixed(1)} ms per seed)`)
  console.log(summaryLine(summary))
  return summary.violations > 0 || summary.livenessFailures > 0 ? 1 : 0
}

process.exitCode = main()
