// Issue 4, end to end: tabs of one Chromium browser context run the demo page
// (demo/main.ts: joinMesh, `window.mesh`) and form one mesh — Web Locks for
// identity, IndexedDB for the log, WebRTC data channels between the tabs.
// Every test uses a fresh room, so tests never see each other's members.
// Waits are expect.poll / pollFor, never sleeps; nothing asserts on time.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, expect, test } from '@playwright/test'
import type { Page } from '@playwright/test'
import { meshOf, openTabs, pollFor, waitForLeader, waitForMesh, waitForVoters } from '../../src/testing/playwright'
import { chromiumLaunch } from '../../playwright.config'
import { crash, DEMO_URL, freshRoom, heldLocks, logPageErrors, setHidden, tabInfo, throttleTimers } from './helpers/demo'
import { idsOf } from './devices/devices'
import { createLatencies, fmt, indexedDbStrictCommits, nextLeaderAt, percentiles, recordNextLeader, webrtcLoopbackRoundTrips } from './helpers/figures'

test.describe.configure({ mode: 'serial' })

const text = (page: Page, path: string) => page.evaluate((p) => window.mesh!.get(p).then((n) => n.text()), path)
const exists = (page: Page, path: string) => page.evaluate((p) => window.mesh!.exists(p).then((s) => s !== null), path)

test('three tabs elect exactly one leader', async ({ context }) => {
  logPageErrors(context)
  const pages = await openTabs(context, DEMO_URL(freshRoom()), 3)
  const { leader } = await waitForLeader(pages)
  await waitForVoters(pages, 3)
  const views = await Promise.all(pages.map(meshOf))
  expect(new Set(views.map((v) => v.id)).size).toBe(3)
  expect(views.filter((v) => v.isLeader).map((v) => v.id)).toEqual([leader])
  for (const v of views) {
    expect(v.members.map((m) => m.id).sort()).toEqual(views.map((x) => x.id).sort())
    expect(v.members.filter((m) => m.role === 'leader').map((m) => m.id)).toEqual([leader])
  }
})

test('each tab runs its own member under its own Web Lock; the first founded the cluster, the others joined it', async ({ context }) => {
  logPageErrors(context)
  const room = freshRoom()
  const pages = await openTabs(context, DEMO_URL(room), 3)
  await waitForLeader(pages)
  const infos = await Promise.all(pages.map(tabInfo))
  expect(infos.map((i) => i.source)).toEqual(['new', 'new', 'new'])
  expect(infos.filter((i) => i.founded)).toHaveLength(1)
  const locks = await heldLocks(pages[0]!)
  for (const i of infos) expect(locks[`meshkeeper:${room}:member:${i.member}`]).toBe(1)
  // nobody else can take a live tab's member
  const other = infos[1]!.member
  const free = await pages[0]!.evaluate((name) => navigator.locks.request(name, { ifAvailable: true }, (l) => l !== null), `meshkeeper:${room}:member:${other}`)
  expect(free).toBe(false)
})

test('with a room secret the tabs form a mesh; a tab with another secret is refused and never joins', async ({ context }) => {
  const room = freshRoom()
  const pages = await threeTabs(context, room, '&secret=correct%20horse')
  expect(await create(pages[0]!, '/sealed', 'ok')).toBe('/sealed')
  const recordErrors = (p: Page) =>
    p.evaluate(() => {
      const w = window as unknown as { errors: string[] }
      w.errors = []
      window.mesh!.on('error', (e) => w.errors.push(e.code))
    })
  for (const p of pages) await recordErrors(p)
  const [intruder] = await openTabs(context, DEMO_URL(room, '&secret=wrong'), 1)
  await recordErrors(intruder!)
  // the members cannot open the intruder's sealed signaling (nor it theirs): it is refused as UNAUTHORIZED
  const refused = async () => {
    const codes = await Promise.all([intruder!, ...pages].map((p) => p.evaluate(() => (window as unknown as { errors: string[] }).errors)))
    return codes.flat().includes('UNAUTHORIZED')
  }
  await expect.poll(refused, { timeout: 30_000 }).toBe(true)
  const intruderId = (await meshOf(intruder!)).id
  for (const p of pages) expect((await meshOf(p)).members.map((m) => m.id)).not.toContain(intruderId)
  // alone it may found a cluster of its own (a first member alone is one, design.md), but it never
  // reaches the sealed one: none of its members, none of its data
  const memberIds = await idsOf(pages)
  expect((await meshOf(intruder!)).members.map((m) => m.id).filter((id) => memberIds.includes(id))).toEqual([])
  expect(await exists(intruder!, '/sealed')).toBe(false)
})

test('a duplicated tab (sessionStorage copied) runs a member of its own, not the live one it remembers', async ({ context }) => {
  const [a, b] = await openTabs(context, DEMO_URL(freshRoom()), 2)
  await waitForLeader([a!, b!])
  const [dup] = await Promise.all([context.waitForEvent('page'), a!.evaluate(() => void window.open(location.href))])
  await waitForMesh(dup!)
  const ids = await Promise.all([a!, dup!].map((p) => meshOf(p).then((v) => v.id)))
  expect(await dup!.evaluate((room) => sessionStorage.getItem(`meshkeeper:${room}:member`), new URL(dup!.url()).searchParams.get('room'))).toBe(ids[1])
  expect(ids[1]).not.toBe(ids[0])
  await expect.poll(() => meshOf(b!).then((v) => v.members.map((m) => m.id)), { timeout: 30_000 }).toContain(ids[1])
})

test('a write in one tab is readable and fires watches in the others', async ({ context }) => {
  logPageErrors(context)
  const [a, b, c] = await openTabs(context, DEMO_URL(freshRoom()), 3)
  await waitForLeader([a!, b!, c!])
  await waitForVoters([a!, b!, c!], 3)
  for (const p of [b!, c!]) {
    await p.evaluate(() => {
      const w = window as unknown as { seen: string[] }
      w.seen = []
      window.mesh!.watch('/greeting', (e) => w.seen.push(`${e.type} ${e.path}`))
    })
  }
  expect(await a!.evaluate(() => window.mesh!.create('/greeting', 'hello'))).toBe('/greeting')
  for (const p of [b!, c!]) {
    await expect.poll(() => p.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual(['created /greeting'])
    expect(await text(p, '/greeting')).toBe('hello')
  }
  await b!.evaluate(() => window.mesh!.set('/greeting', 'bonjour'))
  await expect.poll(() => c!.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual(['created /greeting', 'data /greeting'])
  await expect.poll(() => text(a!, '/greeting')).toBe('bonjour')
})

/** Three tabs with one leader and three voters, every tab connected. */
/** the page that led when threeTabs returned (pages are settled then) */
const leaders = new WeakMap<Page[], Page>()
const leaderPageOf = (pages: Page[]): Page => leaders.get(pages)!

async function threeTabs(context: import('@playwright/test').BrowserContext, room = freshRoom(), extra = ''): Promise<Page[]> {
  logPageErrors(context)
  const pages = await openTabs(context, DEMO_URL(room, extra), 3)
  await waitForLeader(pages)
  await waitForVoters(pages, 3)
  leaders.set(pages, (await waitForLeader(pages)).page!)
  return pages
}

const create = (page: Page, path: string, data: string, mode = 'persistent') =>
  page.evaluate(([p, d, m]) => window.mesh!.create(p!, d!, { mode: m as 'persistent' }), [path, data, mode])

/**
 * A create from a tab whose peers just closed: until its death watch runs
 * their voters it reaches no quorum and says so — a write may fail NO_QUORUM
 * (never sent, surely not applied), and the app retries. Returns the path,
 * the refusals seen and the ms until it committed.
 */
const createRetryingNoQuorum = (page: Page, path: string, data: string) =>
  page.evaluate(async ([p, d]) => {
    const refusals: string[] = []
    const t0 = performance.now()
    for (;;) {
      try {
        const made = await window.mesh!.create(p!, d!)
        return { path: made, refusals, after: Math.round(performance.now() - t0) }
      } catch (e) {
        const err = e as { code?: string; outcome?: string }
        if (err.code !== 'NO_QUORUM' || err.outcome !== undefined || performance.now() - t0 > 30_000) throw e
        refusals.push(`${Math.round(performance.now() - t0)} ms`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }, [path, data])

test('multi is atomic across tabs: all of it or none of it', async ({ context }) => {
  const [a, b, c] = await threeTabs(context)
  await create(a!, '/cfg', 'v0')
  // b applies a multi that creates two nodes and bumps /cfg; c sees all of it
  const results = await b!.evaluate(() =>
    window.mesh!.multi([
      { op: 'check', path: '/cfg', version: 0 },
      { op: 'create', path: '/cfg/x', data: 'x' },
      { op: 'create', path: '/cfg/y', data: 'y' },
      { op: 'set', path: '/cfg', data: 'v1', version: 0 },
    ]),
  )
  expect(results.map((r) => r.op)).toEqual(['check', 'create', 'create', 'set'])
  await expect.poll(() => c!.evaluate(() => window.mesh!.children('/cfg'))).toEqual(['x', 'y'])
  expect(await text(c!, '/cfg')).toBe('v1')
  // a stale multi from c fails as a whole: its create does not happen
  const failure = await c!.evaluate(() =>
    window.mesh!.multi([
      { op: 'create', path: '/cfg/z', data: 'z' },
      { op: 'set', path: '/cfg', data: 'v2', version: 0 },
    ]).then(
      () => null,
      (e: { code: string; opIndex?: number }) => ({ code: e.code, opIndex: e.opIndex }),
    ),
  )
  expect(failure).toEqual({ code: 'BAD_VERSION', opIndex: 1 })
  for (const p of [a!, b!, c!]) {
    await p.evaluate(() => window.mesh!.sync())
    expect(await p.evaluate(() => window.mesh!.children('/cfg'))).toEqual(['x', 'y'])
    expect(await text(p, '/cfg')).toBe('v1')
  }
})

test('the leader tab closes and writes resume under a new leader', async ({ context }) => {
  const pages = await threeTabs(context)
  const { leader, page: leaderPage } = await waitForLeader(pages)
  const rest = pages.filter((p) => p !== leaderPage)
  await create(rest[0]!, '/before', '1')
  await leaderPage!.close()
  const next = await waitForLeader(rest)
  expect(next.leader).not.toBe(leader)
  expect(await create(rest[1]!, '/after', '2')).toBe('/after')
  await expect.poll(() => exists(rest[0]!, '/after')).toBe(true)
  expect(await text(rest[0]!, '/before')).toBe('1')
})

test('the leader tab crashes (no goodbye) and writes resume', async ({ context }) => {
  const pages = await threeTabs(context)
  const { leader, page: leaderPage } = await waitForLeader(pages)
  const rest = pages.filter((p) => p !== leaderPage)
  await crash(leaderPage!)
  const next = await waitForLeader(rest, { timeoutMs: 30_000 })
  expect(next.leader).not.toBe(leader)
  expect(await create(rest[0]!, '/after-crash', 'ok')).toBe('/after-crash')
  await expect.poll(() => exists(rest[1]!, '/after-crash')).toBe(true)
})

test('two of three tabs close at once and the last one still commits', async ({ context }) => {
  const [a, b, c] = await threeTabs(context)
  await create(a!, '/kept', 'yes')
  await Promise.all([b!.close(), c!.close()])
  // a alone: its death watch runs b's and c's voters until the leader retires them
  const alone = await createRetryingNoQuorum(a!, '/alone', 'still commits')
  expect(alone.path).toBe('/alone')
  console.log(`[two-of-three] the survivor's first write committed ${alone.after} ms after the closes (NO_QUORUM refusals at: ${alone.refusals.join(', ') || 'none'})`)
  await waitForLeader([a!])
  expect(await text(a!, '/kept')).toBe('yes')
  // retired at last: a is the only member, runs no caretaker, and the retired slots are gone
  const self = (await meshOf(a!)).id
  await expect.poll(() => meshOf(a!).then((v) => v.members.map((m) => m.id)), { timeout: 60_000 }).toEqual([self])
  await expect.poll(() => tabInfo(a!).then((i) => i.caretaking), { timeout: 30_000 }).toEqual([])
  console.log(`[two-of-three] certificates in the survivor: ${JSON.stringify((await tabInfo(a!)).certificates.map((c) => `${c.member}:${c.outcome}`))}`)
  expect(await create(a!, '/after-retire', 'ok')).toBe('/after-retire')
})

test('a tab reloads, takes its member back and keeps its data', async ({ context }) => {
  const [a, b, c] = await threeTabs(context)
  await create(a!, '/durable', 'across reloads')
  await expect.poll(() => exists(c!, '/durable')).toBe(true)
  const before = await meshOf(c!)
  await c!.reload()
  await waitForMesh(c!)
  const after = await meshOf(c!)
  expect(after.id).toBe(before.id)
  expect((await tabInfo(c!)).source).toBe('reload')
  // the others saw its lock go free (a death certificate for the old page's session) and then taken back
  const reclaimed = (p: Page) => tabInfo(p).then((i) => i.certificates.filter((x) => x.member === before.id).map((x) => x.outcome))
  await expect.poll(async () => [...(await reclaimed(a!)), ...(await reclaimed(b!))], { timeout: 30_000 }).toContain('reclaimed')
  expect(after.sessionId).not.toBe(before.sessionId)
  await expect.poll(() => exists(c!, '/durable').catch(() => false), { timeout: 30_000 }).toBe(true)
  expect(await text(c!, '/durable')).toBe('across reloads')
  // and it takes part again: its write reaches the others
  await expect.poll(() => meshOf(c!).then((v) => v.state), { timeout: 30_000 }).toBe('connected')
  await create(c!, '/from-reloaded', 'hi')
  await expect.poll(() => exists(b!, '/from-reloaded')).toBe(true)
})

test("a reload slower than the survivors' grace keeps its member: the old page says it reloads (pageswap), so the others wait for the new one", async ({ context }) => {
  const [a, b, c] = await threeTabs(context)
  await create(a!, '/durable', 'across a slow reload')
  await expect.poll(() => exists(c!, '/durable')).toBe(true)
  const before = await meshOf(c!)
  // the new page's script arrives 3 s late (a busy machine, a slow server): the
  // old page's lock has been free longer than the grace (1.5 s), so a survivor runs the member
  await c!.route(/\/main\.ts(\?|$)/, async (route) => {
    await new Promise((r) => setTimeout(r, 3_000))
    await route.continue()
  })
  await c!.reload()
  await waitForMesh(c!, { timeoutMs: 60_000 })
  const after = await meshOf(c!)
  expect(after.id).toBe(before.id)
  expect((await tabInfo(c!)).source).toBe('reload')
  // the survivors' certificates end 'reclaimed' once their longer grace is over: nobody took the member over
  const outcomes = async () => [...(await tabInfo(a!)).certificates, ...(await tabInfo(b!)).certificates].filter((x) => x.member === before.id).map((x) => x.outcome)
  await expect.poll(outcomes, { timeout: 30_000 }).toContain('reclaimed')
  expect(await outcomes()).not.toContain('taken-over')
  // still a voter of the cluster, with its data, and it writes again
  await expect.poll(() => meshOf(c!).then((v) => v.state), { timeout: 30_000 }).toBe('connected')
  expect(await text(c!, '/durable')).toBe('across a slow reload')
  await create(c!, '/from-slow-reload', 'hi')
  await expect.poll(() => exists(a!, '/from-slow-reload')).toBe(true)
  expect((await meshOf(a!)).members.find((m) => m.id === before.id)?.voter).toBe(true)
})

test('all tabs close and a new tab finds the whole tree', async ({ context }) => {
  const room = freshRoom()
  const pages = await threeTabs(context, room)
  await create(pages[0]!, '/a', '1')
  await create(pages[1]!, '/a/b', '2')
  await create(pages[2]!, '/c', '3')
  // one by one, with writes in between: the slots left behind hold logs of different lengths
  // each write right after a close may meet a survivor not yet sure of a quorum
  await pages[0]!.close()
  await createRetryingNoQuorum(pages[1]!, '/late', 'after the first close')
  await pages[1]!.close()
  const later = await createRetryingNoQuorum(pages[2]!, '/later', 'after the second close')
  console.log(`[all-close] the last tab's write committed ${later.after} ms after the second close (NO_QUORUM refusals at: ${later.refusals.join(', ') || 'none'})`)
  await pages[2]!.close()

  const [fresh] = await openTabs(context, DEMO_URL(room), 1)
  await expect.poll(() => fresh!.evaluate(() => window.mesh!.children('/').then((k) => k.filter((n) => n !== 'zookeeper'))), { timeout: 30_000 }).toEqual(['a', 'c', 'late', 'later'])
  expect(await text(fresh!, '/a/b')).toBe('2')
  console.log(`[all-close] the new tab: ${JSON.stringify(await tabInfo(fresh!))}`)
  // and it can write: the mesh of one tab works
  expect(await create(fresh!, '/d', '4')).toBe('/d')
})

test("a closed tab's ephemeral nodes disappear in the others", async ({ context }) => {
  const [a, b, c] = await threeTabs(context)
  const path = await create(c!, '/here-c', 'c', 'ephemeral')
  await expect.poll(() => exists(a!, path)).toBe(true)
  await c!.close()
  await expect.poll(() => exists(a!, path)).toBe(false)
  await expect.poll(() => exists(b!, path)).toBe(false)
})

test("a crashed tab's ephemerals go on its death certificate, long before its session timeout", async ({ context }) => {
  // a 10 minute session timeout: only the free Web Lock can close the session within the test
  const [a, b, c] = await threeTabs(context, freshRoom(), '&session=600000')
  const path = await create(c!, '/here-c', 'c', 'ephemeral')
  await expect.poll(() => exists(a!, path)).toBe(true)
  await crash(c!)
  await expect.poll(() => exists(a!, path), { timeout: 30_000 }).toBe(false)
  await expect.poll(() => exists(b!, path), { timeout: 30_000 }).toBe(false)
})

test('a hidden leader hands over leadership to a visible tab', async ({ context }) => {
  const pages = await threeTabs(context)
  const { leader, page: leaderPage } = await waitForLeader(pages)
  // headless pages are always "visible": override visibilityState and fire the event the browser would
  await setHidden(leaderPage!, true)
  const rest = pages.filter((p) => p !== leaderPage)
  // the hand-off takes a moment: right after the event every tab still agrees
  // on the old leader, so wait for a leader the tabs agree on that is not it
  const next = await pollFor('a new leader all tabs agree on', async () => {
    const agreed = await waitForLeader(pages, { anyMember: true })
    return agreed.leader === leader ? undefined : agreed
  }, { timeoutMs: 30_000 })
  expect(next.leader).not.toBe(leader)
  expect(rest).toContain(next.page)
  // everyone learns the hidden tab is not visible (members() reports it)
  await expect.poll(() => meshOf(next.page!).then((v) => v.members.find((m) => m.id === leader)?.visible)).toBe(false)
  // and the mesh still commits, from the hidden tab too
  expect(await create(leaderPage!, '/from-hidden', 'x')).toBe('/from-hidden')
  await expect.poll(() => exists(rest[0]!, '/from-hidden')).toBe(true)
})

test('when every tab is hidden and its timers run at most once a second, the leader stays: no false election', async ({ context }) => {
  const pages = await threeTabs(context)
  const { page: leaderPage, leader: first } = await waitForLeader(pages)
  const followers = pages.filter((p) => p !== leaderPage)
  // followers first: once no voter is visible the leader has nobody to hand off to and keeps leading.
  // It must know they are hidden before it hides, or it hands off to one it still thinks visible
  // (a real hand-off, not the false election this test is about, but it changes the term)
  for (const p of followers) await setHidden(p, true)
  await expect.poll(() => meshOf(leaderPage!).then((v) => v.members.filter((m) => m.id !== first).map((m) => m.visible)), { timeout: 30_000 }).toEqual([false, false])
  await setHidden(leaderPage!, true)
  const { leader, page } = await waitForLeader(pages)
  const term = (await meshOf(page!)).term
  for (const p of pages) await throttleTimers(p)
  // 15 writes through a throttled follower, each committed by throttled voters
  const writer = pages.find((p) => p !== page)!
  for (let i = 0; i < 15; i++) await create(writer, `/throttled-${i}`, 'x')
  for (const p of pages) await expect.poll(() => exists(p, '/throttled-14'), { timeout: 30_000 }).toBe(true)
  const views = await Promise.all(pages.map(meshOf))
  expect(views.map((v) => [v.leader, v.term])).toEqual(pages.map(() => [leader, term]))
  // and every tab learns that nobody is visible (the leader's roster spreads it, at the throttled pace)
  for (const p of pages) await expect.poll(() => meshOf(p).then((v) => v.members.map((m) => m.visible)), { timeout: 60_000 }).toEqual([false, false, false])
})

test('figures: follower commit latency, WebRTC round trip, IndexedDB strict commit, time to a new leader', async ({ context }) => {
  test.setTimeout(300_000)
  const pages = await threeTabs(context)
  const follower = pages.find((p) => p !== leaderPageOf(pages))!
  await createLatencies(follower, '/warm-up', 20) // warm up (JIT, channels, IndexedDB)
  console.log(`[figure] small create from a follower tab (3 voters, strict IndexedDB): ${fmt(percentiles(await createLatencies(follower, '/bench', 200)))}`)
  console.log(`[figure] small create from the leader tab (3 voters, strict IndexedDB): ${fmt(percentiles(await createLatencies(leaderPageOf(pages), '/bench-leader', 200)))}`)
  console.log(`[figure] WebRTC data channel round trip, two connections in one page: ${fmt(percentiles(await webrtcLoopbackRoundTrips(follower, 200)))}`)
  console.log(`[figure] IndexedDB readwrite transaction, one 64-byte put, durability strict: ${fmt(percentiles(await indexedDbStrictCommits(follower, 200)))}`)
  for (const p of pages) await p.close()

  // Playwright's default context is off the record (IndexedDB in memory): repeat on a profile on disk
  const dir = await mkdtemp(join(tmpdir(), 'meshkeeper-figures-'))
  const onDisk = await chromium.launchPersistentContext(dir, chromiumLaunch)
  try {
    const diskTabs = await threeTabs(onDisk)
    const diskFollower = diskTabs.find((p) => p !== leaderPageOf(diskTabs))!
    await createLatencies(diskFollower, '/warm-up', 20)
    console.log(`[figure] small create from a follower tab, profile on disk: ${fmt(percentiles(await createLatencies(diskFollower, '/bench', 200)))}`)
    console.log(`[figure] IndexedDB readwrite transaction, one 64-byte put, durability strict, profile on disk: ${fmt(percentiles(await indexedDbStrictCommits(diskFollower, 200)))}`)
  } finally {
    await onDisk.close()
    await rm(dir, { recursive: true, force: true })
  }

  for (const how of ['crash', 'graceful close'] as const) {
    const samples: number[] = []
    for (let round = 0; round < 2; round++) {
      const tabs = await threeTabs(context)
      const { leader, page } = await waitForLeader(tabs)
      const rest = tabs.filter((p) => p !== page)
      for (const p of rest) await recordNextLeader(p, leader)
      const t0 = Date.now()
      if (how === 'crash') await crash(page!)
      else await page!.close()
      await waitForLeader(rest)
      const heard = await Promise.all(rest.map(nextLeaderAt))
      samples.push(Math.min(...heard.map((t) => t ?? Infinity)) - t0)
      for (const p of rest) await p.close()
    }
    console.log(`[figure] time to a new leader after a leader tab's ${how}: ${samples.map((s) => `${s} ms`).join(', ')}`)
  }
})
