// Semaphore holders in demo tabs (test/e2e/recipes.spec.ts): each tab loops
// acquire a permit → hold it a moment → release, reporting 'holding' once it
// has the permit and 'releasing' before it lets go, so in the order the test
// receives them the reports can only undercount who holds at once.
import type { Page } from '@playwright/test'

export type PermitEvent = { tab: string; kind: 'holding' | 'releasing' | 'done' | 'error'; code?: string }

const REPORT = 'meshkeeperSemaphoreReport'

/** Route `page`'s permit reports into `events` under `tab`. */
export async function attachPermits(page: Page, tab: string, events: PermitEvent[]): Promise<void> {
  await page.exposeFunction(REPORT, (e: Omit<PermitEvent, 'tab'>) => void events.push({ ...e, tab }))
}

/** Start `rounds` acquire/hold/release rounds on `semaphore(path, permits)` in `page`; returns at once. */
export async function startPermitLoop(page: Page, path: string, permits: number, rounds: number): Promise<void> {
  await page.evaluate(
    ([path, permits, rounds, reportName]) => {
      const report = (window as unknown as Record<string, (e: unknown) => Promise<void>>)[reportName]!
      const semaphore = window.mesh!.semaphore(path, permits)
      void (async () => {
        for (let i = 0; i < rounds; i++) {
          try {
            const lease = await semaphore.acquire({ timeoutMs: 60_000 })
            await report({ kind: 'holding' })
            // hold a moment so holders overlap
            await new Promise((r) => setTimeout(r, 30))
            await report({ kind: 'releasing' })
            await lease.release()
          } catch (e) {
            await report({ kind: 'error', code: String((e as { code?: unknown }).code ?? e) })
          }
        }
        await report({ kind: 'done' })
      })()
    },
    [path, permits, rounds, REPORT] as const,
  )
}

/** The most holders at once, counting 'holding' up and 'releasing' down in arrival order. */
export function mostAtOnce(events: PermitEvent[]): number {
  let now = 0
  let most = 0
  for (const e of events) {
    if (e.kind === 'holding') most = Math.max(most, ++now)
    else if (e.kind === 'releasing') now--
  }
  return most
}
