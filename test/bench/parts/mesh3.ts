// meshkeeper, 3 tabs of one browser (`--only mesh3`): the figures issue 7's
// goals are about, each to be read against its floor (goals.ts). Formation;
// commit latency from a follower and from the leader, with the commit
// timeline of those writes (every tab's records joined by entry) and what
// they cost in IndexedDB; committed writes/s with 1-256 concurrent writers
// (and each tab's main-thread time, the shared IndexedDB backend's load);
// linearizable reads; watches; mesh.lock; failover after a leader crash or
// close. Also an idle mesh's main-thread cost.
import type { Page } from '@playwright/test'
import type { IdbTx } from '../browser/idb-probe'
import { meshFailover, putTrials } from '../failover'
import { latencyKeys, measure, missing, notes, put, putLatency, putTimeline } from '../figures'
import { closeAll, pollUntil, sharedBrowser, tabNow } from '../harness'
import { putIdbFigures, putSaveStages } from '../idb-figures'
import { busyWhile, measureIdleBusy } from '../main-thread'
import { freshRoom, meshTabs } from '../mesh-tabs'
import type { MeshBenchWindow, MeshTabs } from '../mesh-tabs'
import { N } from '../options'
import { handoffs } from './floor'
import { joinCommitTimelines } from '../../../src/driver/commit-timeline-join'
import type { JoinedCommit } from '../../../src/driver/commit-timeline-join'
import type { CommitTimelineRecord, Mesh } from '../../../src/shared/types'

/** The roles of the three tabs, in the order the figures list them. */
const ROLES = ['leader', 'requester', 'other']

/** Every tab's commit timeline records (the timeline keeps each tab's latest). */
const commitTimelines = (tabs: Page[]): Promise<CommitTimelineRecord[][]> => Promise.all(tabs.map((tab) => tab.evaluate(() => (window as unknown as { mesh: Mesh }).mesh.commitTimeline())))

/** Every tab's readwrite transactions between two instants of the tabs' clock (browser/idb-probe.ts). */
const idbLogs = (tabs: Page[], from: number, to: number): Promise<IdbTx[][]> => Promise.all(tabs.map((tab) => tab.evaluate(([a, b]) => (window as unknown as MeshBenchWindow).meshBench.idbLog(a!, b!), [from, to])))

/** The joined writes of one kind (a leader's own, or a follower's) submitted within [from, to]. */
const writesWithin = (commits: JoinedCommit[], leaderWrite: boolean, from: number, to: number): JoinedCommit[] =>
  commits.filter((c) => c.leaderWrite === leaderWrite && (c.stages.submitted ?? -1) >= from && (c.stages.submitted ?? Infinity) <= to)

export async function benchMesh3(): Promise<void> {
  console.log('meshkeeper, 3 tabs of one browser')
  const b = await sharedBrowser()
  try {
    let mesh: MeshTabs | null = null
    await measure('a 3-tab mesh forms', ['mesh3.formed'], 120_000, async () => {
      const t0 = Date.now()
      mesh = await meshTabs([b], 3, freshRoom('mesh3'))
      put('mesh3.formed', Date.now() - t0, 'ms', { n: 1 })
    })
    const m = mesh as MeshTabs | null
    const latencyParts = [
      'mesh3.commit.follower', 'mesh3.commit.leader', 'mesh3.read.linearizable', 'mesh3.watch', 'mesh3.watch.afterCommit', 'mesh3.lock.acquireRelease', 'mesh3.lock.handoff',
    ]
    if (m === null) {
      missing([...latencyParts.flatMap((k) => latencyKeys(k)), 'mesh3.throughput.writers1', 'mesh3.throughput.writers8', 'mesh3.throughput.writers64', 'mesh3.throughput.writers256', 'mesh3.throughput.writers64x3tabs'], 'the 3-tab mesh did not form')
    } else {
      const { leader, followers } = m
      const [f1, f2] = [followers[0]!, followers[1]!]
      const tabs = [leader, f1, f2]
      await measureIdleBusy('mesh3', m)
      await f1.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.commits('/warmup', 20))
      const windows: Record<'follower' | 'leader', [number, number]> = { follower: [0, 0], leader: [0, 0] }
      await measure('commit latency from a follower', latencyKeys('mesh3.commit.follower'), 120_000, async () => {
        const from = await tabNow(f1)
        putLatency('mesh3.commit.follower', await f1.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.commits('/cf', n), N.commits))
        windows.follower = [from, await tabNow(f1)]
      })
      await measure('commit latency from the leader', latencyKeys('mesh3.commit.leader'), 120_000, async () => {
        const from = await tabNow(leader)
        putLatency('mesh3.commit.leader', await leader.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.commits('/cl', n), N.commits))
        windows.leader = [from, await tabNow(leader)]
      })
      await measure('commit timeline of those writes (every tab\'s records joined)', [], 60_000, async () => {
        const records = await commitTimelines(tabs)
        const commits = joinCommitTimelines(records)
        for (const kind of ['follower', 'leader'] as const) putTimeline(`mesh3.timeline.${kind}`, writesWithin(commits, kind === 'leader', ...windows[kind]))
        // what those follower writes cost in IndexedDB, in every tab
        const [from, to] = windows.follower
        const logs = await idbLogs(tabs, from, to)
        putIdbFigures('mesh3.idb.follower', ROLES, logs, N.commits, put)
        putSaveStages('mesh3.save.follower', ROLES, logs, records, writesWithin(commits, false, from, to), put)
      })
      for (const writers of [1, 8, 64, 256]) {
        const key = `mesh3.throughput.writers${writers}`
        await measure(`committed writes/s, ${writers} writer(s) in a follower`, [key], 120_000, async () => {
          // each tab's main-thread time while it runs: how near each tab is to a core's worth (1000 ms/s)
          const from = await tabNow(f1)
          const { busy, result: r } = await busyWhile(tabs, () => f1.evaluate(([w, ms]) => (window as unknown as MeshBenchWindow).meshBench.throughput(`/tp${w}`, w!, ms!), [writers, N.throughputMs]), tabs.map((page, i) => ({ page, name: `${key}-${ROLES[i]!}` })))
          put(key, r.perSecond, '/s', { n: r.committed })
          for (const [i, role] of ROLES.entries()) put(`${key}.busy.${role}`, busy[i]!, 'ms/s', { n: 1 })
          const to = await tabNow(f1)
          putBackendLoad(key, await idbLogs(tabs, from, to), to - from)
          if (writers === 64) {
            // where a write's time goes under load (the timeline keeps each tab's latest records)
            putTimeline(`${key}.timeline`, writesWithin(joinCommitTimelines(await commitTimelines(tabs)), false, from, to))
          }
          if (Object.keys(r.errors).length > 0) notes[`${key}.errors`] = r.errors
        })
      }
      // the same load spread over every tab (leader included): 64 writers in each, at once
      await measure('committed writes/s, 64 writers in each of the 3 tabs', ['mesh3.throughput.writers64x3tabs'], 120_000, async () => {
        const rs = await Promise.all(tabs.map((tab, i) => tab.evaluate(([w, ms, at]) => (window as unknown as MeshBenchWindow).meshBench.throughput(`/tps${at}`, w!, ms!), [64, N.throughputMs, i])))
        const committed = rs.reduce((s, r) => s + r.committed, 0)
        put('mesh3.throughput.writers64x3tabs', rs.reduce((s, r) => s + r.perSecond, 0), '/s', { n: committed })
        const errors: Record<string, number> = {}
        for (const r of rs) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n
        if (Object.keys(errors).length > 0) notes['mesh3.throughput.writers64x3tabs.errors'] = errors
      })
      await measure('linearizable read latency from a follower', latencyKeys('mesh3.read.linearizable'), 120_000, async () => {
        putLatency('mesh3.read.linearizable', await f1.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.linearizableReads(n), N.reads))
      })
      await measure('watch latency (create in one follower, callback in the other)', [...latencyKeys('mesh3.watch'), ...latencyKeys('mesh3.watch.afterCommit')], 120_000, async () => {
        await f1.evaluate(() => (window as unknown as MeshBenchWindow).mesh.create('/watch'))
        await f2.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.listen('/watch'))
        const writes = await f1.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.timedCreates('/watch', n, 10), N.watches)
        const heard = await pollUntil('every watch event', async () => {
          const h = await f2.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.heardAt())
          return writes.every((w) => h[w.path] !== undefined) ? h : undefined
        }, 30_000, 50)
        putLatency('mesh3.watch', writes.map((w) => heard[w.path]! - w.called))
        putLatency('mesh3.watch.afterCommit', writes.map((w) => heard[w.path]! - w.committed))
      })
      await measure('lock acquire+release (uncontended)', latencyKeys('mesh3.lock.acquireRelease'), 120_000, async () => {
        putLatency('mesh3.lock.acquireRelease', await f1.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.lockAcquireRelease('/locks/solo', n), N.lockOps))
      })
      await measure('lock hand-off between two tabs (contended)', latencyKeys('mesh3.lock.handoff'), 180_000, async () => {
        putLatency('mesh3.lock.handoff', await handoffs([f1, f2], (p, startAt) => p.evaluate(([n, at]) => (window as unknown as MeshBenchWindow).meshBench.lockTurns('/locks/shared', n!, at!), [N.lockOps, startAt])))
      })
    }
    for (const how of ['crash', 'close'] as const) {
      const key = `mesh3.failover.${how}`
      await measure(`failover after a leader ${how} (${N.failover} trials)`, latencyKeys(key, true), 1_200_000, async () => {
        // the first crash trial kills the leader of the mesh measured above
        putTrials(key, await meshFailover([b], 3, how, N.failover, how === 'crash' ? m : null))
      })
    }
  } finally {
    await closeAll(b.context.pages())
  }
}

/**
 * How the tabs' readwrite transactions used the one IndexedDB backend they
 * share during a throughput window (the backend runs one readwrite
 * transaction at a time across tabs): transactions per second, entries per
 * transaction, and the share of the window in which at least one
 * transaction was open (created, not yet complete) — near 1000 ms/s, the
 * backend, not the tabs, sets the rate.
 */
function putBackendLoad(key: string, logs: IdbTx[][], windowMs: number): void {
  const all = logs.flat().filter((t) => t.ended !== undefined)
  put(`${key}.idb.txPerSecond`, (all.length * 1000) / windowMs, '/s', { n: all.length })
  const withEntries = all.filter((t) => t.entries !== undefined)
  put(`${key}.idb.entriesPerTx`, withEntries.length === 0 ? null : withEntries.reduce((s, t) => s + t.entries!.length, 0) / withEntries.length, 'count', { n: withEntries.length })
  const spans = all.map((t) => [t.created, t.ended!] as const).sort((a, b) => a[0] - b[0])
  let open = 0
  let end = -Infinity
  for (const [a, b] of spans) {
    if (a > end) open += b - a
    else if (b > end) open += b - end
    end = Math.max(end, b)
  }
  put(`${key}.idb.openShare`, (open * 1000) / windowMs, 'ms/s', { n: all.length })
}
