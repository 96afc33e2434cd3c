// Real IndexedDB in Debian's Chromium: durability across a page reload, and
// the save latency of a small batch with 'strict' and 'relaxed' durability.
// Prints figures; exits non-zero if what was saved is not there after reload.
//   npx tsx test/storage/bench-browser.ts [saves=300] [entriesPerSave=4]
import { fileURLToPath } from 'node:url'
import { chromium } from '@playwright/test'
import { createServer } from 'vite'
import { chromiumLaunch } from '../../playwright.config'

const saves = Number(process.argv[2] ?? 300)
const perSave = Number(process.argv[3] ?? 4)
const root = fileURLToPath(new URL('../..', import.meta.url))

type PageApi = {
  saveSome(room: string, count: number): Promise<void>
  loadSummary(room: string): Promise<{ entries: number; commit: number; members: string[] } | null>
  bench(d: 'strict' | 'relaxed', saves: number, perSave: number): Promise<{ p50: number; p99: number; max: number; perSecond: number }>
}
declare const storageTest: PageApi

const vite = await createServer({ root, configFile: false, server: { port: 0, host: '127.0.0.1', hmr: false }, logLevel: 'warn' })
await vite.listen()
const address = vite.httpServer!.address()
const port = typeof address === 'object' && address !== null ? address.port : 0
const browser = await chromium.launch(chromiumLaunch)
let failed = false
try {
  const page = await browser.newPage()
  const url = `http://127.0.0.1:${port}/test/storage/browser/index.html`
  await page.goto(url)
  await page.waitForFunction(() => document.title === 'ready')
  await page.evaluate(() => storageTest.saveSome('reload', 25))
  await page.reload()
  await page.waitForFunction(() => document.title === 'ready')
  const after = await page.evaluate(() => storageTest.loadSummary('reload'))
  const ok = after !== null && after.entries === 25 && after.commit === 25 && after.members.join() === 'a'
  console.log(`reload: ${ok ? 'ok' : 'FAILED'} ${JSON.stringify(after)}`)
  failed ||= !ok
  for (const durability of ['strict', 'relaxed'] as const) {
    const r = await page.evaluate(([d, n, k]) => storageTest.bench(d, n, k), [durability, saves, perSave] as const)
    const f = (x: number): string => x.toFixed(2)
    console.log(`chromium IndexedDB ${durability.padEnd(7)} saves=${saves} entries/save=${perSave} p50=${f(r.p50)}ms p99=${f(r.p99)}ms max=${f(r.max)}ms throughput=${Math.round(r.perSecond)} saves/s`)
  }
} finally {
  await browser.close()
  await vite.close()
}
process.exit(failed ? 1 : 0)
