// The demo page under test (served by scripts/start.ts, see playwright.config.ts).
import type { BrowserContext } from '@playwright/test'

export const DEMO_ORIGIN = 'http://localhost:5191'

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
