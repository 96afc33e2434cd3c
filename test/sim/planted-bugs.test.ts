// The simulator must catch real bugs: each planted bug (PlantedBugs in
// src/raft/types.ts), switched on alone, is found by the ordinary safety
// checks within 1,000 seeds. The search stops at the first seed that finds it.
import { describe, expect, it } from 'vitest'
import type { PlantedBugs } from '../../src/raft/types'
import { runSeed } from './world'
import { BUG_MIXES, FIGURE_8 } from './bug-mixes'

const MAX_SEEDS = 1000

function firstFinding(bug: keyof PlantedBugs): { seed: number; rule: string } | null {
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    const r = runSeed({ seed, bugs: { [bug]: true }, faults: BUG_MIXES[bug], traceLines: 0 })
    if (r.violations.length > 0) return { seed, rule: r.violations[0]!.rule }
  }
  return null
}

describe('planted bugs are found within 1,000 seeds', () => {
  for (const bug of Object.keys(BUG_MIXES) as Array<keyof PlantedBugs>) {
    it(`finds ${bug}`, () => {
      const found = firstFinding(bug)
      if (found !== null) console.log(`${bug}: found at seed ${found.seed} by ${found.rule}`)
      expect(found, `${bug} not found in ${MAX_SEEDS} seeds`).not.toBeNull()
      // The same seed and mix without the bug is clean: the bug, not the mix, broke it.
      const clean = runSeed({ seed: found!.seed, faults: BUG_MIXES[bug], traceLines: 0 })
      expect(clean.violations).toEqual([])
    })
  }
})

describe('a planted bug is found by what it breaks, not only by the rule aimed at it', () => {
  it('commitOldTermByCounting loses a committed entry under the Figure 8 loop (commit-rule check off)', () => {
    let found: { seed: number; rule: string } | null = null
    for (let seed = 1; seed <= MAX_SEEDS && found === null; seed++) {
      const r = runSeed({ seed, bugs: { commitOldTermByCounting: true }, faults: FIGURE_8, ignoreRules: ['commit-rule'], traceLines: 0 })
      if (r.violations.length > 0) found = { seed, rule: r.violations[0]!.rule }
    }
    if (found !== null) console.log(`commitOldTermByCounting (consequence): found at seed ${found.seed} by ${found.rule}`)
    expect(found).not.toBeNull()
    expect(['leader-completeness', 'state-machine-safety', 'durability', 'log-matching']).toContain(found!.rule)
    expect(runSeed({ seed: found!.seed, faults: FIGURE_8, traceLines: 0 }).violations).toEqual([])
  })
})
