// What every part of `npm run bench` drives its tabs with. Importing this
// module builds the pages of browser/ and serves them beside the signaling
// server; then: browsers with a profile on disk (one shared, more for parts
// that need several devices), pages opened until they say they are ready,
// polling, the two ways a tab dies in a failover (crash, graceful close), and
// a tab's clock as the driver sees it. `closeHarness` takes it all down.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from '@playwright/test'
import type { BrowserContext, Page } from '@playwright/test'
import { build as buildPages } from 'vite'
import { servePage } from './serve-pages'
import { chromiumLaunch } from '../../playwright.config'
import { startSignalingServer } from '../../src/server/index'

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
export const signalUrl = `${origin.replace('http', 'ws')}/signal`

export const browserVersion = (() => {
  try {
    return execFileSync(chromiumLaunch.executablePath, ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
})()

/** A browser with a profile on disk, as a user's has: IndexedDB in an
 *  incognito-like context lives in memory and 'strict' would mean nothing. */
export interface Browser {
  context: BrowserContext
  close(): Promise<void>
}
const openBrowsers = new Set<Browser>()

/** One browser for every part that needs one (each part uses rooms and names of its own); launching costs seconds on this machine. */
let shared: Browser | null = null
export async function sharedBrowser(): Promise<Browser> {
  shared ??= await openBrowser()
  return shared
}

export async function openBrowser(): Promise<Browser> {
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

/** `count` browsers (devices): the shared one and `count - 1` launched for the caller. */
export async function browsersFor(count: number): Promise<Browser[]> {
  return [await sharedBrowser(), ...(await Promise.all(Array.from({ length: count - 1 }, () => openBrowser())))]
}

/** Done with `browsers` (browsersFor): the shared one keeps running with no pages, the others close. */
export async function releaseBrowsers(browsers: Browser[]): Promise<void> {
  for (const b of browsers) await (b === shared ? closeAll(b.context.pages()) : b.close())
}

/** Every browser closed, the signaling server and the page server stopped, the built pages removed. */
export async function closeHarness(): Promise<void> {
  for (const b of [...openBrowsers]) await b.close()
  await signaling.close()
  rmSync(bundleDir, { recursive: true, force: true })
  http.close()
}

export async function openPage(context: BrowserContext, path: string, timeoutMs = 30_000): Promise<Page> {
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

export async function closeAll(pages: Page[]): Promise<void> {
  for (const p of pages) if (!p.isClosed()) await p.close().catch(() => undefined)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 5): Promise<T> {
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
export async function crashTab(page: Page): Promise<() => Promise<number>> {
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

export type Kill = 'crash' | 'close'
export const killer = (how: Kill) => (how === 'crash' ? crashTab : closeTab)

/** A tab's clock as the commit timeline reads it (epoch ms: its timeOrigin + now). */
export const tabNow = (page: Page): Promise<number> => page.evaluate(() => performance.timeOrigin + performance.now())

/** What a tab's wall clock reads minus what the driver's reads, at one instant. */
export async function clockOffset(page: Page): Promise<number> {
  const before = Date.now()
  const there = await tabNow(page)
  const after = Date.now()
  return there - (before + after) / 2
}
