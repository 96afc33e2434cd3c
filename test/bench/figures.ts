// The run's figures and notes (what results.json and the table hold), and how
// a part records them: a latency as p50 / p99 (nearest rank, max on asking),
// a commit timeline as each stage's median, a measurement that fails or times
// out as null figures with the reason, so the run always completes.
import { HOP_PARTS, JOINED_STAGES, stageGapMedians, stageMedians, stagePairMedian } from '../../src/driver/commit-timeline-join'
import type { JoinedCommit } from '../../src/driver/commit-timeline-join'

export type Unit = 'ms' | '/s' | 'links' | 'count' | 'ms/s'

export interface Figure {
  value: number | null
  unit: Unit
  /** samples behind the figure */
  n?: number
  /** why value is null */
  reason?: string
  /** trials that did not complete (notes in results.json say why) */
  failedTrials?: number
  /** the floor this figure is compared with: keys of floor figures, summed */
  floorOf?: string[]
  floor?: number | null
  ratio?: number | null
}

export const figures: Record<string, Figure> = {}
/** what results.json should also say: write errors, failed trials, retried formations */
export const notes: Record<string, unknown> = {}

export function put(key: string, value: number | null, unit: Unit, more: Partial<Figure> = {}): void {
  figures[key] = { value, unit, ...more }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** p50, p99 (and max when asked) of `samples` under `key.p50` etc. */
export function putLatency(key: string, samples: number[], more: Partial<Figure> = {}, withMax = false): void {
  const s = [...samples].sort((a, b) => a - b)
  const value = (p: number): number | null => (s.length === 0 ? null : percentile(s, p))
  const reason = s.length === 0 ? { reason: 'no samples' } : {}
  put(`${key}.p50`, value(50), 'ms', { n: s.length, ...reason, ...more })
  put(`${key}.p99`, value(99), 'ms', { n: s.length, ...reason, ...more })
  if (withMax) put(`${key}.max`, s.at(-1) ?? null, 'ms', { n: s.length, ...reason, ...more })
}

/** `failedTrials` for a figure's `more` when some trials did not complete. */
export const withFailed = (failed: unknown[]): Partial<Figure> => (failed.length > 0 ? { failedTrials: failed.length } : {})

/** Each stage's median in ms after the write was submitted, as `key.<stage>.p50` (commit-timeline-join.ts). */
export function putTimeline(key: string, commits: JoinedCommit[]): void {
  const medians = stageMedians(commits)
  const gaps = stageGapMedians(commits)
  for (const stage of JOINED_STAGES) {
    const n = commits.filter((c) => c.stages[stage] !== undefined).length
    if (n > 0) put(`${key}.${stage}.p50`, medians[stage] ?? null, 'ms', { n })
  }
  // what each stage adds after the one before it (a median of per-write differences)
  for (const stage of JOINED_STAGES) if (stage !== 'submitted' && gaps[stage] !== undefined) put(`${key}.gap.${stage}.p50`, gaps[stage], 'ms', { n: commits.length })
  if (commits.length === 0) put(`${key}.resolved.p50`, null, 'ms', { reason: 'no joined timelines' })
  // each hop split into its parts (HOP_PARTS), printed a line per hop
  const lines = new Map<string, string[]>()
  for (const { hop, part, from, to } of HOP_PARTS) {
    const m = stagePairMedian(commits, from, to)
    if (m === null) continue
    put(`${key}.hop.${hop}.${part}.p50`, m.median, 'ms', { n: m.n })
    const line = lines.get(hop) ?? []
    line.push(`${part} ${m.median.toFixed(2)}`)
    lines.set(hop, line)
  }
  if (lines.size > 0) console.log(`\n  ${key}: each hop's parts, medians in ms\n${[...lines].map(([hop, parts]) => `    ${hop.padEnd(9)} ${parts.join('  ')}`).join('\n')}`)
}

/** Mark every key the part would have produced as not measured, with why. */
export function missing(keys: string[], reason: string): void {
  for (const k of keys) if (figures[k] === undefined || figures[k]!.value === null) put(k, null, unitOf(k), { reason })
}
/** Rates are per second, everything else is a duration. */
const unitOf = (key: string): Unit => (/\.rate$|\.throughput\./.test(key) ? '/s' : 'ms')
export const latencyKeys = (key: string, withMax = false): string[] => [`${key}.p50`, `${key}.p99`, ...(withMax ? [`${key}.max`] : [])]

/** An error's first line: the reason a figure or a trial records. */
export const firstLine = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0]! : String(err))

/** Run one measurement; on failure or timeout record its keys as null with the reason. */
export async function measure(label: string, keys: string[], timeoutMs: number, fn: () => Promise<void>): Promise<void> {
  const started = Date.now()
  process.stdout.write(`  ${label} ... `)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs))),
    ])
    console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`)
  } catch (err) {
    const reason = firstLine(err)
    console.log(`FAILED: ${reason}`)
    missing(keys, reason)
  } finally {
    clearTimeout(timer)
  }
}
