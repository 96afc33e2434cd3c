// A big tree fast, for the catch-up figure: `count` children of `parent`
// created by `multi` batches (one log entry per batch), from one tab.
import type { Page } from '@playwright/test'

export function createTree(page: Page, parent: string, count: number, batch = 500): Promise<void> {
  return page.evaluate(
    async ([dir, n, size]) => {
      const mesh = window.mesh!
      await mesh.create(dir as string, '')
      for (let from = 0; from < (n as number); from += size as number) {
        const ops = []
        for (let i = from; i < Math.min(n as number, from + (size as number)); i++) ops.push({ op: 'create' as const, path: `${dir as string}/n${String(i).padStart(5, '0')}`, data: 'x' })
        await mesh.multi(ops)
      }
    },
    [parent, count, batch] as const,
  )
}

/** How many children of `parent` the tab has applied locally (0 before it exists there). */
export const localChildren = (page: Page, parent: string): Promise<number> =>
  page.evaluate((p) => window.mesh!.children(p).then((c) => c.length, () => 0), parent)
