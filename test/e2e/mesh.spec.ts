// Issue 4, end to end: tabs of one Chromium browser context run the demo page
// (demo/main.ts: joinMesh, `window.mesh`) and form one mesh — Web Locks for
// identity, IndexedDB for the log, WebRTC data channels between the tabs.
// Every test uses a fresh room, so tests never see each other's members.
// Waits are expect.poll / pollFor, never sleeps; nothing asserts on time.
import { expect, test } from '@playwright/test'
import type { Page } from '@playwright/test'
import { meshOf, openTabs, waitForLeader, waitForVoters } from '../../src/testing/playwright'
import { DEMO_URL, freshRoom, logPageErrors } from './helpers/demo'

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
