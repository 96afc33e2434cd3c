// Three tabs of one browser find each other over BroadcastChannel and talk
// over WebRTC data channels (simple-peer's browser bundle, Debian Chromium).
import { expect, test } from '@playwright/test'
import type { Page } from '@playwright/test'
import { startSignalingServer } from '../../src/server/index'
import { HARNESS_PORT } from './helpers/ports'

const HARNESS = `http://localhost:${HARNESS_PORT}/`
const MiB = 1024 * 1024

async function openTab(page: Page, member: string, room: string, opts: { signal?: string[]; secret?: string } = {}): Promise<void> {
  page.on('pageerror', (err) => console.log(`[${member}] page error: ${err.message}`))
  await page.goto(HARNESS)
  await page.waitForFunction(() => typeof window.harness === 'object')
  await page.evaluate(([m, r, o]) => window.harness.start(m as string, r as string, o as { signal?: string[]; secret?: string }), [member, room, opts] as const)
}

const peersOf = (page: Page) => page.evaluate(() => window.harness.peers())

test('three tabs connect pairwise over WebRTC, exchange small and 3 MiB messages, and see a closed tab go', async ({ context }) => {
  const room = `e2e-${Date.now()}`
  const [a, b, c] = [await context.newPage(), await context.newPage(), await context.newPage()]
  await openTab(a, 'a', room)
  await openTab(b, 'b', room)
  await openTab(c, 'c', room)

  await expect.poll(() => peersOf(a), { timeout: 30_000 }).toEqual(['b', 'c'])
  await expect.poll(() => peersOf(b), { timeout: 30_000 }).toEqual(['a', 'c'])
  await expect.poll(() => peersOf(c), { timeout: 30_000 }).toEqual(['a', 'b'])

  // every ordered pair carries a small message; a -> b also carries 3 MiB between two small ones
  const pages = { a, b, c }
  const sent: Array<{ from: string; to: string; length: number; sum: number }> = []
  for (const [from, page] of Object.entries(pages)) {
    for (const to of Object.keys(pages)) {
      if (to === from) continue
      const sum = await page.evaluate(([t]) => window.harness.send(t!, 100, 7), [to])
      sent.push({ from, to, length: 100, sum })
      if (from === 'a' && to === 'b') {
        const big = await page.evaluate(() => window.harness.send('b', 3 * 1024 * 1024, 11))
        sent.push({ from, to, length: 3 * MiB, sum: big })
        const after = await page.evaluate(() => window.harness.send('b', 1, 13))
        sent.push({ from, to, length: 1, sum: after })
      }
    }
  }
  // each link is ordered; messages of different senders may interleave
  const bySender = (msgs: Array<{ from: string; length: number; sum: number }>) =>
    Object.fromEntries(['a', 'b', 'c'].map((from) => [from, msgs.filter((m) => m.from === from).map(({ length, sum }) => ({ length, sum }))]))
  for (const [to, page] of Object.entries(pages)) {
    const expected = bySender(sent.filter((s) => s.to === to))
    await expect.poll(async () => bySender(await page.evaluate(() => window.harness.received())), { timeout: 60_000 }).toEqual(expected)
  }

  const rtts = (await a.evaluate(() => window.harness.roundTrips('b', 50))).sort((x, y) => x - y)
  console.log(`[figure] WebRTC round trip between two tabs (Chromium): median ${rtts[25]!.toFixed(2)} ms, p90 ${rtts[45]!.toFixed(2)} ms, max ${rtts[49]!.toFixed(2)} ms`)
  const ms = await a.evaluate(() => window.harness.transferTime('b', 8 * 1024 * 1024))
  console.log(`[figure] 8 MiB message between two tabs (Chromium): ${ms.toFixed(0)} ms until acknowledged, ${((8 / ms) * 1000).toFixed(1)} MiB/s`)

  // closing a tab closes its links in the others
  await c.close()
  await expect.poll(() => peersOf(a), { timeout: 30_000 }).toEqual(['b'])
  await expect.poll(() => peersOf(b), { timeout: 30_000 }).toEqual(['a'])
  const closedInA = await a.evaluate(() => window.harness.closedLinks().map((l) => l.peer))
  expect(closedInA).toEqual(['c'])
  expect(await a.evaluate(() => window.harness.errors())).toEqual([])
})

test('two devices (separate browser contexts) meet through the signaling server with a room secret; a wrong secret is refused', async ({ browser }) => {
  const server = await startSignalingServer({ port: 0, host: '127.0.0.1' })
  try {
    const room = `ws-${Date.now()}`
    const devices = [await browser.newContext(), await browser.newContext(), await browser.newContext()]
    const [a, b, m] = await Promise.all(devices.map((d) => d.newPage()))
    await openTab(a!, 'a', room, { signal: [server.url], secret: 'open sesame' })
    await openTab(b!, 'b', room, { signal: [server.url], secret: 'open sesame' })
    await expect.poll(() => peersOf(a!), { timeout: 30_000 }).toEqual(['b'])
    await expect.poll(() => peersOf(b!), { timeout: 30_000 }).toEqual(['a'])
    const sum = await a!.evaluate(() => window.harness.send('b', 1000, 5))
    await expect.poll(() => b!.evaluate(() => window.harness.received()), { timeout: 30_000 }).toEqual([{ from: 'a', length: 1000, sum }])

    // a link that fails is re-made (through the server, still sealed)
    await a!.evaluate(() => window.harness.breakLink('b'))
    await expect.poll(() => a!.evaluate(() => window.harness.linksSeen()), { timeout: 30_000 }).toEqual({ b: 2 })
    await expect.poll(() => peersOf(a!), { timeout: 30_000 }).toEqual(['b'])
    const sum2 = await a!.evaluate(() => window.harness.send('b', 10, 6))
    await expect.poll(async () => (await b!.evaluate(() => window.harness.received())).at(-1), { timeout: 30_000 }).toEqual({ from: 'a', length: 10, sum: sum2 })

    await openTab(m!, 'm', room, { signal: [server.url], secret: 'wrong guess' })
    await expect.poll(() => a!.evaluate(() => window.harness.errors().some((e) => e.startsWith('UNAUTHORIZED'))), { timeout: 30_000 }).toBe(true)
    expect(await peersOf(a!)).toEqual(['b'])
    expect(await peersOf(m!)).toEqual([])
    await Promise.all(devices.map((d) => d.close()))
  } finally {
    await server.close()
  }
})
