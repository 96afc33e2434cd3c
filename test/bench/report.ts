// The table `npm run bench` prints at the end: every figure with its unit,
// sample count (and failed trials), floor and ratio, then each goal met,
// missed or n/a. results.json holds the same and more (run.ts).
import { figures } from './figures'
import type { Unit } from './figures'
import type { Goal } from './goals'

const fmt = (x: number | null | undefined, unit?: Unit): string =>
  x === null || x === undefined ? '—' : unit === '/s' || Math.abs(x) >= 1000 ? Math.round(x).toString() : x >= 10 ? x.toFixed(1) : x.toFixed(2)

export function table(allGoals: Goal[]): string {
  const rows: string[][] = [['figure', 'value', 'unit', 'n', 'floor', 'ratio']]
  for (const [key, f] of Object.entries(figures)) {
    rows.push([key, f.value === null ? `null (${f.reason ?? '?'})` : fmt(f.value, f.unit), f.unit, `${f.n ?? ''}${f.failedTrials ? ` (+${f.failedTrials} failed)` : ''}`, f.floor === undefined ? '' : fmt(f.floor, f.unit), f.ratio === undefined || f.ratio === null ? (f.floorOf ? '—' : '') : `${f.ratio.toFixed(2)}x`])
  }
  const width = rows[0]!.map((_, c) => Math.min(60, Math.max(...rows.map((r) => r[c]!.length))))
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 || c === 1 ? cell.padEnd(width[c]!) : cell.padStart(width[c]!))).join('  ').trimEnd())
  lines.splice(1, 0, width.map((w) => '-'.repeat(w)).join('  '))
  lines.push('', 'goals (issue 7)')
  for (const g of allGoals) {
    const mark = g.met === null ? 'n/a   ' : g.met ? 'met   ' : 'MISSED'
    const detail = g.met === null ? `(${g.reason})` : `${fmt(g.value)} ${g.comparison} ${fmt(g.target)}`
    lines.push(`  ${mark} ${g.goal}: ${detail}`)
  }
  return lines.join('\n')
}
