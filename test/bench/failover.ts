// Failover trials, shared by the parts that kill a leader (peers, mesh3,
// vanish, the scale meshes): the trials' record (samples, failed trials and
// why, write errors, each trial's election records), how it becomes a
// figure, and the meshkeeper trial itself: write loops in two survivors,
// the leader killed, the time to the first commit of a write started after
// the kill. A trial that cannot complete is counted and explained, never
// turned into a number.
import type { Page } from '@playwright/test'
import { firstLine, notes, putLatency, withFailed } from './figures'
import { clockOffset, closeAll, killer, pollUntil } from './harness'
import type { Browser, Kill } from './harness'
import { meshTabs, freshRoom, settled } from './mesh-tabs'
import type { MeshBenchWindow, MeshTabs } from './mesh-tabs'

/** Time after which a failover figure starts no new trial (a trial can take minutes when a mesh will not form). */
export const FAILOVER_BUDGET_MS = 420_000

/** Failover trials: the samples of those that completed, the reasons of those that did not, the write errors seen. */
export interface Trials {
  samples: number[]
  errors: Record<string, number>
  failed: string[]
  /** each completed trial's failover time and the members' election records around it (flightRecorder) */
  diagnosis: Array<{ ms: number; records: string[] }>
}

/** Why trial `t` (from 0) did not complete, as the notes say it. */
export const failedTrial = (t: number, err: unknown): string => `trial ${t + 1}: ${firstLine(err)}`

/** Record a failover figure from trials; a failed trial is counted and explained, never turned into a number. */
export function putTrials(key: string, r: Trials): void {
  if (r.samples.length === 0) throw new Error(r.failed[0] ?? 'no trial completed')
  putLatency(key, r.samples, withFailed(r.failed), true)
  if (Object.keys(r.errors).length > 0) notes[`${key}.writeErrors`] = r.errors
  if (r.failed.length > 0) notes[`${key}.failedTrials`] = r.failed
  notes[`${key}.trials`] = r.diagnosis
  console.log(`\n    ${key}: ${r.diagnosis.map((d) => d.ms).join(', ')} ms`)
}

/**
 * Failover trials: a fresh mesh per trial, write loops in up to two
 * survivors, then the leader is killed. Failover is the time from the kill to
 * the first commit, in a survivor, of a write started at or after the kill
 * (so a write the old leader had already replicated does not count; this
 * adds at most one commit latency to the time writes were unavailable).
 */
export async function meshFailover(browsers: Browser[], tabs: number, how: Kill, trials: number, formed: MeshTabs | null = null): Promise<Trials> {
  const result: Trials = { samples: [], errors: {}, failed: [], diagnosis: [] }
  // no new trial once this is spent, so the trials that did complete are kept
  const budgetEnds = Date.now() + FAILOVER_BUDGET_MS
  for (let t = 0; t < trials; t++) {
    if (Date.now() > budgetEnds) {
      result.failed.push(`trials ${t + 1}-${trials}: not run, the ${FAILOVER_BUDGET_MS / 1000} s budget of this figure was spent`)
      break
    }
    let pages: Page[] = []
    try {
      // the first trial may run on a mesh the caller has measured other things on
      const mesh = t === 0 && formed !== null ? await settled(formed) : await meshTabs(browsers, tabs, freshRoom(`failover-${how}`))
      pages = mesh.pages
      const writers = mesh.followers.slice(0, 2)
      const offsets = await Promise.all(writers.map(clockOffset))
      for (const w of writers) await w.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.startWrites('/failover', 2))
      const stopWriters = async (): Promise<void> => {
        for (const w of writers) {
          const e = await w.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.stopWrites())
          for (const [code, count] of Object.entries(e)) result.errors[code] = (result.errors[code] ?? 0) + count
        }
      }
      // steady state: every writer has committed since it started
      const since = Date.now()
      await pollUntil('steady writes before the kill', async () => {
        const firsts = await Promise.all(writers.map((w, i) => w.evaluate((at) => (window as unknown as MeshBenchWindow).meshBench.firstCommitSince(at), since + offsets[i]!)))
        return firsts.every((f) => f !== null) ? true : undefined
      }, 30_000).catch(async (err: Error) => {
        await stopWriters()
        throw err
      })
      const recorder = await flightRecorder(mesh.pages, [mesh.leader])
      const kill = await killer(how)(mesh.leader)
      const killedAt = await kill()
      const resumed = await pollUntil('a commit after the kill (60 s)', async () => {
        const firsts = await Promise.all(writers.map((w, i) => w.evaluate((at) => (window as unknown as MeshBenchWindow).meshBench.firstCommitSince(at), killedAt + offsets[i]!).then((f) => (f === null ? null : f - offsets[i]!))))
        const got = firsts.filter((f): f is number => f !== null)
        return got.length === 0 ? undefined : Math.min(...got)
      }, 60_000)
      result.samples.push(resumed - killedAt)
      result.diagnosis.push({ ms: Math.round(resumed - killedAt), records: await recorder.read(killedAt, resumed) })
      await stopWriters()
    } catch (err) {
      result.failed.push(failedTrial(t, err))
    } finally {
      await closeAll(pages)
    }
  }
  return result
}

/**
 * The election records (browser/flight.ts) of every member of a trial, on
 * one time line: ms after the kill, then who (K: the killed member, A, B...:
 * the others, in the order of `pages`) and what. A killed page cannot be
 * asked afterwards: what it logs from pagehide on is heard on its console.
 */
export async function flightRecorder(pages: Page[], killed: Page[]): Promise<{ read(killedAt: number, until: number): Promise<string[]> }> {
  const names = new Map<string, string>()
  const ids = await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.flight(Infinity).member)))
  let next = 0
  pages.forEach((p, i) => names.set(ids[i]!, killed.includes(p) ? `K${killed.indexOf(p) || ''}` : String.fromCharCode(65 + next++)))
  const heard: Array<{ t: number; who: string; e: string }> = []
  for (const p of killed) {
    p.on('console', (msg) => {
      const m = /^\[flight\] (\S+) (.*)$/.exec(msg.text())
      if (m !== null) heard.push({ t: Number(m[1]), who: names.get(ids[pages.indexOf(p)]!)!, e: m[2]! })
    })
  }
  const alias = (text: string): string => {
    let out = text
    for (const [id, name] of names) out = out.split(id).join(name)
    return out
  }
  return {
    async read(killedAt, until) {
      const rows = [...heard]
      for (const [i, p] of pages.entries()) {
        if (killed.includes(p) || p.isClosed()) continue
        // not corrected by a measured offset: every tab reads this machine's
        // clock, and a measurement through a busy page is off by more than that
        const f = await p.evaluate((since) => (window as unknown as MeshBenchWindow).meshBench.flight(since), killedAt - 100)
        for (const r of f.records) rows.push({ t: r.t, who: names.get(ids[i]!)!, e: r.e })
      }
      return rows
        .filter((r) => r.t <= until + 50)
        .sort((a, b) => a.t - b.t)
        .map((r) => `${Math.round(r.t - killedAt)} ${r.who} ${alias(r.e)}`)
    },
  }
}
