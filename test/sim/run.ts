// Running many seeds and summing up what they found.
import { describeMix, runSeed, type SeedResult, type SimOptions } from './world'

/** Totals over a range of seeds. */
export interface SimSummary {
  seeds: number
  /** seeds with at least one safety violation */
  violations: number
  /** seeds where the cluster did not recover after the faults healed */
  livenessFailures: number
  /** client histories checked for linearizability (0 until a workload records them) */
  histories: number
  /** of those, how many were linearizable */
  linearizable: number
  failing: SeedResult[]
}

/** Run seeds `from`..`from+count-1`; `onResult` sees each result as it comes. */
export function runSeeds(
  from: number,
  count: number,
  base: Omit<SimOptions, 'seed'> = {},
  onResult?: (r: SeedResult) => void,
): SimSummary {
  const summary: SimSummary = { seeds: 0, violations: 0, livenessFailures: 0, histories: 0, linearizable: 0, failing: [] }
  for (let seed = from; seed < from + count; seed++) {
    const r = runSeed({ ...base, seed })
    summary.seeds++
    const violated = r.violations.length > 0 || r.workload.violations.length > 0
    if (violated) summary.violations++
    if (r.liveness !== null) summary.livenessFailures++
    summary.histories += r.workload.histories
    summary.linearizable += r.workload.linearizable
    if (violated || r.liveness !== null) summary.failing.push(r)
    onResult?.(r)
  }
  return summary
}

/**
 * The CLI's last line. Exactly `sim: N seeds, V violations, L liveness failures`;
 * once a workload records histories, `, H histories linearizable` is appended
 * (H = linearizable histories; a non-linearizable one counts as a violation).
 */
export function summaryLine(s: SimSummary): string {
  const base = `sim: ${s.seeds} seeds, ${s.violations} violations, ${s.livenessFailures} liveness failures`
  return s.histories > 0 ? `${base}, ${s.linearizable} histories linearizable` : base
}

/** A readable report of one failing seed: what broke, then the trace tail. */
export function failureReport(r: SeedResult): string {
  const lines = [`--- seed ${r.seed} FAILED --- (${describeMix(r.mix)})`]
  for (const v of r.violations) lines.push(`violation ${v.rule} at ${v.at} ms on ${v.member}: ${v.detail}`)
  for (const w of r.workload.violations) lines.push(`workload violation: ${w}`)
  if (r.liveness !== null) lines.push(`liveness failure: ${r.liveness}`)
  lines.push(`last ${r.trace.length} events:`)
  lines.push(...r.trace.map((l) => `  ${l}`))
  lines.push(`replay: npm run sim -- --seed ${r.seed}`)
  return lines.join('\n')
}
