// Reopening a big tree (`--only reopen`): one tab of a new room creates
// 10,000 children (multis of 500) and closes; a new tab of the same browser
// opens the room from IndexedDB alone, and the figure is its joinMesh call →
// all 10,000 children readable (what a returning user waits for).
import { measure, put } from '../figures'
import { closeAll, openPage, sharedBrowser } from '../harness'
import { freshRoom, meshUrl } from '../mesh-tabs'
import type { MeshBenchWindow } from '../mesh-tabs'
import { N } from '../options'
import { waitForLeader } from '../../../src/testing/playwright'

export async function benchReopen(): Promise<void> {
  console.log(`meshkeeper, reopening a ${N.reopenNodes}-node tree from IndexedDB`)
  const b = await sharedBrowser()
  try {
    await measure(`reopen a ${N.reopenNodes}-node tree`, ['mesh.reopen10k', 'mesh.fill10k'], 300_000, async () => {
      const room = freshRoom('reopen')
      const first = await openPage(b.context, meshUrl(room, false))
      await waitForLeader([first], { timeoutMs: 60_000 })
      const t0 = Date.now()
      await first.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.fill('/big', n, 500), N.reopenNodes)
      put('mesh.fill10k', Date.now() - t0, 'ms', { n: 1 })
      await first.close()
      const again = await openPage(b.context, meshUrl(room, false))
      put('mesh.reopen10k', await again.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.readyWith('/big', n), N.reopenNodes), 'ms', { n: 1 })
      await again.close()
    })
  } finally {
    await closeAll(b.context.pages())
  }
}
