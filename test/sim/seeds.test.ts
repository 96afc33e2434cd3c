// The simulator over many seeds: no safety violation, and the cluster always
// recovers once the faults heal. And a run is a pure function of its seed.
import { describe, expect, it } from 'vitest'
import { runSeed } from './world'
import { runSeeds, summaryLine, failureReport } from './run'

const SEEDS = 500

describe('deterministic simulation', () => {
  it(`${SEEDS} seeds: no violations, no liveness failures`, () => {
    const summary = runSeeds(1, SEEDS, { traceLines: 200 })
    for (const r of summary.failing.slice(0, 3)) console.log(failureReport(r))
    console.log(summaryLine(summary))
    expect(summary.seeds).toBe(SEEDS)
    expect(summary.failing.map((r) => r.seed)).toEqual([])
    expect(summaryLine(summary)).toBe(`sim: ${SEEDS} seeds, 0 violations, 0 liveness failures`)
  })

  it('the same seed gives the same trace hash, a different seed a different one', () => {
    const a = runSeed({ seed: 42, hash: true })
    const b = runSeed({ seed: 42, hash: true })
    const c = runSeed({ seed: 43, hash: true })
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(b.hash).toBe(a.hash)
    expect(b.stats).toEqual(a.stats)
    expect(c.hash).not.toBe(a.hash)
  })

  it('a run does real work: leaders are elected, entries commit, clients are answered', () => {
    const r = runSeed({ seed: 7 })
    expect(r.stats.leaderTerms).toBeGreaterThan(0)
    expect(r.stats.committed).toBeGreaterThan(r.mix.voters)
    expect(r.workload.acknowledged).toBeGreaterThan(0)
    expect(r.stats.recoveryMs).not.toBeNull()
  })
})
