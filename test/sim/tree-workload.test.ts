// Proof of correctness (issue 3): znode clients on a simulated cluster of the
// real node driver, under partitions, one-way cuts, frozen tabs and
// crash/restart, produce linearizable histories and replicas that agree —
// and the same check notices when a guarantee is broken on purpose.
//
// `TREE_SEEDS=1-200 npx vitest run test/sim/tree-workload.test.ts` runs more seeds.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { addTreeWorkloads, runTreeWorkloadSeed } from './workload/index'
import { summaryLine } from './run'
import type { SimSummary } from './run'
import type { TreeWorkloadResult } from './workload/index'
import type { MemberBugs } from '../../src/driver/options'

/** "1-20" or "3,7,9" */
function seedList(spec: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(spec)
  if (range !== null) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
  return spec.split(',').map(Number)
}

const SEEDS = seedList(process.env.TREE_SEEDS ?? '1-30')
/** a planted bug must be reported within this many seeds */
const BUG_SEED_BUDGET = 20
const PER_SEED_TIMEOUT_MS = 60_000

/** the first seed (from 1) whose run reports a violation under the planted bug, or null */
async function firstSeedThatFinds(bugs: MemberBugs): Promise<TreeWorkloadResult | null> {
  for (let seed = 1; seed <= BUG_SEED_BUDGET; seed++) {
    const r = await runTreeWorkloadSeed(seed, { bugs })
    if (!r.ok) return r
  }
  return null
}

describe('znode workload on the simulated cluster: every history linearizable, every replica agrees', () => {
  for (const seed of SEEDS) {
    it(
      `seed ${seed} (${seed % 2 === 1 ? 3 : 5} members)`,
      async () => {
        const r = await runTreeWorkloadSeed(seed)
        // the report carries the checker's explanation and the seed on failure
        expect(r.ok, r.report).toBe(true)
        expect(r.verdict).toBe('linearizable')
        expect(r.histories).toBe(1)
        expect(r.linearizable).toBe(1)
        // the run did what it claims: calls of every client, and faults
        expect(r.stats.operations).toBeGreaterThan(100)
        expect(r.stats.timedOut).toBeLessThan(r.stats.operations)
      },
      PER_SEED_TIMEOUT_MS,
    )
  }

  it(
    'is a function of the seed: the same seed records the same history and ends in the same state',
    async () => {
      const a = await runTreeWorkloadSeed(3)
      const b = await runTreeWorkloadSeed(3)
      expect(b.hash).toBe(a.hash)
      expect(b.stats.operations).toBe(a.stats.operations)
      const other = await runTreeWorkloadSeed(5)
      expect(other.hash).not.toBe(a.hash)
    },
    PER_SEED_TIMEOUT_MS,
  )
})

const PLANTED: Array<[keyof MemberBugs, string]> = [
  ['readWithoutReadIndex', 'linearizable reads served from local state without ReadIndex'],
  ['applyRetriesTwice', 'a retried write applied twice (dedup off)'],
]

describe('planted bugs are reported', () => {
  for (const [bug, what] of PLANTED) {
    it(
      `${what} (${bug})`,
      async () => {
        const found = await firstSeedThatFinds({ [bug]: true })
        expect(found, `not found within ${BUG_SEED_BUDGET} seeds`).not.toBeNull()
        expect(found!.verdict).toBe('violation')
        expect(found!.linearizable).toBe(0)
        expect(found!.report).toContain(`seed ${found!.seed}: VIOLATION`)
        expect(found!.report).toContain('not linearizable')
        console.log(`${bug} found at seed ${found!.seed}`)
      },
      BUG_SEED_BUDGET * PER_SEED_TIMEOUT_MS,
    )
  }
})

describe('npm run sim counts the tree histories', () => {
  it(
    'folds each seed\'s history into the summary line and prints a deterministic hash per seed',
    async () => {
      const summary: SimSummary = { seeds: 2, violations: 0, livenessFailures: 0, histories: 0, linearizable: 0, failing: [] }
      const lines: string[] = []
      const failing = await addTreeWorkloads(summary, 3, 2, { hash: true, log: (l) => lines.push(l) })
      expect(failing).toEqual([])
      expect(summaryLine(summary)).toBe('sim: 2 seeds, 0 violations, 0 liveness failures, 2 histories linearizable')
      expect(lines).toEqual([
        `seed 3 tree history hash ${(await runTreeWorkloadSeed(3)).hash}`,
        `seed 4 tree history hash ${(await runTreeWorkloadSeed(4)).hash}`,
      ])
    },
    PER_SEED_TIMEOUT_MS,
  )

  it(
    '`npm run sim -- --seed S --trace-hash` prints the same tree history hash in every process',
    async () => {
      const treeHashLine = (): string | undefined =>
        spawnSync('npx', ['tsx', 'test/sim/cli.ts', '--seed', '3', '--trace-hash'], { encoding: 'utf8' })
          .stdout.split('\n')
          .find((l) => l.startsWith('seed 3 tree history hash'))
      const first = treeHashLine()
      expect(first).toBe(`seed 3 tree history hash ${(await runTreeWorkloadSeed(3)).hash}`)
      expect(treeHashLine()).toBe(first)
    },
    PER_SEED_TIMEOUT_MS,
  )
})
