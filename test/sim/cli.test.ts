// The CLI's contract: the exact summary line, the exit code, a readable trace
// for a failing seed, and a trace hash that is the same on every run.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

function sim(...args: string[]): { code: number; lines: string[] } {
  const r = spawnSync('npx', ['tsx', 'test/sim/cli.ts', ...args], { encoding: 'utf8' })
  return { code: r.status ?? -1, lines: r.stdout.trim().split('\n') }
}

describe('npm run sim', () => {
  it('ends with the summary line and exits 0 when every seed passes', () => {
    const { code, lines } = sim('--from', '10', '--seeds', '3')
    expect(lines.at(-1)).toBe('sim: 3 seeds, 0 violations, 0 liveness failures, 3 histories linearizable')
    expect(code).toBe(0)
  })

  it('prints the failing seed with its trace and exits non-zero', () => {
    const { code, lines } = sim('--seed', '1', '--bug', 'ackBeforePersist')
    expect(code).toBe(1)
    expect(lines.at(-1)).toBe('sim: 1 seeds, 1 violations, 0 liveness failures, 1 histories linearizable')
    expect(lines.some((l) => l.startsWith('--- seed 1 FAILED ---'))).toBe(true)
    expect(lines.some((l) => /^violation persist-before-send/.test(l))).toBe(true)
    expect(lines.filter((l) => /^ +\d+ms /.test(l)).length).toBeGreaterThan(10)
  })

  it('--trace-hash prints the same hash for the same seed in two processes', () => {
    const a = sim('--seed', '9', '--trace-hash').lines.find((l) => l.includes('trace hash'))
    const b = sim('--seed', '9', '--trace-hash').lines.find((l) => l.includes('trace hash'))
    expect(a).toMatch(/^seed 9 trace hash [0-9a-f]{64} \(\d+ events\)$/)
    expect(b).toBe(a)
  })
})
