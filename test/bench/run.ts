// `npm run bench` (issue 7): headless Chromium on this machine, in one run —
//   the floor: what the browser itself costs (BroadcastChannel, WebRTC data
//     channel, navigator.locks, IndexedDB strict/relaxed);
//   the peers: failover of the broadcast-channel package's leader election
//     and of a bare Web Locks election;
//   meshkeeper: 3 tabs (commit, throughput, reads, watches, failover, locks,
//     reopen of a 10,000-node tree), then 9 tabs, 16 tabs over 4 browsers and
//     50 tabs over 5 browsers (formation time, commit latency, links per member).
// Prints a table, writes test/bench/results.json with every figure, its ratio
// to its floor, and the goals of issues 7 and 17 marked met / missed. A figure that
// cannot be measured is null with the reason; the run always completes.
//   npm run bench [-- --quick] [-- --only floor,peers,mesh3,reopen,lifecycle,vanish,scale9,scale16,scale50] [-- --failover-trials N] [-- --scale-failover-trials N] [-- --lifecycle-trials N] [-- --diag] [-- --profile DIR]
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from '@playwright/test'
import type { BrowserContext, Page } from '@playwright/test'
import { build as buildPages } from 'vite'
import { servePage } from './serve-pages'
import { chromiumLaunch } from '../../playwright.config'
import { startSignalingServer } from '../../src/server/index'
import { HOP_PARTS, JOINED_STAGES, joinCommitTimelines, stageGapMedians, stageMedians, stagePairMedian } from '../../src/driver/commit-timeline-join'
import type { JoinedCommit } from '../../src/driver/commit-timeline-join'
import type { IdbTx } from './browser/idb-probe'
import type { LoopTx, TogetherShape, TogetherTx } from './browser/floor'
import { putIdbFigures, putSaveStages } from './idb-figures'
import type { Mesh } from '../../src/shared/types'
import { waitForLeader, waitForVoters } from '../../src/testing/playwright'

const quick = process.argv.includes('--quick')
const diagnose = process.argv.includes('--diag')
const profileArg = process.argv.indexOf('--profile')
/** --profile DIR: CPU profiles of idle tabs are written there */
const profileDir = profileArg >= 0 ? (process.argv[profileArg + 1] ?? null) : null
const onlyArg = process.argv.indexOf('--only')
const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : null
const runs = (part: string): boolean => only === null || only.has(part)

/** `--NAME N`, a positive trial count, or null when the flag is absent */
function trialsArg(name: string): number | null {
  const at = process.argv.indexOf(name)
  if (at < 0) return null
  const n = Number(process.argv[at + 1])
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${name} takes a positive integer`)
  return n
}
/** `--failover-trials N`: more failover trials than the run's default (a tail needs n ≫ 1). */
const failoverTrials = trialsArg('--failover-trials')
/** `--scale-failover-trials N`: the scale meshes' crash failover trials (10 full, 1 quick): a 9-tab failover's stages vary by tens of ms. */
const scaleFailoverTrials = trialsArg('--scale-failover-trials')
/** `--lifecycle-trials N`: more join trials than the run's default (2 quick, 5 full: a join's stages vary by tens of ms from one to the next). */
const lifecycleTrials = trialsArg('--lifecycle-trials')

/** Trial counts: --quick keeps every key with fewer samples. */
const N0 = quick
  ? { rtt: 100, locks: 100, idb: 100, peerTrials: 1, failover: 1, commits: 30, reads: 30, watches: 20, throughputMs: 1000, coldPages: 10, closeStall: 4, lockOps: 20, reopenNodes: 10_000, scaleCommits: 20, scaleFailover: 1, lifecycle: 2, vanish: 2 }
  : { rtt: 1000, locks: 500, idb: 300, peerTrials: 10, failover: 10, commits: 300, reads: 300, watches: 100, throughputMs: 4000, coldPages: 30, closeStall: 10, lockOps: 100, reopenNodes: 10_000, scaleCommits: 100, scaleFailover: 10, lifecycle: 5, vanish: 10 }
const N = {
  ...N0,
  ...(failoverTrials === null ? {} : { failover: failoverTrials }),
  ...(scaleFailoverTrials === null ? {} : { scaleFailover: scaleFailoverTrials }),
  ...(lifecycleTrials === null ? {} : { lifecycle: lifecycleTrials }),
}

// ---------------------------------------------------------------- figures

type Unit = 'ms' | '/s' | 'links' | 'count' | 'ms/s'

interface Figure {
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

const figures: Record<string, Figure> = {}
/** what results.json should also say: write errors, failed trials, retried formations */
const notes: Record<string, unknown> = {}

function put(key: string, value: number | null, unit: Unit, more: Partial<Figure> = {}): void {
  figures[key] = { value, unit, ...more }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** p50, p99 (and max when asked) of `samples` under `key.p50` etc. */
function putLatency(key: string, samples: number[], more: Partial<Figure> = {}, withMax = false): void {
  const s = [...samples].sort((a, b) => a - b)
  const value = (p: number): number | null => (s.length === 0 ? null : percentile(s, p))
  const reason = s.length === 0 ? { reason: 'no samples' } : {}
  put(`${key}.p50`, value(50), 'ms', { n: s.length, ...reason, ...more })
  put(`${key}.p99`, value(99), 'ms', { n: s.length, ...reason, ...more })
  if (withMax) put(`${key}.max`, s.at(-1) ?? null, 'ms', { n: s.length, ...reason, ...more })
}

/** Each stage's median in ms after the write was submitted, as `key.<stage>.p50` (commit-timeline-join.ts). */
function putTimeline(key: string, commits: JoinedCommit[]): void {
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

/** A tab's clock as the commit timeline reads it (epoch ms: its timeOrigin + now). */
const tabNow = (page: Page): Promise<number> => page.evaluate(() => performance.timeOrigin + performance.now())

/** Mark every key the part would have produced as not measured, with why. */
function missing(keys: string[], reason: string): void {
  for (const k of keys) if (figures[k] === undefined || figures[k]!.value === null) put(k, null, unitOf(k), { reason })
}
/** Rates are per second, everything else is a duration. */
const unitOf = (key: string): Unit => (/\.rate$|\.throughput\./.test(key) ? '/s' : 'ms')
const latencyKeys = (key: string, withMax = false): string[] => [`${key}.p50`, `${key}.p99`, ...(withMax ? [`${key}.max`] : [])]

/** Run one measurement; on failure or timeout record its keys as null with the reason. */
async function measure(label: string, keys: string[], timeoutMs: number, fn: () => Promise<void>): Promise<void> {
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
    const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    console.log(`FAILED: ${reason}`)
    missing(keys, reason)
  } finally {
    clearTimeout(timer)
  }
}

// ---------------------------------------------------------------- browser

const root = fileURLToPath(new URL('./browser', import.meta.url))
// The pages are served as a production build (one bundle per page, as an
// app ships them), not by Vite's dev server: sixteen or fifty pages loading
// the dev server's hundreds of modules at once on 2 cores spent tens of
// seconds before any mesh work started, and the dev server runs in this
// process, taking the CPU the measurements need. Not minified, so a CPU
// profile (--profile) names our functions.
const bundleDir = mkdtempSync(join(tmpdir(), 'meshkeeper-bench-pages-'))
await buildPages({
  root,
  configFile: false,
  logLevel: 'warn',
  build: {
    outDir: bundleDir,
    emptyOutDir: true,
    target: 'esnext',
    minify: false,
    sourcemap: true,
    rollupOptions: { input: { index: join(root, 'index.html'), mesh: join(root, 'mesh.html') } },
  },
})
const http = createServer((req, res) => void servePage(bundleDir, req.url ?? '/', res))
const signaling = await startSignalingServer({ server: http, path: '/signal' })
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
const signalUrl = `${origin.replace('http', 'ws')}/signal`

const browserVersion = (() => {
  try {
    return execFileSync(chromiumLaunch.executablePath, ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
})()

/** A browser with a profile on disk, as a user's has: IndexedDB in an
 *  incognito-like context lives in memory and 'strict' would mean nothing. */
interface Browser {
  context: BrowserContext
  close(): Promise<void>
}
const openBrowsers = new Set<Browser>()

/** One browser for every part that needs one (each part uses rooms and names of its own); launching costs seconds on this machine. */
let shared: Browser | null = null
async function sharedBrowser(): Promise<Browser> {
  shared ??= await openBrowser()
  return shared
}

async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'meshkeeper-bench-'))
  const context = await chromium.launchPersistentContext(profile, chromiumLaunch)
  const b: Browser = {
    context,
    close: async () => {
      openBrowsers.delete(b)
      await context.close().catch(() => undefined)
      rmSync(profile, { recursive: true, force: true })
    },
  }
  openBrowsers.add(b)
  for (const p of context.pages()) await p.close()
  context.on('page', (page) => {
    page.on('pageerror', (err) => {
      // Vite's client looks for its HMR socket, which the bench turns off
      if (!err.message.includes('WebSocket closed without opened')) console.log(`\n    [page error] ${err.message.split('\n')[0]}`)
    })
  })
  return b
}

async function openPage(context: BrowserContext, path: string, timeoutMs = 30_000): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${origin}/${path}`, { timeout: timeoutMs })
  await page.waitForFunction(() => document.title === 'ready' || document.title.startsWith('error'), undefined, { timeout: timeoutMs }).catch(async () => {
    const title = await page.title().catch(() => '?')
    throw new Error(`page ${path.split('?')[0]} not ready after ${timeoutMs / 1000} s (title "${title}")`)
  })
  const title = await page.title()
  if (title !== 'ready') throw new Error(`page ${path}: ${title}`)
  return page
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(intervalMs)
  }
}

/**
 * A renderer crash with no goodbye (DevTools `Page.crash`): no pagehide, no
 * unload. The DevTools session is opened first so the returned kill time is
 * when the crash was sent, not when the session was ready.
 */
async function crashTab(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.context().newCDPSession(page)
  return async () => {
    const gone = new Promise<void>((resolve) => {
      page.once('crash', () => resolve())
      page.once('close', () => resolve())
    })
    const at = Date.now()
    void cdp.send('Page.crash').catch(() => undefined)
    await gone
    void page.close().catch(() => undefined)
    return at
  }
}

/** A graceful close: the page's pagehide handlers run (Playwright's page.close). */
async function closeTab(page: Page): Promise<() => Promise<number>> {
  return async () => {
    const at = Date.now()
    await page.close()
    return at
  }
}

type Kill = 'crash' | 'close'
const killer = (how: Kill) => (how === 'crash' ? crashTab : closeTab)

// ---------------------------------------------------------------- the floor

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
  peers: {
    state(): { leaderSince: number | null; impl: string }
    broadcastChannelElection(name: string, withoutLocks: boolean): void
    webLockElection(name: string): void
  }
}

/** What a tab's wall clock reads minus what the driver's reads, at one instant. */
async function clockOffset(page: Page): Promise<number> {
  const before = Date.now()
  const there = await page.evaluate(() => performance.timeOrigin + performance.now())
  const after = Date.now()
  return there - (before + after) / 2
}

let clockOffsetMs: number | null = null

async function benchFloor(): Promise<void> {
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
        await new Promise((r) => setTimeout(r, 300))
        const closedAt = await a.evaluate(() => (window as unknown as FloorWindow).floor.wallNow())
        await closing.close()
        await new Promise((r) => setTimeout(r, 200))
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
 * tab, in time order. All tabs are in one browser: one wall clock.
 */
async function handoffs(pages: Page[], takeTurns: (page: Page, startAt: number) => Promise<Turn[]>): Promise<number[]> {
  const startAt = Date.now() + 300
  const turns = await Promise.all(pages.map((p, tab) => takeTurns(p, startAt).then((ts) => ts.map((x) => ({ ...x, tab })))))
  const ordered = turns.flat().sort((x, y) => x.granted - y.granted)
  const gaps: number[] = []
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.tab !== ordered[i - 1]!.tab) gaps.push(ordered[i]!.granted - ordered[i - 1]!.released)
  }
  return gaps
}

// ---------------------------------------------------------------- the peers

/**
 * Failover of an election among 3 tabs of one browser: every tab campaigns,
 * the leader is killed, and the gap is from the kill to the moment a
 * survivor says it leads (its wall clock, corrected by the measured offset).
 */
type PeerKind = 'broadcastChannel' | 'broadcastChannelMessages' | 'webLocks'

async function peerFailover(kind: PeerKind, how: Kill, trials: number): Promise<Trials & { impl: string }> {
  const b = await sharedBrowser()
  const result: Trials & { impl: string } = { samples: [], errors: {}, failed: [], diagnosis: [], impl: '' }
  try {
    for (let t = 0; t < trials; t++) {
      const name = `peer-${kind}-${how}-${t}-${Date.now()}`
      const pages: Page[] = []
      try {
        pages.push(...(await Promise.all([0, 1, 2].map(() => openPage(b.context, 'index.html')))))
        const offset = await clockOffset(pages[0]!)
        for (const p of pages) {
          await p.evaluate(([k, n]) => (k === 'webLocks' ? (window as unknown as FloorWindow).peers.webLockElection(n!) : (window as unknown as FloorWindow).peers.broadcastChannelElection(n!, k === 'broadcastChannelMessages')), [kind, name])
        }
        const leader = await pollUntil('a peer leader', async () => {
          const states = await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as FloorWindow).peers.state())))
          result.impl = states[0]!.impl
          const i = states.findIndex((s) => s.leaderSince !== null)
          return i < 0 ? undefined : pages[i]!
        }, 10_000)
        const survivors = pages.filter((p) => p !== leader)
        const kill = await killer(how)(leader)
        const killedAt = await kill()
        const since = await pollUntil('a new peer leader (30 s)', async () => {
          const states = await Promise.all(survivors.map((p) => p.evaluate(() => (window as unknown as FloorWindow).peers.state())))
          const s = states.find((x) => x.leaderSince !== null)
          return s?.leaderSince ?? undefined
        }, 30_000)
        result.samples.push(since - offset - killedAt)
      } catch (err) {
        result.failed.push(`trial ${t + 1}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
      } finally {
        await closeAll(pages)
      }
    }
  } finally {
    await closeAll(b.context.pages())
  }
  return result
}

const peerImpl: Record<string, string> = {}

async function benchPeers(): Promise<void> {
  console.log(`peers (3 tabs of one browser, ${N.peerTrials} trials each)`)
  for (const kind of ['broadcastChannel', 'broadcastChannelMessages', 'webLocks'] as const) {
    for (const how of ['crash', 'close'] as const) {
      const key = `peers.${kind}.failover.${how}`
      await measure(`${kind} election failover after a leader ${how}`, latencyKeys(key, true), 300_000, async () => {
        const r = await peerFailover(kind, how, N.peerTrials)
        peerImpl[kind] = r.impl
        putTrials(key, r)
      })
    }
  }
}

// ---------------------------------------------------------------- meshkeeper

type MeshBenchWindow = typeof globalThis & {
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
const freshRoom = (what: string): string => `bench-${what}-${Date.now().toString(36)}-${++rooms}`
const meshUrl = (room: string, signal: boolean): string => `mesh.html?room=${encodeURIComponent(room)}&timeline=1${signal ? `&signal=${encodeURIComponent(signalUrl)}` : ''}`
/** voters a mesh of n tabs settles on (joinMesh's default maxVoters) */
const votersOf = (n: number): number => Math.min(n, 5)

/**
 * `n` meshkeeper tabs of one room spread round-robin over `browsers`, with a
 * leader every tab agrees on and all voters in place. Several browsers meet
 * through the signaling server; tabs of one browser also meet without it.
 */
interface MeshTabs {
  pages: Page[]
  leader: Page
  followers: Page[]
}

/** The mesh of `m.pages` once it agrees on a leader again (after work on it that may have moved leadership). */
async function settled(m: MeshTabs): Promise<MeshTabs> {
  const { page } = await waitForLeader(m.pages, { timeoutMs: 60_000 })
  if (page === null) throw new Error('the leader is not one of the tabs')
  return { pages: m.pages, leader: page, followers: m.pages.filter((p) => p !== page) }
}

async function meshTabs(browsers: Browser[], n: number, room: string): Promise<MeshTabs> {
  try {
    return await meshTabsOnce(browsers, n, room)
  } catch (err) {
    // one more try in a fresh room; the first failure stays on record
    const why = err instanceof Error ? err.message.split('\n')[0]! : String(err)
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
    noted.push({ failed: err instanceof Error ? err.message.split('\n')[0]! : String(err) })
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

async function closeAll(pages: Page[]): Promise<void> {
  for (const p of pages) if (!p.isClosed()) await p.close().catch(() => undefined)
}

/**
 * Failover trials: a fresh mesh per trial, write loops in up to two
 * survivors, then the leader is killed. Failover is the time from the kill to
 * the first commit, in a survivor, of a write started at or after the kill
 * (so a write the old leader had already replicated does not count; this
 * adds at most one commit latency to the time writes were unavailable).
 */
async function meshFailover(browsers: Browser[], tabs: number, how: Kill, trials: number, formed: MeshTabs | null = null): Promise<Trials> {
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
      result.failed.push(`trial ${t + 1}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    } finally {
      await closeAll(pages)
    }
  }
  return result
}

/** Time after which a failover figure starts no new trial (a trial can take minutes when a mesh will not form). */
const FAILOVER_BUDGET_MS = 420_000

/** Failover trials: the samples of those that completed, the reasons of those that did not, the write errors seen. */
interface Trials {
  samples: number[]
  errors: Record<string, number>
  failed: string[]
  /** each completed trial's failover time and the members' election records around it (flightRecorder) */
  diagnosis: Array<{ ms: number; records: string[] }>
}

/** Record a failover figure from trials; a failed trial is counted and explained, never turned into a number. */
function putTrials(key: string, r: Trials): void {
  if (r.samples.length === 0) throw new Error(r.failed[0] ?? 'no trial completed')
  putLatency(key, r.samples, r.failed.length > 0 ? { failedTrials: r.failed.length } : {}, true)
  if (Object.keys(r.errors).length > 0) notes[`${key}.writeErrors`] = r.errors
  if (r.failed.length > 0) notes[`${key}.failedTrials`] = r.failed
  notes[`${key}.trials`] = r.diagnosis
  console.log(`\n    ${key}: ${r.diagnosis.map((d) => d.ms).join(', ')} ms`)
}

/**
 * The election records (browser/flight.ts) of every member of a trial, on
 * one time line: ms after the kill, then who (K: the killed member, A, B...:
 * the others, in the order of `pages`) and what. A killed page cannot be
 * asked afterwards: what it logs from pagehide on is heard on its console.
 */
async function flightRecorder(pages: Page[], killed: Page[]): Promise<{ read(killedAt: number, until: number): Promise<string[]> }> {
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

async function benchMesh3(): Promise<void> {
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
      await measure(`main-thread time of an idle mesh, per tab`, ['mesh3.idle.busy.median', 'mesh3.idle.busy.max'], 60_000, async () => {
        putIdleBusy('mesh3', await idleBusy('mesh3', m, quick ? 3000 : 10_000))
      })
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
        const records = await Promise.all([leader, f1, f2].map((tab) => tab.evaluate(() => (window as unknown as { mesh: Mesh }).mesh.commitTimeline())))
        const commits = joinCommitTimelines(records)
        for (const kind of ['follower', 'leader'] as const) {
          const [from, to] = windows[kind]
          const mine = commits.filter((c) => c.leaderWrite === (kind === 'leader') && (c.stages.submitted ?? -1) >= from && (c.stages.submitted ?? Infinity) <= to)
          putTimeline(`mesh3.timeline.${kind}`, mine)
        }
        // what those follower writes cost in IndexedDB, in every tab
        const [from, to] = windows.follower
        const logs = await Promise.all([leader, f1, f2].map((tab) => tab.evaluate(([a, b]) => (window as unknown as MeshBenchWindow).meshBench.idbLog(a!, b!), [from, to])))
        putIdbFigures('mesh3.idb.follower', ['leader', 'requester', 'other'], logs, N.commits, put)
        const followerWrites = commits.filter((c) => !c.leaderWrite && (c.stages.submitted ?? -1) >= from && (c.stages.submitted ?? Infinity) <= to)
        putSaveStages('mesh3.save.follower', ['leader', 'requester', 'other'], logs, records, followerWrites, put)
      })
      for (const writers of [1, 8, 64, 256]) {
        const key = `mesh3.throughput.writers${writers}`
        await measure(`committed writes/s, ${writers} writer(s) in a follower`, [key], 120_000, async () => {
          // each tab's main-thread time while it runs: how near each tab is to a core's worth (1000 ms/s)
          const tabs = [leader, f1, f2]
          const from = await tabNow(f1)
          const { busy, result: r } = await busyWhile(tabs, () => f1.evaluate(([w, ms]) => (window as unknown as MeshBenchWindow).meshBench.throughput(`/tp${w}`, w!, ms!), [writers, N.throughputMs]), tabs.map((page, i) => ({ page, name: `${key}-${['leader', 'requester', 'other'][i]!}` })))
          put(key, r.perSecond, '/s', { n: r.committed })
          for (const [i, role] of ['leader', 'requester', 'other'].entries()) put(`${key}.busy.${role}`, busy[i]!, 'ms/s', { n: 1 })
          const to = await tabNow(f1)
          const logs = await Promise.all(tabs.map((tab) => tab.evaluate(([a, b]) => (window as unknown as MeshBenchWindow).meshBench.idbLog(a!, b!), [from, to])))
          putBackendLoad(key, logs, to - from)
          if (writers === 64) {
            // where a write's time goes under load (the timeline keeps each tab's latest records)
            const records = await Promise.all(tabs.map((tab) => tab.evaluate(() => (window as unknown as { mesh: Mesh }).mesh.commitTimeline())))
            putTimeline(`${key}.timeline`, joinCommitTimelines(records).filter((c) => !c.leaderWrite && (c.stages.submitted ?? -1) >= from && (c.stages.submitted ?? Infinity) <= to))
          }
          if (Object.keys(r.errors).length > 0) notes[`${key}.errors`] = r.errors
        })
      }
      // the same load spread over every tab (leader included): 64 writers in each, at once
      await measure('committed writes/s, 64 writers in each of the 3 tabs', ['mesh3.throughput.writers64x3tabs'], 120_000, async () => {
        const rs = await Promise.all([leader, f1, f2].map((tab, i) => tab.evaluate(([w, ms, at]) => (window as unknown as MeshBenchWindow).meshBench.throughput(`/tps${at}`, w!, ms!), [64, N.throughputMs, i])))
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
 * The mesh's life (issue 17): `joinMesh` call → first write resolved, for the
 * first tab of a new room (no signaling), a new tab joining a live mesh of
 * this browser, a reloaded tab, the first tab after every tab of the browser
 * closed (the log on disk), and a new device through the signaling server.
 */
async function benchLifecycle(): Promise<void> {
  console.log('meshkeeper, the mesh\'s life: joinMesh → first write')
  const b = await sharedBrowser()
  const steps: Record<string, Record<string, number>[]> = { firstTab: [], newTab: [], reload: [], reopen: [], newDevice: [] }
  let current = 'firstTab'
  const firstWrite = async (page: Page): Promise<number> => {
    const got = await page.evaluate(() => {
      const w = window as unknown as { firstWriteMs: number; joinSteps?: Record<string, number> }
      return { firstWriteMs: w.firstWriteMs, joinSteps: w.joinSteps }
    })
    if (got.joinSteps !== undefined) steps[current]!.push(got.joinSteps)
    return got.firstWriteMs
  }
  const url = (room: string, signal: boolean): string => `${meshUrl(room, signal)}&firstWrite=1`
  const samples: Record<string, number[]> = { firstTab: [], newTab: [], reload: [], reopen: [], newDevice: [] }
  await measure(`first tab, new tab, reload, reopen (${N.lifecycle} trials)`, ['firstTab', 'newTab', 'reload', 'reopen'].flatMap((k) => latencyKeys(`lifecycle.${k}`)), 600_000, async () => {
    for (let t = 0; t < N.lifecycle; t++) {
      const room = freshRoom('life')
      try {
        current = 'firstTab'
        const first = await openPage(b.context, url(room, false))
        samples['firstTab']!.push(await firstWrite(first))
        current = 'newTab'
        const second = await openPage(b.context, url(room, false))
        samples['newTab']!.push(await firstWrite(second))
        await waitForVoters([first, second], 2, { timeoutMs: 60_000 })
        await second.reload()
        await second.waitForFunction(() => document.title === 'ready' || document.title.startsWith('error'), undefined, { timeout: 30_000 })
        current = 'reload'
        samples['reload']!.push(await firstWrite(second))
        await closeAll(b.context.pages())
        current = 'reopen'
        const again = await openPage(b.context, url(room, false))
        samples['reopen']!.push(await firstWrite(again))
      } finally {
        await closeAll(b.context.pages())
      }
    }
    for (const k of ['firstTab', 'newTab', 'reload', 'reopen']) putLatency(`lifecycle.${k}`, samples[k]!)
  })
  await measure(`a new device through signaling (${N.lifecycle} trials)`, latencyKeys('lifecycle.newDevice'), 600_000, async () => {
    for (let t = 0; t < N.lifecycle; t++) {
      const room = freshRoom('device')
      const other = await openBrowser()
      try {
        await openPage(b.context, url(room, true))
        current = 'newDevice'
        const page = await openPage(other.context, url(room, true))
        samples['newDevice']!.push(await firstWrite(page))
      } finally {
        await closeAll(b.context.pages())
        await other.close()
      }
    }
    putLatency('lifecycle.newDevice', samples['newDevice']!)
  })
  printJoinSteps(steps)
}

/** Each case's join, step by step: the median ms after the joinMesh call each step was passed (bench page: joinSteps). */
function printJoinSteps(steps: Record<string, Record<string, number>[]>): void {
  console.log('  where the time goes, joinMesh call → step (ms, median over trials; min–max):')
  for (const [kind, runs] of Object.entries(steps)) {
    if (runs.length === 0) continue
    const names = [...new Set(runs.flatMap((r) => Object.keys(r)))]
    const at = (name: string): number[] => runs.map((r) => r[name]).filter((x): x is number => x !== undefined).sort((x, y) => x - y)
    const median = (xs: number[]): number => xs[Math.floor((xs.length - 1) / 2)]!
    names.sort((x, y) => median(at(x)) - median(at(y)))
    const cells = names.map((n) => {
      const xs = at(n)
      return `${n} ${median(xs).toFixed(0)}${xs.length > 1 ? ` (${xs[0]!.toFixed(0)}–${xs[xs.length - 1]!.toFixed(0)})` : ''}`
    })
    console.log(`    ${kind}: ${cells.join(', ')}`)
    // each step's own share: per trial, its time minus the step before it (in the order above), then
    // the median over trials. Medians of the times from the call do not subtract: two runs compared
    // by them blame a step for the noise of every step before it.
    const gaps = names.slice(1).map((n, i) => {
      const prev = names[i]!
      const xs = runs
        .filter((r) => r[n] !== undefined && r[prev] !== undefined)
        .map((r) => r[n]! - r[prev]!)
        .sort((x, y) => x - y)
      if (xs.length === 0) return null
      const gap = median(xs)
      // negative where trials reach the two steps in either order
      return `${n} ${gap >= 0 ? '+' : ''}${gap.toFixed(0)}`
    })
    console.log(`      each step after the one before it (median of the per-trial gaps): ${gaps.filter((g) => g !== null).join(', ')}`)
  }
}

/**
 * A device vanishes (issue 17): three devices (browsers, one tab each) meet
 * through the signaling server; the tab leading the mesh also leads the
 * election recipe (it campaigned first, the others queue behind it). Its
 * page crashes (DevTools Page.crash: no goodbye; its signaling socket closes
 * at once, its data channels stay open for seconds). Measured from the
 * crash: a survivor hears of a new raft leader, and a survivor wins the
 * recipe (its campaign resolves: the dead tab's session ended).
 */
async function benchVanish(): Promise<void> {
  console.log('meshkeeper, a device vanishes (3 devices, one tab each)')
  const raft: number[] = []
  const recipe: number[] = []
  const failed: string[] = []
  const diagnosis: Array<{ raftMs: number; recipeMs: number; records: string[] }> = []
  const keys = [...latencyKeys('vanish.raftFailover', true), ...latencyKeys('vanish.electionRecipe', true)]
  const browsers: Browser[] = []
  await measure(`raft leader and election recipe after the leader's device crashed (${N.vanish} trials)`, keys, 1_200_000, async () => {
    try {
      browsers.push(await sharedBrowser(), ...(await Promise.all([openBrowser(), openBrowser()])))
      const budgetEnds = Date.now() + FAILOVER_BUDGET_MS
      for (let t = 0; t < N.vanish && Date.now() < budgetEnds; t++) {
        let pages: Page[] = []
        try {
          const mesh = await meshTabs(browsers, 3, freshRoom('vanish'))
          pages = mesh.pages
          const ELECTION = '/app-leader'
          const bench = (p: Page) => ({
            campaign: (value: string) => p.evaluate(([path, v]) => (window as unknown as MeshBenchWindow).meshBench.campaign(path!, v!), [ELECTION, value]),
            electedAt: () => p.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.electedAt()),
          })
          await bench(mesh.leader).campaign('leader device')
          await pollUntil('the first candidate leads the recipe', async () => ((await bench(mesh.leader).electedAt()) === null ? undefined : true), 30_000, 20)
          for (const [i, f] of mesh.followers.entries()) await bench(f).campaign(`device ${i + 1}`)
          const again = await settled(mesh)
          if (again.leader !== mesh.leader) throw new Error('raft leadership moved off the recipe leader before the crash')
          // every survivor's campaign is queued (its candidate node is in the tree) before the crash
          await sleep(500)
          const goneId = await mesh.leader.evaluate(() => (window as unknown as { mesh: Mesh }).mesh.id)
          const offsets = await Promise.all(mesh.followers.map(clockOffset))
          const recorder = await flightRecorder(mesh.pages, [mesh.leader])
          const killedAt = await (await crashTab(mesh.leader))()
          const firstOf = (probe: (p: Page, i: number) => Promise<number | null>) => async (): Promise<number | undefined> => {
            const got = (await Promise.all(mesh.followers.map(probe))).filter((x): x is number => x !== null)
            return got.length === 0 ? undefined : Math.min(...got)
          }
          const raftAt = await pollUntil('a survivor hears of a new raft leader (60 s)', firstOf((p, i) => p.evaluate(([since, gone]) => (window as unknown as MeshBenchWindow).meshBench.leaderSince(since as number, gone as string), [killedAt + offsets[i]!, goneId]).then((x) => (x === null ? null : x - offsets[i]!))), 60_000, 20)
          const recipeAt = await pollUntil('a survivor wins the election recipe (60 s)', firstOf((p, i) => bench(p).electedAt().then((x) => (x === null ? null : x - offsets[i]!))), 60_000, 20)
          raft.push(raftAt - killedAt)
          recipe.push(recipeAt - killedAt)
          diagnosis.push({ raftMs: Math.round(raftAt - killedAt), recipeMs: Math.round(recipeAt - killedAt), records: await recorder.read(killedAt, recipeAt) })
        } catch (err) {
          failed.push(`trial ${t + 1}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
        } finally {
          await closeAll(pages)
        }
      }
      if (raft.length === 0) throw new Error(failed[0] ?? 'no trial completed')
      const more = failed.length > 0 ? { failedTrials: failed.length } : {}
      putLatency('vanish.raftFailover', raft, more, true)
      putLatency('vanish.electionRecipe', recipe, more, true)
      notes['vanish.trials'] = diagnosis
      if (failed.length > 0) notes['vanish.failedTrials'] = failed
      console.log(`\n    raft: ${raft.map(Math.round).join(', ')} ms; recipe: ${recipe.map(Math.round).join(', ')} ms`)
    } finally {
      for (const b of browsers) await (b === shared ? closeAll(b.context.pages()) : b.close())
    }
  })
}

async function benchReopen(): Promise<void> {
  console.log(`meshkeeper, reopening a ${N.reopenNodes}-node tree from IndexedDB`)
  const b = await sharedBrowser()
  try {
    await measure(`reopen a ${N.reopenNodes}-node tree`, ['mesh.reopen10k', 'mesh.fill10k'], 300_000, async () => {
      const room = freshRoom('reopen')
      const first = await openPage(b.context, meshUrl(room, false))
      await waitForLeader([first], { timeoutMs: 60_000 })
      const t0 = Date.now()
      await first.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.fill('/big', n, 500), N.reopenNodes)
      put('mesh.fill10k', Date.now() - t0, 'ms', { n: 1 })
      await first.close()
      const again = await openPage(b.context, meshUrl(room, false))
      put('mesh.reopen10k', await again.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.readyWith('/big', n), N.reopenNodes), 'ms', { n: 1 })
      await again.close()
    })
  } finally {
    await closeAll(b.context.pages())
  }
}

/** Formation, commit latency (from the last follower: a learner once the
 *  mesh has more tabs than voters), links per member and crash failover with
 *  `tabs` tabs over `browserCount` browsers. */
async function benchScale(label: string, tabs: number, browserCount: number, opts: { failover?: boolean } = {}): Promise<void> {
  console.log(`meshkeeper, ${tabs} tabs over ${browserCount} browser(s)`)
  const browsers: Browser[] = []
  formations.delete(tabs)
  try {
    browsers.push(await sharedBrowser(), ...(await Promise.all(Array.from({ length: browserCount - 1 }, openBrowser))))
    let formed: MeshTabs | null = null
    await measure(`commit latency from a follower`, latencyKeys(`${label}.commit.follower`), tabs <= 16 ? 300_000 : 1_500_000, async () => {
      const m = await meshTabs(browsers, tabs, freshRoom(label))
      formed = m
      const f = m.followers[m.followers.length - 1]!
      await f.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.commits('/warmup', 10))
      putLatency(`${label}.commit.follower`, await f.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.commits('/cf', n), N.scaleCommits))
    })
    await measure(`links per member`, [`${label}.links.max`, `${label}.links.median`, `${label}.links.voterMax`, `${label}.links.learnerMax`], 120_000, async () => {
      if (formed === null) throw new Error('the mesh did not form')
      putLinks(label, await linksPerMember(formed))
    })
    await measure(`main-thread time of an idle mesh, per tab`, [`${label}.idle.busy.median`, `${label}.idle.busy.max`], 60_000, async () => {
      if (formed === null) throw new Error('the mesh did not form')
      putIdleBusy(label, await idleBusy(label, formed, quick ? 3000 : 10_000))
    })
    if (opts.failover !== false) {
      await measure(`failover after a leader crash (${N.scaleFailover} trials)`, latencyKeys(`${label}.failover.crash`, true), 1_200_000, async () => {
        // the first trial kills the leader of the mesh measured above
        putTrials(`${label}.failover.crash`, await meshFailover(browsers, tabs, 'crash', N.scaleFailover, formed))
      })
    }
  } finally {
    putFormations(label, tabs)
    for (const b of browsers) await (b === shared ? closeAll(b.context.pages()) : b.close())
  }
}

/** Each tab's open links (WebRTC or tab pipe) and whether it votes, once the
 *  learners' links to other learners are gone (or 30 s passed). */
async function linksPerMember(m: MeshTabs): Promise<Array<{ links: number; voter: boolean }>> {
  const read = (): Promise<Array<{ links: number; voter: boolean }>> =>
    Promise.all(
      m.pages.map((p) =>
        p.evaluate(() => {
          const w = window as unknown as MeshBenchWindow & { mesh: { members(): Array<{ self: boolean; voter: boolean }> } }
          return { links: w.meshBench.links(), voter: w.mesh.members().find((x) => x.self)?.voter ?? false }
        }),
      ),
    )
  const voters = votersOf(m.pages.length)
  const deadline = Date.now() + 30_000
  let seen = await read()
  // pruning runs after promotions: wait until no learner links beyond the voters
  while (Date.now() < deadline && seen.some((t) => !t.voter && t.links > voters)) {
    await sleep(500)
    seen = await read()
  }
  return seen
}

function putLinks(label: string, seen: Array<{ links: number; voter: boolean }>): void {
  const all = seen.map((t) => t.links).sort((a, b) => a - b)
  const max = (xs: number[]): number | null => (xs.length === 0 ? null : Math.max(...xs))
  put(`${label}.links.max`, max(all), 'links', { n: all.length })
  put(`${label}.links.median`, all.length === 0 ? null : percentile(all, 50), 'links', { n: all.length })
  put(`${label}.links.voterMax`, max(seen.filter((t) => t.voter).map((t) => t.links)), 'links', { n: seen.filter((t) => t.voter).length })
  put(`${label}.links.learnerMax`, max(seen.filter((t) => !t.voter).map((t) => t.links)), 'links', { n: seen.filter((t) => !t.voter).length })
}

/**
 * Each tab's main-thread busy time (DevTools' TaskDuration: every task the
 * renderer's main thread ran) per second of wall time while nobody writes:
 * what a member costs the machine at rest, its ticks, heartbeats, presence
 * and keepalives. On a machine with few cores, every tab's idle cost is taken
 * from the others' commits.
 */
async function idleBusy(label: string, m: MeshTabs, windowMs: number): Promise<number[]> {
  // --profile DIR: a CPU profile of the busiest kind of tab, the leader, and
  // of one follower while idle (open in DevTools' Performance panel)
  const profiled = [m.leader, m.followers[m.followers.length - 1]!]
  const { busy } = await busyWhile(m.pages, () => sleep(windowMs), profiled.map((p, i) => ({ page: p, name: `${label}-idle-${i === 0 ? 'leader' : 'follower'}` })))
  return busy
}

/**
 * Each page's main-thread busy time (ms per second of wall time) while
 * `work` runs, and with --profile DIR a CPU profile of each page named in
 * `profiled` over the same window (DIR/<name>.cpuprofile).
 */
async function busyWhile<T>(pages: Page[], work: () => Promise<T>, profiled: Array<{ page: Page; name: string }> = []): Promise<{ busy: number[]; result: T }> {
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

function putIdleBusy(label: string, busy: number[]): void {
  const sorted = [...busy].sort((a, b) => a - b)
  put(`${label}.idle.busy.median`, sorted.length === 0 ? null : percentile(sorted, 50), 'ms/s', { n: sorted.length })
  put(`${label}.idle.busy.max`, sorted.length === 0 ? null : sorted[sorted.length - 1]!, 'ms/s', { n: sorted.length })
}

/** `label.formation` (from the first page opened) and `label.formation.afterReady`: every formation of a `tabs`-tab mesh tried in this part (failed ones counted, with why in notes). */
function putFormations(label: string, tabs: number): void {
  const tried = formations.get(tabs) ?? []
  const samples = tried.flatMap((f) => ('ms' in f ? [f.ms] : []))
  const failed = tried.flatMap((f) => ('failed' in f ? [f.failed] : []))
  if (tried.length === 0) return
  putLatency(`${label}.formation`, samples, failed.length > 0 ? { failedTrials: failed.length } : {}, true)
  // the same from the moment every tab's joinMesh had resolved (page loads on
  // a busy machine are most of the figure above)
  putLatency(`${label}.formation.afterReady`, tried.flatMap((f) => ('afterReadyMs' in f ? [f.afterReadyMs] : [])), {}, true)
  if (failed.length > 0) notes[`${label}.formation.failed`] = failed
}

// ---------------------------------------------------------------- ratios, goals, output

/** Attach each figure's floor (sum of floor keys) and ratio. */
function attachFloor(key: string, floorOf: string[]): void {
  const f = figures[key]
  if (f === undefined) return
  const parts = floorOf.map((k) => figures[k]?.value ?? null)
  const floor = parts.some((v) => v === null) ? null : parts.reduce<number>((s, v) => s + v!, 0)
  f.floorOf = floorOf
  f.floor = floor
  f.ratio = floor === null || f.value === null || floor === 0 ? null : f.value / floor
}

interface Goal {
  goal: string
  figure: string
  value: number | null
  target: number | null
  comparison: '<=' | '>='
  met: boolean | null
  reason?: string
}

function goal(text: string, figure: string, comparison: '<=' | '>=', target: number | null, why?: string): Goal {
  const value = figures[figure]?.value ?? null
  const met = value === null || target === null ? null : comparison === '<=' ? value <= target : value >= target
  const reason = met === null ? (figures[figure] === undefined ? 'not measured in this run' : (figures[figure]!.reason ?? why ?? 'floor not measured')) : undefined
  return { goal: text, figure, value, target, comparison, met, ...(reason === undefined ? {} : { reason }) }
}

const v = (key: string): number | null => figures[key]?.value ?? null
const times = (k: number, ...keys: string[]): number | null => (keys.some((x) => v(x) === null) ? null : k * keys.reduce((s, x) => s + v(x)!, 0))

function goals(): Goal[] {
  return [
    goal('commit p50 (follower) <= 1.5 x (WebRTC rtt + IndexedDB strict commit)', 'mesh3.commit.follower.p50', '<=', times(1.5, 'floor.webrtc.rtt.p50', 'floor.idb.strict.p50')),
    goal('commit p50 (leader) <= 1.5 x (WebRTC rtt + IndexedDB strict commit)', 'mesh3.commit.leader.p50', '<=', times(1.5, 'floor.webrtc.rtt.p50', 'floor.idb.strict.p50')),
    goal('writes/s with 64 writers >= 20 x IndexedDB strict commit rate', 'mesh3.throughput.writers64', '>=', times(20, 'floor.idb.strict.rate')),
    goal('failover after graceful close p50 <= 50 ms', 'mesh3.failover.close.p50', '<=', 50),
    goal('failover after graceful close p99 <= 50 ms', 'mesh3.failover.close.p99', '<=', 50),
    goal('failover after crash p50 <= 300 ms', 'mesh3.failover.crash.p50', '<=', 300),
    goal('failover after crash p99 <= 1 s', 'mesh3.failover.crash.p99', '<=', 1000),
    goal('lock acquire+release p50 <= 4 x navigator.locks', 'mesh3.lock.acquireRelease.p50', '<=', times(4, 'floor.locks.acquireRelease.p50')),
    goal('watch p50 <= commit p50 + one WebRTC round trip', 'mesh3.watch.p50', '<=', v('mesh3.commit.follower.p50') === null ? null : times(1, 'mesh3.commit.follower.p50', 'floor.webrtc.rtt.p50'), 'commit latency not measured'),
    // issue 17: joinMesh call → first write resolved
    goal('first tab ever (no signaling) joinMesh → first write p50 <= 50 ms', 'lifecycle.firstTab.p50', '<=', 50),
    goal('new tab joining a live mesh joinMesh → first write p50 <= 100 ms', 'lifecycle.newTab.p50', '<=', 100),
    goal('reloaded tab joinMesh → first write p50 <= 100 ms', 'lifecycle.reload.p50', '<=', 100),
    goal('first tab after every tab closed joinMesh → first write p50 <= 150 ms', 'lifecycle.reopen.p50', '<=', 150),
    goal('new device through signaling joinMesh → first write p50 <= 1 s', 'lifecycle.newDevice.p50', '<=', 1000),
    // issue 17, item 5: scale (the 3-tab figure is mesh3's, in the same run)
    goal('16 tabs over 4 browsers: every formation within 5 s (max, from the first page opened)', 'mesh16x4.formation.max', '<=', 5000),
    goal('16 tabs over 4 browsers: every formation within 5 s (max, from every tab joined)', 'mesh16x4.formation.afterReady.max', '<=', 5000),
    goal('16 tabs over 4 browsers: commit p50 <= 2 x the 3-tab figure', 'mesh16x4.commit.follower.p50', '<=', times(2, 'mesh3.commit.follower.p50')),
    goal('50 tabs over 5 browsers: commit p50 <= 3 x the 3-tab figure', 'mesh50x5.commit.follower.p50', '<=', times(3, 'mesh3.commit.follower.p50')),
    goal('50 tabs over 5 browsers: a learner links to the voters only (<= 5)', 'mesh50x5.links.learnerMax', '<=', 5),
    goal('raft failover after a device vanishes p99 <= 2 s', 'vanish.raftFailover.p99', '<=', 2000),
    goal('election recipe: a new app leader after the leader\'s device vanishes p99 <= 3 s', 'vanish.electionRecipe.p99', '<=', 3000),
  ]
}

/** Floors the meshkeeper figures are compared with (ratio = figure / floor). */
const FLOORS: Array<[RegExp, string[]]> = [
  [/^mesh\w*\.commit\.\w+\.(p50|p99)$/, ['floor.webrtc.rtt.$1', 'floor.idb.strict.$1']],
  [/^mesh3\.throughput\.\w+$/, ['floor.idb.strict.rate']],
  [/^mesh3\.read\.linearizable\.(p50|p99)$/, ['floor.webrtc.rtt.$1']],
  [/^mesh3\.watch\.(p50|p99)$/, ['floor.webrtc.rtt.$1', 'floor.idb.strict.$1']],
  [/^mesh\w*\.failover\.(crash|close)\.(p50|p99|max)$/, ['peers.webLocks.failover.$1.$2']],
  [/^mesh3\.lock\.acquireRelease\.(p50|p99)$/, ['floor.locks.acquireRelease.$1']],
  [/^mesh3\.lock\.handoff\.(p50|p99)$/, ['floor.locks.handoff.$1']],
  // a new, reloaded or reopened tab is a fresh page: it cannot write before its first lock and strict write
  [/^lifecycle\.(firstTab|newTab|reload|reopen)\.(p50|p99)$/, ['floor.page.write.$2']],
  [/^peers\.broadcastChannel\w*\.failover\.(crash|close)\.(p50|p99|max)$/, ['peers.webLocks.failover.$1.$2']],
]

function attachFloors(): void {
  for (const key of Object.keys(figures)) {
    for (const [re, floorKeys] of FLOORS) {
      const m = re.exec(key)
      if (m !== null) {
        attachFloor(key, floorKeys.map((k) => k.replace(/\$(\d)/g, (_, i: string) => m[Number(i)]!)))
        break
      }
    }
  }
}

const fmt = (x: number | null | undefined, unit?: Unit): string =>
  x === null || x === undefined ? '—' : unit === '/s' || Math.abs(x) >= 1000 ? Math.round(x).toString() : x >= 10 ? x.toFixed(1) : x.toFixed(2)

function table(allGoals: Goal[]): string {
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

// ---------------------------------------------------------------- main

const startedAt = Date.now()
try {
  if (runs('floor')) await benchFloor()
  if (runs('peers')) await benchPeers()
  if (runs('mesh3')) await benchMesh3()
  if (runs('reopen')) await benchReopen()
  if (runs('lifecycle')) await benchLifecycle()
  if (runs('vanish')) await benchVanish()
  if (runs('scale') || runs('scale9')) await benchScale('mesh9', 9, 1)
  if (runs('scale') || runs('scale16')) await benchScale('mesh16x4', 16, 4)
  // 50 tabs on this machine's cores: formation, commits and links; failover
  // trials of 50 tabs each would take the run's whole budget
  if (runs('scale') || runs('scale50')) await benchScale('mesh50x5', 50, 5, { failover: false })
} finally {
  for (const b of [...openBrowsers]) await b.close()
  await signaling.close()
  rmSync(bundleDir, { recursive: true, force: true })
  http.close()
}

attachFloors()
const allGoals = goals()
const results = {
  date: new Date(startedAt).toISOString(),
  quick,
  durationMs: Date.now() - startedAt,
  browser: browserVersion,
  cores: cpus().length,
  node: process.version,
  /** a tab's wall clock minus the driver's, measured once (failover times are corrected by it) */
  clockOffsetMs,
  peerImplementations: peerImpl,
  /** errors the write loops saw (e.g. during failover), by code */
  notes,
  trials: N,
  figures,
  goals: allGoals,
}
writeFileSync(fileURLToPath(new URL('./results.json', import.meta.url)), `${JSON.stringify(results, null, 2)}\n`)
console.log(`\n${browserVersion}, ${cpus().length} cores, ${quick ? 'quick' : 'full'} run in ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n`)
console.log(table(allGoals))
console.log('\nwritten: test/bench/results.json')
process.exit(0)
