// Drives test/storage/browser/page.ts in Debian's Chromium: a Vite server over
// the repository and a Playwright page. Used by chromium.test.ts and by
// bench-browser.ts.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from '@playwright/test'
import { createServer, type ViteDevServer } from 'vite'
import { chromiumLaunch } from '../../../playwright.config'

export interface PageApi {
  saveSome(room: string, count: number): Promise<void>
  loadSummary(room: string): Promise<{ entries: number; commit: number; members: string[] } | null>
  bench(d: 'strict' | 'relaxed', saves: number, perSave: number): Promise<{ p50: number; p99: number; max: number; perSecond: number }>
  quotaCheck(room: string, bigBytes: number): Promise<{ reason: string | null; causeName: string | null; heard: string | null; afterReopen: { entries: number; term: number } | null }>
  keepOpen(room: string): Promise<void>
  afterLoss(): Promise<{ heard: string; nextSave: string | null }>
  openSlot(room: string, member: string): Promise<void>
  saveThenBlock(blockMs: number): Promise<{ queuedAt: number; blockedUntil: number }>
  saveAfter(delayMs: number): Promise<{ startedAt: number; doneAt: number }>
}

export const chromiumAvailable = existsSync(chromiumLaunch.executablePath)

export interface StoragePage {
  page: Page
  origin: string
  /** run `fn` with the page's storage API */
  call<T>(fn: (api: PageApi, arg: unknown) => Promise<T>, arg?: unknown): Promise<T>
  reload(): Promise<void>
  /** Chromium's own quota for this origin, in bytes (DevTools protocol) */
  setQuota(bytes: number): Promise<void>
  /** what "Clear site data" does to IndexedDB (DevTools protocol) */
  clearIndexedDb(): Promise<void>
  /** another tab of the same browser on the same page; its `call` */
  secondTab(): Promise<StoragePage['call']>
  close(): Promise<void>
}

export async function openStoragePage(): Promise<StoragePage> {
  const root = fileURLToPath(new URL('../../..', import.meta.url))
  const vite: ViteDevServer = await createServer({ root, configFile: false, server: { port: 0, host: '127.0.0.1', hmr: false }, logLevel: 'warn' })
  await vite.listen()
  const address = vite.httpServer!.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const origin = `http://127.0.0.1:${port}`
  // a persistent profile on disk, as a user's browser has (a fresh context
  // would be an in-memory, incognito-like one)
  const profile = mkdtempSync(join(tmpdir(), 'meshkeeper-chromium-'))
  let browser: BrowserContext | null = null
  try {
    browser = await chromium.launchPersistentContext(profile, chromiumLaunch)
    const page = browser.pages()[0] ?? (await browser.newPage())
    const ready = async (): Promise<void> => {
      await page.waitForFunction(() => document.title === 'ready')
    }
    await page.goto(`${origin}/test/storage/browser/index.html`)
    await ready()
    const b = browser
    return {
      page,
      origin,
      call: (fn, arg) => page.evaluate(`(${fn.toString()})(window.storageTest, ${JSON.stringify(arg ?? null)})`),
      reload: async () => {
        await page.reload()
        await ready()
      },
      setQuota: async (bytes) => {
        const cdp = await page.context().newCDPSession(page)
        await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: bytes })
      },
      clearIndexedDb: async () => {
        const cdp = await page.context().newCDPSession(page)
        await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'indexeddb' })
      },
      secondTab: async () => {
        const other = await b.newPage()
        await other.goto(`${origin}/test/storage/browser/index.html`)
        await other.waitForFunction(() => document.title === 'ready')
        return (fn, arg) => other.evaluate(`(${fn.toString()})(window.storageTest, ${JSON.stringify(arg ?? null)})`)
      },
      close: async () => {
        await b.close()
        await vite.close()
        rmSync(profile, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await browser?.close()
    await vite.close()
    rmSync(profile, { recursive: true, force: true })
    throw err
  }
}
