// Issue 17 item 7, in Chromium: the back/forward cache. Going into the cache
// a page gets `pagehide` with `persisted`, and its mesh closes (gracefully:
// leadership moves, its session closes, it leaves); restored (`pageshow`
// with `persisted`) the same `window.mesh` object joins again with a new
// session and commits (browser/join.ts).
//
// What Chromium 156 does here (Playwright launches it with
// --disable-back-forward-cache; this spec launches its own browser without):
// - a page that has used WebRTC is not restored. Mostly Chromium does not
//   cache it: Page.backForwardCacheNotUsed says PageSupportNeeded / WebRTC
//   (the mesh's RTCPeerConnections are still open as the page goes: its
//   graceful close takes round trips). Sometimes it caches the page and then
//   evicts it (Circumstantial / IgnoreEventAndEvict): an event for the frozen
//   page arrived, a peer's frame or a BroadcastChannel message. Links to tabs
//   of the same browser are tab pipes (BroadcastChannels, no WebRTC): such a
//   page is cached, and evicted when a message reaches it there
//   (BroadcastChannelOnMessage). Either way
//   back loads the page afresh and the tab joins as on a reload (its own
//   member, or a new one if a surviving tab took its freed slot over meanwhile).
// - a tab with no link yet (alone in its room) is cached and restored: that
//   is where a restored page kept a closed mesh before, and what the first
//   test checks. Browsers that cache pages with WebRTC get the same rejoin.
import { chromium, expect, test } from '@playwright/test'
import type { Browser, BrowserContext, Page } from '@playwright/test'
import { chromiumLaunch } from '../../playwright.config'
import { meshOf, openTabs, waitForLeader, waitForMesh, waitForVoters } from '../../src/testing/playwright'
import { DEMO_ORIGIN, DEMO_URL, freshRoom, logPageErrors, tabInfo } from './helpers/demo'
import { commits, exists, recordStates, recorded, sessionOf } from './lifecycle/pages'

let browser: Browser
test.beforeAll(async () => {
  browser = await chromium.launch({ ...chromiumLaunch, ignoreDefaultArgs: ['--disable-back-forward-cache'] })
})
test.afterAll(async () => {
  await browser.close()
})

/** Leave the page for another and come back; what Chromium said if it did not cache the page, and whether the page's JS heap survived (a restore from the cache). */
async function awayAndBack(context: BrowserContext, page: Page, meanwhile: () => Promise<void> = async () => undefined): Promise<{ notCached: string[]; restored: boolean }> {
  // the JS heap survives only a restore from the cache: this mark tells it from a fresh load
  await page.evaluate(() => {
    const w = window as unknown as { shows: boolean[] }
    w.shows = []
    addEventListener('pageshow', (e) => w.shows.push(e.persisted))
  })
  const cdp = await context.newCDPSession(page)
  await cdp.send('Page.enable')
  const notCached: string[] = []
  cdp.on('Page.backForwardCacheNotUsed', (e) => notCached.push(JSON.stringify(e.notRestoredExplanations)))
  await page.goto(`${DEMO_ORIGIN}/elsewhere`)
  await meanwhile()
  await page.goBack({ waitUntil: 'commit' })
  await waitForMesh(page, { timeoutMs: 30_000 })
  const shows = await page.evaluate(() => (window as unknown as { shows?: boolean[] }).shows)
  return { notCached, restored: shows !== undefined && shows.includes(true) }
}

test('a tab restored from the back/forward cache rejoins: the same mesh object, a new session, it commits again', async () => {
  const context = await browser.newContext()
  logPageErrors(context)
  const [page] = await openTabs(context, DEMO_URL(freshRoom()), 1)
  await expect.poll(() => commits(page!, '/before'), { timeout: 30_000 }).toBe(true)
  const id = (await meshOf(page!)).id
  const session = await sessionOf(page!)
  await recordStates(page!)
  const { notCached, restored } = await awayAndBack(context, page!)
  expect(notCached).toEqual([])
  expect(restored).toBe(true)
  // the mesh closed as the page went; the same object is connected again, under a new session
  await expect.poll(() => page!.evaluate(() => window.mesh!.state), { timeout: 30_000 }).toBe('connected')
  expect(await recorded(page!)).toEqual(expect.arrayContaining(['closed', 'connected']))
  expect(await sessionOf(page!)).not.toBe(session)
  expect((await meshOf(page!)).id).toBe(id)
  expect(await exists(page!, '/before')).toBe(true)
  await expect.poll(() => commits(page!, '/after-restore'), { timeout: 30_000 }).toBe(true)
  // and a tab opened now joins it
  const [second] = await openTabs(context, DEMO_URL(new URL(page!.url()).searchParams.get('room')!), 1)
  await expect.poll(() => exists(second!, '/after-restore'), { timeout: 30_000 }).toBe(true)
  await context.close()
})

test('a tab with open links is not cached by Chromium (WebRTC, or a tab pipe message while cached); back loads it afresh and it joins again', async () => {
  const context = await browser.newContext()
  logPageErrors(context)
  const pages = await openTabs(context, DEMO_URL(freshRoom()), 3)
  await waitForVoters(pages, 3)
  await waitForLeader(pages)
  const [page, ...rest] = pages as [Page, ...Page[]]
  const id = (await meshOf(page)).id
  const { notCached, restored } = await awayAndBack(context, page, async () => {
    await expect.poll(() => commits(rest[0]!, '/while-away'), { timeout: 30_000 }).toBe(true)
  })
  console.log(`[figure] bfcache with links: restored=${restored}, not cached because ${notCached.join(' ')}`)
  // not restored: Chromium said why, and the reason is one we know (not a failure of ours, such as an unload handler)
  // (links to tabs of this browser are tab pipes, BroadcastChannels: a message that reaches one after the page is cached evicts it)
  if (!restored) expect(notCached.join(' ')).toMatch(/WebRTC|IgnoreEventAndEvict|BroadcastChannelOnMessage/)
  await expect.poll(() => page.evaluate(() => window.mesh!.state), { timeout: 30_000 }).toBe('connected')
  // its own member, or a new one if a surviving tab took its freed slot over meanwhile (a caretaker, as for a slow reload)
  const now = (await meshOf(page)).id
  console.log(`[figure] bfcache with links: member before ${id}, after ${now} (${(await tabInfo(page)).source})`)
  await expect.poll(() => meshOf(rest[0]!).then((v) => v.members.map((m) => m.id)), { timeout: 30_000 }).toContain(now)
  await expect.poll(() => exists(page, '/while-away'), { timeout: 30_000 }).toBe(true)
  await expect.poll(() => commits(page, '/after-back'), { timeout: 30_000 }).toBe(true)
  await context.close()
})
