// A meshkeeper mesh of n tabs (browser/mesh.html) for the parts to measure
// on: tabs of one room opened over one or several browsers, until every tab
// agrees on one leader and all voters are in place; one retry in a fresh
// room, and every formation's time (or why it failed) kept for the
// `<label>.formation` figures. Also what the mesh page exposes (`meshBench`).
import type { Page } from '@playwright/test'
import type { IdbTx } from './browser/idb-probe'
import { firstLine, notes, putLatency, withFailed } from './figures'
import { closeAll, openPage, signalUrl } from './harness'
import type { Browser } from './harness'
import { diagnose } from './options'
import type { Mesh } from '../../src/shared/types'
import { waitForLeader, waitForVoters } from '../../src/testing/playwright'

export type MeshBenchWindow = typeof globalThis & {
  meshBench: {
    errors(): string[]
    links(): number
    flight(since: number): { member: string; records: Array<{ t: number; e: string }> }
    campaign(path: string, value: string): void
    electedAt(): number | null
    leaderSince(since: number, gone: string): number | null
    wallNow(): number
    idbLog(from: number, to: number): IdbTx[]
    commits(prefix: string, n: number): Promise<number[]>
    throughput(prefix: string, writers: number, durationMs: number): Promise<{ committed: number; perSecond: number; errors: Record<string, number> }>
    linearizableReads(n: number): Promise<number[]>
    listen(path: string): void
    heardAt(): Record<string, number>
    timedCreates(parent: string, n: number, pauseMs: number): Promise<Array<{ path: string; called: number; committed: number }>>
    startWrites(prefix: string, loops: number): void
    firstCommitSince(since: number): number | null
    stopWrites(): Record<string, number>
    lockAcquireRelease(path: string, n: number): Promise<number[]>
    lockTurns(path: string, n: number, startAt: number): Promise<Array<{ granted: number; released: number }>>
    fill(parent: string, count: number, perMulti: number): Promise<void>
    readyWith(parent: string, count: number): Promise<number>
  }
  mesh: { create(path: string, data?: string): Promise<string> }
}

let rooms = 0
export const freshRoom = (what: string): string => `bench-${what}-${Date.now().toString(36)}-${++rooms}`
export const meshUrl = (room: string, signal: boolean): string => `mesh.html?room=${encodeURIComponent(room)}&timeline=1${signal ? `&signal=${encodeURIComponent(signalUrl)}` : ''}`
/** voters a mesh of n tabs settles on (joinMesh's default maxVoters) */
export const votersOf = (n: number): number => Math.min(n, 5)

/**
 * `n` meshkeeper tabs of one room spread round-robin over `browsers`, with a
 * leader every tab agrees on and all voters in place. Several browsers meet
 * through the signaling server; tabs of one browser also meet without it.
 */
export interface MeshTabs {
  pages: Page[]
  leader: Page
  followers: Page[]
}

/** The mesh of `m.pages` once it agrees on a leader again (after work on it that may have moved leadership). */
export async function settled(m: MeshTabs): Promise<MeshTabs> {
  const { page } = await waitForLeader(m.pages, { timeoutMs: 60_000 })
  if (page === null) throw new Error('the leader is not one of the tabs')
  return { pages: m.pages, leader: page, followers: m.pages.filter((p) => p !== page) }
}

export async function meshTabs(browsers: Browser[], n: number, room: string): Promise<MeshTabs> {
  try {
    return await meshTabsOnce(browsers, n, room)
  } catch (err) {
    // one more try in a fresh room; the first failure stays on record
    const why = firstLine(err)
    ;((notes['meshFormationRetries'] ??= []) as string[]).push(`${n} tabs, room ${room}: ${why}`)
    return meshTabsOnce(browsers, n, `${room}-retry`)
  }
}

/** Every mesh formation tried, by tab count: ms from the first page opened to
 *  a leader every tab agrees on with all voters in place, or why it failed. */
const formations = new Map<number, Array<{ ms: number; afterReadyMs: number } | { failed: string }>>()
/** when the last page of the mesh being formed was ready (its joinMesh resolved) */
let allReadyAt = 0

async function meshTabsOnce(browsers: Browser[], n: number, room: string): Promise<MeshTabs> {
  const startedAt = Date.now()
  const noted = formations.get(n) ?? []
  formations.set(n, noted)
  try {
    const m = await meshTabsForming(browsers, n, room)
    noted.push({ ms: Date.now() - startedAt, afterReadyMs: Date.now() - allReadyAt })
    return m
  } catch (err) {
    noted.push({ failed: firstLine(err) })
    throw err
  }
}

async function meshTabsForming(browsers: Browser[], n: number, room: string): Promise<MeshTabs> {
  const startedAt = Date.now()
  const signal = browsers.length > 1
  // up to 16 tabs open at once; more open a wave of one per browser at a time
  // (50 pages loading the dev server's modules at once on 2 cores time out
  // in page.goto before any mesh work starts)
  const wave = n <= 16 ? n : browsers.length
  const opened: PromiseSettledResult<Page>[] = []
  for (let i = 0; i < n; i += wave) {
    const count = Math.min(wave, n - i)
    opened.push(...(await Promise.allSettled(Array.from({ length: count }, (_, k) => openPage(browsers[(i + k) % browsers.length]!.context, meshUrl(room, signal), n <= 16 ? 30_000 : 120_000)))))
  }
  const pages = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
  try {
    const failed = opened.find((o) => o.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
    const t0 = Date.now()
    // --diag: every 2 s while the mesh forms, each tab's member, leader, role (L/V/l), voters/members and links
    const diag = !diagnose ? null : setInterval(() => {
      void Promise.all(pages.map((p) => p.evaluate(() => {
        const w = window as unknown as MeshBenchWindow & { mesh: Mesh }
        const me = w.mesh.members()
        return `${w.mesh.id.slice(0, 4)}:${w.mesh.leader?.slice(0, 4) ?? '-'}:${w.mesh.isLeader ? 'L' : me.find((x) => x.self)?.voter ? 'V' : 'l'}:v${me.filter((x) => x.voter).length}/${me.length}:l${w.meshBench.links()}`
      }).catch(() => '?'))).then((v) => console.log(`[${Date.now() - t0}] ${v.join(' ')}`))
    }, 2000)
    // more than 16 tabs on 2 cores: minutes, not seconds (the figure says how long it took)
    const timeoutMs = n <= 16 ? 60_000 : 300_000
    allReadyAt = Date.now()
    if (diagnose) console.log(`[${Date.now() - startedAt} ms since the first page opened] all ${pages.length} pages ready`)
    // the diagnosis stops with the formation, whether it formed or not
    const { page } = await (async () => {
      try {
        const led = await waitForLeader(pages, { timeoutMs })
        await waitForVoters(pages, votersOf(n), { timeoutMs })
        return led
      } finally {
        if (diag !== null) clearInterval(diag)
      }
    })()
    if (diagnose) {
      const errs = await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.errors()).catch(() => [])))
      errs.forEach((e, i) => e.length > 0 && console.log(`[tab ${i}] ${e.length} error events: ${e.slice(0, 5).join(' | ')}`))
    }
    const again = await waitForLeader(pages, { timeoutMs })
    if (again.page === null || again.page !== page) throw new Error('leadership moved while the mesh settled')
    return { pages, leader: page, followers: pages.filter((p) => p !== page) }
  } catch (err) {
    await closeAll(pages)
    throw err
  }
}

/** Forget the formations of `tabs`-tab meshes tried so far (a part counts its own). */
export function forgetFormations(tabs: number): void {
  formations.delete(tabs)
}

/** `label.formation` (from the first page opened) and `label.formation.afterReady`: every formation of a `tabs`-tab mesh tried in this part (failed ones counted, with why in notes). */
export function putFormations(label: string, tabs: number): void {
  const tried = formations.get(tabs) ?? []
  const samples = tried.flatMap((f) => ('ms' in f ? [f.ms] : []))
  const failed = tried.flatMap((f) => ('failed' in f ? [f.failed] : []))
  if (tried.length === 0) return
  putLatency(`${label}.formation`, samples, withFailed(failed), true)
  // the same from the moment every tab's joinMesh had resolved (page loads on
  // a busy machine are most of the figure above)
  putLatency(`${label}.formation.afterReady`, tried.flatMap((f) => ('afterReadyMs' in f ? [f.afterReadyMs] : [])), {}, true)
  if (failed.length > 0) notes[`${label}.formation.failed`] = failed
}
