// The mesh channel in Chromium (src/transport/data-channel-port.ts): link
// frames ride a negotiated RTCDataChannel of their own, not simple-peer's
// stream, in both directions; frames near Chromium's 256 KiB message limit
// arrive whole; thousands of frames sent both ways at once, into tabs whose
// main thread is kept busy, arrive in order and intact while the channel's
// bufferedAmount paces the senders.
import { expect, test } from '@playwright/test'
import type { Page } from '@playwright/test'
import { HARNESS_PORT } from './helpers/ports'

const HARNESS = `http://localhost:${HARNESS_PORT}/`
const KiB = 1024

async function openTab(page: Page, member: string, room: string, opts: { frameBytes?: number; path?: 'stream' } = {}): Promise<void> {
  page.on('pageerror', (err) => console.log(`[${member}] page error: ${err.message}`))
  await page.goto(HARNESS)
  await page.waitForFunction(() => typeof window.harness === 'object')
  await page.evaluate(([m, r, o]) => window.harness.start(m as string, r as string, o as { frameBytes?: number; path?: 'stream' }), [member, room, opts] as const)
}

async function pair(pages: Page[], opts: { frameBytes?: number; path?: 'stream' } = {}): Promise<[Page, Page]> {
  const room = `chan-${Date.now()}-${Math.random().toString(36).slice(2)}`
  const [a, b] = pages as [Page, Page]
  await openTab(a, 'a', room, opts)
  await openTab(b, 'b', room, opts)
  await expect.poll(() => a.evaluate(() => window.harness.peers()), { timeout: 30_000 }).toEqual(['b'])
  await expect.poll(() => b.evaluate(() => window.harness.peers()), { timeout: 30_000 }).toEqual(['a'])
  return [a, b]
}

const received = (page: Page) => page.evaluate(() => window.harness.received().map(({ from, length, sum }) => ({ from, length, sum })))

test('frames ride the mesh channel both ways, frames near the 256 KiB limit included, never simple-peer\'s stream', async ({ context }) => {
  // 256 KiB frames: a frame of a large message is as long as Chromium
  // delivers in one message (less the header room framing.ts keeps)
  const [a, b] = await pair([await context.newPage(), await context.newPage()], { frameBytes: 256 * KiB })
  const sizes = [1, 256 * KiB - 40, 256 * KiB, 5 * 256 * KiB + 17, 3 * 1024 * KiB]
  const sent: Record<string, Array<{ from: string; length: number; sum: number }>> = { a: [], b: [] }
  for (const [from, to, page] of [['a', 'b', a], ['b', 'a', b]] as const) {
    for (const [i, size] of sizes.entries()) {
      const sum = await page.evaluate(([t, n, seed]) => window.harness.send(t as string, n as number, seed as number), [to, size, i] as const)
      sent[to]!.push({ from, length: size, sum })
    }
  }
  await expect.poll(() => received(b), { timeout: 60_000 }).toEqual(sent.b)
  await expect.poll(() => received(a), { timeout: 60_000 }).toEqual(sent.a)

  for (const page of [a, b]) {
    const paths = await page.evaluate(() => window.harness.paths())
    // every peer this tab made had the channel and it paces; its frames all went there
    expect(paths.withMeshChannel).toBe(paths.peers)
    expect(paths.paced).toBe(paths.peers)
    expect(paths.streamWrites).toBe(0)
    expect(paths.channelWrites).toBeGreaterThan(sizes.length)
    expect(await page.evaluate(() => window.harness.errors())).toEqual([])
  }
})

test('a burst of thousands of frames each way at once, into busy tabs, arrives in order and intact, paced by bufferedAmount', async ({ context }) => {
  const [a, b] = await pair([await context.newPage(), await context.newPage()])
  const COUNT = 3000 // about 3,600 frames each way (every tenth message takes three)
  await Promise.all([a, b].map((p) => p.evaluate(() => window.harness.load(30))))
  const [toB, toA] = await Promise.all([
    a.evaluate(([n]) => window.harness.sendBurst('b', n!, 100), [COUNT]),
    b.evaluate(([n]) => window.harness.sendBurst('a', n!, 200), [COUNT]),
  ])
  await expect.poll(async () => (await received(b)).length, { timeout: 90_000 }).toBe(COUNT)
  await expect.poll(async () => (await received(a)).length, { timeout: 90_000 }).toBe(COUNT)
  await Promise.all([a, b].map((p) => p.evaluate(() => window.harness.load(0))))
  // order and content: message i has the size and checksum the sender made
  expect(await received(b)).toEqual(toB.map((m) => ({ from: 'a', ...m })))
  expect(await received(a)).toEqual(toA.map((m) => ({ from: 'b', ...m })))

  for (const page of [a, b]) {
    const paths = await page.evaluate(() => window.harness.paths())
    expect(paths.streamWrites).toBe(0)
    expect(paths.channelWrites).toBeGreaterThan(COUNT)
    // more than 256 KiB was written in one go: the channel asked to wait, and
    // the burst went on only through 'bufferedamountlow'
    expect(paths.channelWaits).toBeGreaterThan(0)
    expect(await page.evaluate(() => window.harness.peers())).toEqual([page === a ? 'b' : 'a'])
    expect(await page.evaluate(() => window.harness.errors())).toEqual([])
  }
})

test('figures: the mesh channel against simple-peer\'s stream — 8 MiB transfer, small round trips, setTimeout calls per frame', async ({ context }) => {
  for (const path of ['stream', 'channel'] as const) {
    const pages = [await context.newPage(), await context.newPage()]
    const [a, b] = await pair(pages, path === 'stream' ? { path } : {})
    const count = async () => {
      const [pa, pb] = await Promise.all([a, b].map((p) => p.evaluate(() => ({ ...window.harness.paths(), timeouts: window.harness.timeouts() }))))
      return { frames: pa!.streamWrites + pa!.channelWrites + pb!.streamWrites + pb!.channelWrites, timeouts: pa!.timeouts + pb!.timeouts }
    }
    const before = await count()
    const ms = await a.evaluate(() => window.harness.transferTime('b', 8 * 1024 * 1024))
    const mid = await count()
    const rtts = (await a.evaluate(() => window.harness.roundTrips('b', 200))).sort((x, y) => x - y)
    const after = await count()
    const perFrame = (from: typeof before, to: typeof before) => ((to.timeouts - from.timeouts) / Math.max(1, to.frames - from.frames)).toFixed(2)
    console.log(
      `[figure] ${path === 'stream' ? "simple-peer's stream" : 'mesh channel'} (Chromium, two tabs): 8 MiB in ${ms.toFixed(0)} ms (${((8 / ms) * 1000).toFixed(1)} MiB/s), ` +
        `${perFrame(before, mid)} setTimeout calls per frame; 2-byte round trip p50 ${rtts[100]!.toFixed(2)} ms, p90 ${rtts[180]!.toFixed(2)} ms, ` +
        `${perFrame(mid, after)} setTimeout calls per frame`,
    )
    expect((await count()).frames).toBeGreaterThan(before.frames)
    await Promise.all(pages.map((p) => p.close()))
  }
})
