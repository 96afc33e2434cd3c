// Devices for the multi-context e2e tests: each device is its own Playwright
// browser context (no shared IndexedDB, BroadcastChannel or Web Locks), its
// tabs run the demo page pointed at a signaling server the test started
// itself (`?signal=`), so a test can stop or restart it.
import { expect } from '@playwright/test'
import type { Browser, BrowserContext, Page } from '@playwright/test'
import { startSignalingServer } from '../../../src/server/index'
import type { SignalingServer } from '../../../src/server/index'
import { meshOf, openTabs, pollFor } from '../../../src/testing/playwright'
import { DEMO_URL, logPageErrors } from '../helpers/demo'

export interface Device {
  context: BrowserContext
  tabs: Page[]
}

/** A signaling server of the test's own on a free port (or on `port`, for a restart). */
export const startSignal = (port = 0): Promise<SignalingServer> => startSignalingServer({ port, host: '127.0.0.1' })

/** The demo URL for `room` with signaling through `signal` (and any extra query, e.g. a secret). */
export const deviceUrl = (room: string, signal: string, extra = ''): string => DEMO_URL(room, `&signal=${encodeURIComponent(signal)}${extra}`)

/** A new device with `tabs` tabs of the demo; each tab records its mesh's error events (see errorCodes).
 *  `prepare` runs on the context before any tab opens (init scripts, a clock). */
export async function openDevice(browser: Browser, url: string, tabs = 1, prepare?: (context: BrowserContext) => Promise<void>): Promise<Device> {
  const context = await browser.newContext()
  logPageErrors(context)
  await prepare?.(context)
  const pages = await openTabs(context, url, tabs)
  for (const p of pages) await recordErrors(p)
  return { context, tabs: pages }
}

export async function recordErrors(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { meshErrors?: string[]; meshErrorMessages?: string[] }
    if (w.meshErrors !== undefined) return
    w.meshErrors = []
    w.meshErrorMessages = []
    // what came before we subscribed (a wrong secret shows while the tab joins, and
    // the Mesh hands it over on its first task) is in the demo's log, newest first
    for (const li of [...document.querySelectorAll('#log li.error')].reverse()) {
      const m = /error ([A-Z_]+): (.*)$/s.exec(li.textContent ?? '')
      if (m === null) continue
      w.meshErrors.push(m[1]!)
      w.meshErrorMessages.push(`${m[1]}: ${m[2]}`)
    }
    window.mesh!.on('error', (e) => {
      w.meshErrors!.push(e.code)
      w.meshErrorMessages!.push(`${e.code}: ${e.message}`)
    })
  })
}

/** Codes of the error events the tab's mesh emitted so far. */
export const errorCodes = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { meshErrors: string[] }).meshErrors)

/** `CODE: message` of each error event the tab's mesh emitted so far. */
export const errorMessages = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { meshErrorMessages: string[] }).meshErrorMessages)

/** Start recording the events of a watch on `path` in the tab (see watched). */
export async function watchIn(page: Page, path: string, recursive = false): Promise<void> {
  await page.evaluate(
    ([p, r]) => {
      const w = window as unknown as { watched?: Record<string, string[]> }
      w.watched ??= {}
      const seen: string[] = (w.watched[p as string] = [])
      window.mesh!.watch(p as string, (e) => seen.push(`${e.type} ${e.path}`), { recursive: r as boolean })
    },
    [path, recursive] as const,
  )
}

/** Events seen so far by the watch on `path` (watchIn). */
export const watched = (page: Page, path: string): Promise<string[]> =>
  page.evaluate((p) => (window as unknown as { watched: Record<string, string[]> }).watched[p] ?? [], path)

export const create = (page: Page, path: string, data = ''): Promise<string> => page.evaluate(([p, d]) => window.mesh!.create(p!, d!), [path, data])
export const text = (page: Page, path: string): Promise<string> => page.evaluate((p) => window.mesh!.get(p).then((n) => n.text()), path)

/** Member ids every page lists, once they all list the same set of `n`. */
export async function waitForMembers(pages: Page[], n: number): Promise<string[]> {
  return pollFor(`${n} members listed alike by every page`, async () => {
    const views = await Promise.all(pages.map(meshOf))
    const sets = views.map((v) => v.members.map((m) => m.id).sort().join(','))
    return sets.every((s) => s === sets[0]) && views[0]!.members.length === n ? views[0]!.members.map((m) => m.id).sort() : undefined
  }).catch(async (e: unknown) => {
    // what each page knew when the wait gave up: its view and its links
    for (const p of pages) console.log(`[diagnosis] ${JSON.stringify(await pageDiagnosis(p).catch((err: unknown) => String(err)))}`)
    throw e
  })
}

/** A page's mesh view, the peers its member has links to and the peers its transport knows (for failure diagnoses). */
export async function pageDiagnosis(page: Page): Promise<unknown> {
  const view = await meshOf(page)
  const links = await page.evaluate(() => {
    // the member's link table and the transport are private: read at run time for a diagnosis only
    const info = (window.mesh as unknown as Record<symbol, { diagnosticMember(): { links: { peers(): string[] } } }>)[Symbol.for('meshkeeper.browserTab')]!
    return info.diagnosticMember().links.peers().sort()
  })
  return { id: view.id, state: view.state, leader: view.leader, term: view.term, members: view.members.map((m) => `${m.id}:${m.role}`), links }
}

/** The ids of every page's own member. */
export const idsOf = async (pages: Page[]): Promise<string[]> => (await Promise.all(pages.map(meshOf))).map((v) => v.id).sort()

/** A write from `from` commits and is read back (linearizably) from each of `readers`. */
export async function commitsEverywhere(from: Page, readers: Page[], path: string, data: string): Promise<void> {
  expect(await create(from, path, data)).toBe(path)
  for (const r of readers) {
    await expect.poll(() => r.evaluate((p) => window.mesh!.get(p, { linearizable: true }).then((n) => n.text()), path), { timeout: 30_000 }).toBe(data)
  }
}

/** One more tab on a device, possibly with another URL (e.g. another signaling server). */
export async function addTab(device: Device, url: string): Promise<Page> {
  const page = await device.context.newPage()
  await page.goto(url)
  await page.waitForFunction(() => window.mesh !== undefined, undefined, { timeout: 30_000 })
  await recordErrors(page)
  device.tabs.push(page)
  return page
}
