// Page helpers for the Page Lifecycle specs (freeze, bfcache, hidden):
// DevTools freeze/resume, what a tab's mesh says about itself, and a record
// of its state events.
import type { CDPSession, Page } from '@playwright/test'

const pausers = new WeakMap<Page, CDPSession>()

/**
 * Freeze (or resume) a tab as Chrome freezes background tabs. DevTools'
 * Page.setWebLifecycleState is accepted by this headless Chromium but freezes
 * nothing (measured: timers kept running, no `freeze` event), so we emulate
 * what a freeze is to the page: the `freeze` event, then no task at all
 * (DevTools' debugger pauses the main thread: timers, data-channel messages
 * and IndexedDB callbacks wait, links stay open and silent); on resume the
 * queued tasks run and the page gets `resume`.
 */
export async function setFrozen(page: Page, frozen: boolean): Promise<void> {
  if (frozen) {
    await page.evaluate(() => document.dispatchEvent(new Event('freeze')))
    const cdp = await page.context().newCDPSession(page)
    pausers.set(page, cdp)
    await cdp.send('Debugger.enable')
    const paused = new Promise((resolve) => cdp.once('Debugger.paused', resolve))
    await cdp.send('Debugger.pause')
    await paused
    return
  }
  const cdp = pausers.get(page)
  if (cdp === undefined) return
  pausers.delete(page)
  await cdp.send('Debugger.resume')
  await cdp.send('Debugger.disable')
  await cdp.detach().catch(() => undefined)
  await page.evaluate(() => document.dispatchEvent(new Event('resume')))
}

/** Start recording the page's mesh `state` events and its lifecycle events (read with `recorded`). */
export const recordStates = (page: Page): Promise<void> =>
  page.evaluate(() => {
    const w = window as unknown as { recorded: string[] }
    w.recorded = []
    window.mesh!.on('state', (s) => w.recorded.push(s))
    for (const e of ['freeze', 'resume']) document.addEventListener(e, () => w.recorded.push(e))
  })

export const recorded = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { recorded: string[] }).recorded)

export const sessionOf = (page: Page): Promise<string> => page.evaluate(() => window.mesh!.sessionId)

export const create = (page: Page, path: string, mode: 'persistent' | 'ephemeral' = 'persistent'): Promise<string> =>
  page.evaluate(([p, m]) => window.mesh!.create(p!, 'x', { mode: m as 'persistent' }), [path, mode])

export const exists = (page: Page, path: string): Promise<boolean> => page.evaluate((p) => window.mesh!.exists(p).then((s) => s !== null), path)

/** A write from the page commits (retried while the mesh elects: a NO_QUORUM or TIMEOUT is not an answer yet). */
export const commits = (page: Page, path: string): Promise<boolean> =>
  page.evaluate((p) => window.mesh!.create(p, 'x').then(
    () => true,
    (e: { code?: string }) => (e.code === 'NODE_EXISTS' ? true : false),
  ), path)

/**
 * Emulate Chrome's intensive wake-up throttling (a page hidden for more than
 * 5 minutes): the page's timers fire only at aligned wake-ups `everyMs`
 * apart, all that are due together (Chrome: once a minute). Stricter than
 * Chrome, which throttles only chained timers (nesting level 5 and more) and
 * exempts pages with WebRTC: here every setTimeout waits (the member's clock
 * has no other timer). Message events (data
 * channels, BroadcastChannel) are not delayed, as in Chrome. `wakeUps` counts
 * the wake-ups that ran a timer; `unthrottle` puts the timers back.
 */
export const throttleIntensively = (page: Page, everyMs: number): Promise<void> =>
  page.evaluate((every) => {
    const w = window as unknown as { setTimeout: typeof setTimeout; wakeUps: number; unthrottle: () => void }
    const st = w.setTimeout
    const slots = new Set<number>()
    w.wakeUps = 0
    const at = (ms: number): { wait: number; slot: number } => {
      const slot = Math.ceil((performance.now() + Math.max(ms, 1)) / every)
      return { wait: slot * every - performance.now(), slot }
    }
    const run = (slot: number, fn: () => void): void => {
      if (!slots.has(slot)) {
        slots.add(slot)
        w.wakeUps++
      }
      fn()
    }
    w.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
      const { wait, slot } = at(ms ?? 0)
      return st.call(window, () => run(slot, () => fn(...(args as []))), wait)
    }) as typeof setTimeout
    w.unthrottle = () => {
      w.setTimeout = st
    }
  }, everyMs)

export const wakeUps = (page: Page): Promise<number> => page.evaluate(() => (window as unknown as { wakeUps: number }).wakeUps)
export const unthrottle = (page: Page): Promise<void> => page.evaluate(() => (window as unknown as { unthrottle: () => void }).unthrottle())
