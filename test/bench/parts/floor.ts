// The floor (`--only floor`): what the browser itself costs, with no
// meshkeeper in the way, so each meshkeeper figure can be read as a ratio to
// it (goals.ts). Two tabs of one browser (browser/index.html, floor.ts):
// BroadcastChannel and WebRTC data channel round trips, navigator.locks
// acquire+release and hand-off, IndexedDB strict/relaxed commits, strict
// commits issued at one instant by several tabs or databases (the one
// backend they share), commits while another tab closes, and a fresh page's
// first lock, open and write (what a new tab pays before its first write).
import type { Page } from '@playwright/test'
import type { LoopTx, TogetherShape, TogetherTx } from '../browser/floor'
import { latencyKeys, measure, put, putLatency } from '../figures'
import { clockOffset, closeAll, openPage, sharedBrowser, sleep } from '../harness'
import { N } from '../options'

type FloorWindow = typeof globalThis & {
  floor: {
    wallNow(): number
    bcEcho(name: string): void
    bcRoundTrips(name: string, n: number): Promise<number[]>
    rtcEcho(name: string): void
    rtcRoundTrips(name: string, n: number): Promise<{ connectMs: number; samples: number[] }>
    lockAcquireRelease(name: string, n: number): Promise<number[]>
    lockTurns(name: string, n: number, startAt: number): Promise<Array<{ granted: number; released: number }>>
    idbCommits(d: 'strict' | 'relaxed', n: number): Promise<{ samples: number[]; perSecond: number }>
    idbTogether(dbs: number, n: number, startAt: number, periodMs: number, shape?: TogetherShape): Promise<TogetherTx[]>
    idbLoopStart(hold?: boolean): Promise<void>
    idbLoopStop(): Promise<LoopTx[]>
    /** a page loaded with ?cold: its first lock, open and strict write (ms after its module started) */
    coldWrite(): Promise<{ lock: number; open: number; write: number }> | null
  }
}

/** A tab's wall clock minus the driver's, measured once by the floor (results.json `clockOffsetMs`). */
export let clockOffsetMs: number | null = null

export async function benchFloor(): Promise<void> {
  console.log('floor (two tabs of one browser)')
  const b = await sharedBrowser()
  try {
    const [a, e] = [await openPage(b.context, 'index.html'), await openPage(b.context, 'index.html')]
    clockOffsetMs = await clockOffset(a)
    await measure('BroadcastChannel round trip', latencyKeys('floor.broadcastChannel.rtt'), 60_000, async () => {
      await e.evaluate(() => (window as unknown as FloorWindow).floor.bcEcho('floor-bc'))
      const samples = await a.evaluate((n) => (window as unknown as FloorWindow).floor.bcRoundTrips('floor-bc', n), N.rtt)
      putLatency('floor.broadcastChannel.rtt', samples)
    })
    await measure('WebRTC data channel round trip', [...latencyKeys('floor.webrtc.rtt'), 'floor.webrtc.connect'], 60_000, async () => {
      await e.evaluate(() => (window as unknown as FloorWindow).floor.rtcEcho('floor-rtc'))
      const r = await a.evaluate((n) => (window as unknown as FloorWindow).floor.rtcRoundTrips('floor-rtc', n), N.rtt)
      putLatency('floor.webrtc.rtt', r.samples)
      put('floor.webrtc.connect', r.connectMs, 'ms', { n: 1 })
    })
    await measure('navigator.locks acquire+release', latencyKeys('floor.locks.acquireRelease'), 60_000, async () => {
      putLatency('floor.locks.acquireRelease', await a.evaluate((n) => (window as unknown as FloorWindow).floor.lockAcquireRelease('floor-lock', n), N.locks))
    })
    await measure('navigator.locks hand-off between tabs', latencyKeys('floor.locks.handoff'), 60_000, async () => {
      putLatency('floor.locks.handoff', await handoffs([a, e], (p, startAt) => p.evaluate(([n, at]) => (window as unknown as FloorWindow).floor.lockTurns('floor-handoff', n!, at!), [N.locks, startAt])))
    })
    for (const d of ['strict', 'relaxed'] as const) {
      await measure(`IndexedDB commit (${d})`, [...latencyKeys(`floor.idb.${d}`), `floor.idb.${d}.rate`], 120_000, async () => {
        const r = await a.evaluate(([dur, n]) => (window as unknown as FloorWindow).floor.idbCommits(dur as 'strict' | 'relaxed', n as number), [d, N.idb] as const)
        putLatency(`floor.idb.${d}`, r.samples)
        put(`floor.idb.${d}.rate`, r.perSecond, '/s', { n: r.samples.length })
      })
    }
    // Strict one-put transactions issued at one instant by several tabs (each
    // its own database, as our members' slots), or by one tab in several
    // databases (a tab that runs caretakers beside its member): the tabs of a
    // browser share one IndexedDB backend, so this is the floor of a save
    // that every member of a 3-tab mesh makes for one entry. Paced rounds
    // (TOGETHER_PERIOD_MS apart), each transaction timed from transaction()
    // to complete; `.first`, `.second`, `.last` are a round's first
    // transaction() to its first, second (a quorum of 2 of 3 waits for that)
    // and last complete, and
    // `.skew` the spread of a round's transaction() calls. strict1tab is the same paced loop in one
    // tab, the baseline of the others (floor.idb.strict runs back to back).
    await measure('IndexedDB strict commits at one instant, 1-3 tabs and 1-3 databases in a tab', TOGETHER.flatMap(({ key }) => [key, `${key}.first`, `${key}.second`, `${key}.last`, `${key}.skew`].flatMap((k) => latencyKeys(k))), 120_000, async () => {
      const c = await openPage(b.context, 'index.html')
      try {
        for (const { key, tabs, dbs, shape } of TOGETHER) {
          const pages = [a, e, c].slice(0, tabs)
          const startAt = Date.now() + 300
          const perTab = await Promise.all(pages.map((p) => p.evaluate(([d, n, at, period, sh]) => (window as unknown as FloorWindow).floor.idbTogether(d, n, at, period, sh), [dbs, N.idb, startAt, TOGETHER_PERIOD_MS, shape ?? {}] as const)))
          putTogether(key, perTab)
        }
      } finally {
        await c.close()
      }
    })
    // A failover after a graceful close runs its election (two strict saves
    // in a row: the candidate's term and vote, then the voter's) and its
    // first commits while the browser takes the closed page down. Two tabs
    // commit back to back, each in a database of its own, a third holds one
    // open and is closed (page.close(): pagehide runs, as in the failover
    // trials). Per trial and surviving tab: the longest commit that was on
    // the disk at any time in the 150 ms after the close (`closeStall`), and
    // the median commit of the 250 ms before it (`closeStall.before`).
    await measure('IndexedDB strict commits while another tab closes', [...latencyKeys('floor.idb.closeStall'), ...latencyKeys('floor.idb.closeStall.before')], 180_000, async () => {
      const stalls: number[] = []
      const before: number[] = []
      for (let t = 0; t < N.closeStall; t++) {
        const closing = await openPage(b.context, 'index.html')
        await closing.evaluate(() => (window as unknown as FloorWindow).floor.idbLoopStart(true))
        for (const p of [a, e]) await p.evaluate(() => (window as unknown as FloorWindow).floor.idbLoopStart())
        await sleep(300)
        const closedAt = await a.evaluate(() => (window as unknown as FloorWindow).floor.wallNow())
        await closing.close()
        await sleep(200)
        for (const p of [a, e]) {
          const txs = await p.evaluate(() => (window as unknown as FloorWindow).floor.idbLoopStop())
          const around = txs.filter((x) => x.ended >= closedAt && x.created <= closedAt + 150).map((x) => x.ended - x.created)
          const calm = txs.filter((x) => x.ended >= closedAt - 250 && x.ended < closedAt).map((x) => x.ended - x.created).sort((x, y) => x - y)
          if (around.length === 0 || calm.length === 0) throw new Error('a surviving tab committed nothing around the close')
          stalls.push(Math.max(...around))
          before.push(calm[calm.length >> 1]!)
        }
      }
      putLatency('floor.idb.closeStall', stalls)
      putLatency('floor.idb.closeStall.before', before)
    })
    // each in a page of its own, opened beside one live page as a new tab is
    await measure('a fresh page\'s first lock + IndexedDB open + strict write', ['lock', 'open', 'write'].flatMap((k) => latencyKeys(`floor.page.${k}`)), 120_000, async () => {
      const got: Record<'lock' | 'open' | 'write', number[]> = { lock: [], open: [], write: [] }
      for (let i = 0; i < N.coldPages; i++) {
        const page = await openPage(b.context, 'index.html?cold')
        const r = await page.evaluate(() => (window as unknown as FloorWindow).floor.coldWrite())
        await page.close()
        if (r === null) throw new Error('the page did not probe its first write')
        for (const k of ['lock', 'open', 'write'] as const) got[k].push(r[k])
      }
      for (const k of ['lock', 'open', 'write'] as const) putLatency(`floor.page.${k}`, got[k])
    })
  } finally {
    await closeAll(b.context.pages())
  }
}

/** The rounds of simultaneous strict commits (floor.ts idbTogether): how many tabs, databases in each. */
const TOGETHER: ReadonlyArray<{ key: string; tabs: number; dbs: number; shape?: TogetherShape }> = [
  { key: 'floor.idb.strict1tab', tabs: 1, dbs: 1 },
  { key: 'floor.idb.strict2tabs', tabs: 2, dbs: 1 },
  { key: 'floor.idb.strict3tabs', tabs: 3, dbs: 1 },
  { key: 'floor.idb.strict3tabs2stores', tabs: 3, dbs: 1, shape: { twoStores: true } },
  { key: 'floor.idb.strict2dbs1tab', tabs: 1, dbs: 2 },
  { key: 'floor.idb.strict3dbs1tab', tabs: 1, dbs: 3 },
]
/** ms between rounds: several commits' time, so a round finds the backend idle */
const TOGETHER_PERIOD_MS = 10

/** Every transaction's latency, and per round its first, second and last
 *  completion (from the round's first transaction()) and the spread of its starts. */
function putTogether(key: string, perTab: TogetherTx[][]): void {
  const all = perTab.flat()
  putLatency(key, all.map((t) => t.ended - t.created))
  const rounds = new Map<number, TogetherTx[]>()
  for (const t of all) rounds.set(t.round, [...(rounds.get(t.round) ?? []), t])
  const firstDone: number[] = []
  const second: number[] = []
  const last: number[] = []
  const skew: number[] = []
  for (const txs of rounds.values()) {
    if (txs.length < 2) continue
    const first = Math.min(...txs.map((t) => t.created))
    const ends = txs.map((t) => t.ended).sort((x, y) => x - y)
    skew.push(Math.max(...txs.map((t) => t.created)) - first)
    firstDone.push(ends[0]! - first)
    second.push(ends[1]! - first)
    last.push(ends.at(-1)! - first)
  }
  if (second.length > 0) {
    putLatency(`${key}.first`, firstDone)
    putLatency(`${key}.second`, second)
    putLatency(`${key}.last`, last)
    putLatency(`${key}.skew`, skew)
  }
}

type Turn = { granted: number; released: number }

/**
 * Tabs that take one lock in turns from `startAt` (driver's clock, so they
 * start together); the gaps between a release and the next grant by another
 * tab, in time order. All tabs are in one browser: one wall clock. The
 * floor's navigator.locks hand-off and mesh3's mesh.lock hand-off alike.
 */
export async function handoffs(pages: Page[], takeTurns: (page: Page, startAt: number) => Promise<Turn[]>): Promise<number[]> {
  const startAt = Date.now() + 300
  const turns = await Promise.all(pages.map((p, tab) => takeTurns(p, startAt).then((ts) => ts.map((x) => ({ ...x, tab })))))
  const ordered = turns.flat().sort((x, y) => x.granted - y.granted)
  const gaps: number[] = []
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.tab !== ordered[i - 1]!.tab) gaps.push(ordered[i]!.granted - ordered[i - 1]!.released)
  }
  return gaps
}
