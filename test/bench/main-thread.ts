// Each tab's main-thread busy time (DevTools' TaskDuration: every task the
// renderer's main thread ran) per second of wall time, while some work runs
// or while nobody writes: on a machine with few cores every tab's time is
// taken from the others' commits, and near 1000 ms/s a tab, not the mesh,
// sets the pace. `--profile DIR` also writes a CPU profile of chosen tabs
// over the same window (open it in DevTools' Performance panel).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { measure, percentile, put } from './figures'
import { sleep } from './harness'
import type { MeshTabs } from './mesh-tabs'
import { profileDir, quick } from './options'

/**
 * Each page's main-thread busy time (ms per second of wall time) while
 * `work` runs, and with --profile DIR a CPU profile of each page named in
 * `profiled` over the same window (DIR/<name>.cpuprofile).
 */
export async function busyWhile<T>(pages: Page[], work: () => Promise<T>, profiled: Array<{ page: Page; name: string }> = []): Promise<{ busy: number[]; result: T }> {
  const sessions = await Promise.all(
    pages.map(async (p) => {
      const s = await p.context().newCDPSession(p)
      await s.send('Performance.enable')
      return s
    }),
  )
  const read = (): Promise<number[]> =>
    Promise.all(sessions.map(async (s) => (await s.send('Performance.getMetrics')).metrics.find((x) => x.name === 'TaskDuration')?.value ?? 0))
  const profiling = profileDir === null ? [] : profiled.map(({ page, name }) => ({ s: sessions[pages.indexOf(page)]!, name }))
  for (const { s } of profiling) {
    await s.send('Profiler.enable')
    await s.send('Profiler.start')
  }
  try {
    const t0 = performance.now()
    const before = await read()
    const result = await work()
    const after = await read()
    const seconds = (performance.now() - t0) / 1000
    for (const { s, name } of profiling) {
      const { profile } = await s.send('Profiler.stop')
      mkdirSync(profileDir!, { recursive: true })
      const file = join(profileDir!, `${name}.cpuprofile`)
      writeFileSync(file, JSON.stringify(profile))
      console.log(`    profile: ${file}`)
    }
    return { busy: before.map((b, i) => ((after[i]! - b) * 1000) / seconds), result }
  } finally {
    await Promise.all(sessions.map((s) => s.detach().catch(() => undefined)))
  }
}

/**
 * What a member costs the machine at rest (its ticks, heartbeats, presence
 * and keepalives): `label.idle.busy.{median,max}` over every tab of `m`
 * while nobody writes (3 s quick, 10 s full). With --profile DIR, a CPU
 * profile of the busiest kind of tab, the leader, and of one follower.
 */
export async function measureIdleBusy(label: string, m: MeshTabs | null): Promise<void> {
  await measure(`main-thread time of an idle mesh, per tab`, [`${label}.idle.busy.median`, `${label}.idle.busy.max`], 60_000, async () => {
    if (m === null) throw new Error('the mesh did not form')
    const profiled = [m.leader, m.followers[m.followers.length - 1]!]
    const { busy } = await busyWhile(m.pages, () => sleep(quick ? 3000 : 10_000), profiled.map((p, i) => ({ page: p, name: `${label}-idle-${i === 0 ? 'leader' : 'follower'}` })))
    const sorted = [...busy].sort((a, b) => a - b)
    put(`${label}.idle.busy.median`, sorted.length === 0 ? null : percentile(sorted, 50), 'ms/s', { n: sorted.length })
    put(`${label}.idle.busy.max`, sorted.length === 0 ? null : sorted[sorted.length - 1]!, 'ms/s', { n: sorted.length })
  })
}
