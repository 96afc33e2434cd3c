// `--only vanish` (issue 17): how long the survivors wait, after a whole
// device crashes without a goodbye, for a new raft leader and for a new
// leader of the app's election recipe (benchVanish has the setup).
import type { Page } from '@playwright/test'
import { FAILOVER_BUDGET_MS, failedTrial, flightRecorder } from '../failover'
import { latencyKeys, measure, notes, putLatency, withFailed } from '../figures'
import { browsersFor, clockOffset, closeAll, crashTab, pollUntil, releaseBrowsers, sleep } from '../harness'
import type { Browser } from '../harness'
import { freshRoom, meshTabs, settled } from '../mesh-tabs'
import type { MeshBenchWindow } from '../mesh-tabs'
import { N } from '../options'
import type { Mesh } from '../../../src/shared/types'

/**
 * A device vanishes (issue 17): three devices (browsers, one tab each) meet
 * through the signaling server; the tab leading the mesh also leads the
 * election recipe (it campaigned first, the others queue behind it). Its
 * page crashes (DevTools Page.crash: no goodbye; its signaling socket closes
 * at once, its data channels stay open for seconds). Measured from the
 * crash: a survivor hears of a new raft leader, and a survivor wins the
 * recipe (its campaign resolves: the dead tab's session ended).
 */
export async function benchVanish(): Promise<void> {
  console.log('meshkeeper, a device vanishes (3 devices, one tab each)')
  const raft: number[] = []
  const recipe: number[] = []
  const failed: string[] = []
  const diagnosis: Array<{ raftMs: number; recipeMs: number; records: string[] }> = []
  const keys = [...latencyKeys('vanish.raftFailover', true), ...latencyKeys('vanish.electionRecipe', true)]
  const browsers: Browser[] = []
  await measure(`raft leader and election recipe after the leader's device crashed (${N.vanish} trials)`, keys, 1_200_000, async () => {
    try {
      browsers.push(...(await browsersFor(3)))
      const budgetEnds = Date.now() + FAILOVER_BUDGET_MS
      for (let t = 0; t < N.vanish && Date.now() < budgetEnds; t++) {
        let pages: Page[] = []
        try {
          const mesh = await meshTabs(browsers, 3, freshRoom('vanish'))
          pages = mesh.pages
          const ELECTION = '/app-leader'
          const bench = (p: Page) => ({
            campaign: (value: string) => p.evaluate(([path, v]) => (window as unknown as MeshBenchWindow).meshBench.campaign(path!, v!), [ELECTION, value]),
            electedAt: () => p.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.electedAt()),
          })
          await bench(mesh.leader).campaign('leader device')
          await pollUntil('the first candidate leads the recipe', async () => ((await bench(mesh.leader).electedAt()) === null ? undefined : true), 30_000, 20)
          for (const [i, f] of mesh.followers.entries()) await bench(f).campaign(`device ${i + 1}`)
          const again = await settled(mesh)
          if (again.leader !== mesh.leader) throw new Error('raft leadership moved off the recipe leader before the crash')
          // every survivor's campaign is queued (its candidate node is in the tree) before the crash
          await sleep(500)
          const goneId = await mesh.leader.evaluate(() => (window as unknown as { mesh: Mesh }).mesh.id)
          const offsets = await Promise.all(mesh.followers.map(clockOffset))
          const recorder = await flightRecorder(mesh.pages, [mesh.leader])
          const killedAt = await (await crashTab(mesh.leader))()
          const firstOf = (probe: (p: Page, i: number) => Promise<number | null>) => async (): Promise<number | undefined> => {
            const got = (await Promise.all(mesh.followers.map(probe))).filter((x): x is number => x !== null)
            return got.length === 0 ? undefined : Math.min(...got)
          }
          const raftAt = await pollUntil('a survivor hears of a new raft leader (60 s)', firstOf((p, i) => p.evaluate(([since, gone]) => (window as unknown as MeshBenchWindow).meshBench.leaderSince(since as number, gone as string), [killedAt + offsets[i]!, goneId]).then((x) => (x === null ? null : x - offsets[i]!))), 60_000, 20)
          const recipeAt = await pollUntil('a survivor wins the election recipe (60 s)', firstOf((p, i) => bench(p).electedAt().then((x) => (x === null ? null : x - offsets[i]!))), 60_000, 20)
          raft.push(raftAt - killedAt)
          recipe.push(recipeAt - killedAt)
          diagnosis.push({ raftMs: Math.round(raftAt - killedAt), recipeMs: Math.round(recipeAt - killedAt), records: await recorder.read(killedAt, recipeAt) })
        } catch (err) {
          failed.push(failedTrial(t, err))
        } finally {
          await closeAll(pages)
        }
      }
      if (raft.length === 0) throw new Error(failed[0] ?? 'no trial completed')
      const more = withFailed(failed)
      putLatency('vanish.raftFailover', raft, more, true)
      putLatency('vanish.electionRecipe', recipe, more, true)
      notes['vanish.trials'] = diagnosis
      if (failed.length > 0) notes['vanish.failedTrials'] = failed
      console.log(`\n    raft: ${raft.map(Math.round).join(', ')} ms; recipe: ${recipe.map(Math.round).join(', ')} ms`)
    } finally {
      await releaseBrowsers(browsers)
    }
  })
}
