// The demo page under test (served by scripts/start.ts, see playwright.config.ts).
import type { BrowserContext } from '@playwright/test'

import { DEMO_PORT } from './ports'

export const DEMO_ORIGIN = `http://localhost:${DEMO_PORT}`

/** The demo in `room`; `extra` adds query parameters (e.g. secret). */
export const DEMO_URL = (room: string, extra = ''): string => `${DEMO_ORIGIN}/?room=${encodeURIComponent(room)}${extra}`

let rooms = 0
/** A room no other test (or earlier run against a reused server) has used. */
export const freshRoom = (): string => `e2e-${Date.now().toString(36)}-${++rooms}`

/** Print page errors and the mesh's error events, tagged by tab, to the test log. */
export function logPageErrors(context: BrowserContext): void {
  let n = 0
  const tag = (): string => `tab${++n}`
  const wire = (page: import('@playwright/test').Page): void => {
    const t = tag()
    page.on('pageerror', (err) => console.log(`[${t}] page error: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error') console.log(`[${t}] console: ${msg.text()}`)
    })
  }
  for (const p of context.pages()) wire(p)
  context.on('page', wire)
}

/**
 * Kill a tab with no goodbye: the renderer crashes (DevTools `Page.crash`),
 * so no pagehide runs, no session close, no 'leaving' notice — the browser
 * only frees its Web Locks, as when a tab's process dies.
 */
export async function crash(page: import('@playwright/test').Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page)
  // the call never answers: the page is gone
  void cdp.send('Page.crash').catch(() => undefined)
  await new Promise<void>((resolve) => {
    if (page.isClosed()) return resolve()
    page.once('crash', () => resolve())
    page.once('close', () => resolve())
  })
  await page.close().catch(() => undefined)
}

/**
 * Make a tab hidden (or visible) as far as the page can tell: headless
 * Chromium always reports `visible`, so we override document.visibilityState
 * and dispatch the `visibilitychange` event the browser would fire. Timer
 * throttling of a really hidden tab is not emulated.
 */
export async function setHidden(page: import('@playwright/test').Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') })
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h })
    document.dispatchEvent(new Event('visibilitychange'))
  }, hidden)
}

/** What joinMesh tells about this tab (src/browser/join.ts BrowserTabInfo, behind a symbol on the Mesh). */
export function tabInfo(page: import('@playwright/test').Page): Promise<{
  member: string
  source: string
  founded: boolean
  caretaking: string[]
  certificates: Array<{ member: string; sessions: string[]; outcome: string }>
}> {
  return page.evaluate(() => {
    const info = (window.mesh as unknown as Record<symbol, any>)[Symbol.for('meshkeeper.browserTab')]
    return { member: info.member, source: info.source, founded: info.founded, caretaking: info.caretaking(), certificates: [...info.certificates] }
  })
}

/** Names of the Web Locks held in this browser (navigator.locks.query), with how many holders each. */
export function heldLocks(page: import('@playwright/test').Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const out: Record<string, number> = {}
    for (const l of (await navigator.locks.query()).held ?? []) out[l.name!] = (out[l.name!] ?? 0) + 1
    return out
  })
}

/**
 * Emulate Chrome's timer throttling of a hidden tab: from now on every
 * setTimeout/setInterval of the page waits at least `minMs` (Chrome: 1 s).
 * Message and network events are not throttled, as in Chrome.
 */
export async function throttleTimers(page: import('@playwright/test').Page, minMs = 1000): Promise<void> {
  await page.evaluate((min) => {
    const w = window as unknown as { setTimeout: typeof setTimeout; setInterval: typeof setInterval }
    const st = w.setTimeout.bind(window)
    const si = w.setInterval.bind(window)
    w.setTimeout = ((fn: TimerHandler, ms?: number, ...args: unknown[]) => st(fn, Math.max(ms ?? 0, min), ...args)) as typeof setTimeout
    w.setInterval = ((fn: TimerHandler, ms?: number, ...args: unknown[]) => si(fn, Math.max(ms ?? 0, min), ...args)) as typeof setInterval
  }, minMs)
}
