// Scale (`--only scale9,scale16,scale50`, issue 17): meshes beyond 3 tabs —
// 9 tabs of one browser (5 voters, 4 learners), 16 tabs over 4 browsers and
// 50 tabs over 5 meeting through the signaling server. Formation time,
// commit latency from a follower (a learner), each tab's open links (a
// learner should link to the voters only), an idle member's main-thread
// cost, and crash failover (not for 50 tabs: its trials would take the run).
import { meshFailover, putTrials } from '../failover'
import { latencyKeys, measure, percentile, put, putLatency } from '../figures'
import { browsersFor, releaseBrowsers, sleep } from '../harness'
import type { Browser } from '../harness'
import { measureIdleBusy } from '../main-thread'
import { forgetFormations, freshRoom, meshTabs, putFormations, votersOf } from '../mesh-tabs'
import type { MeshBenchWindow, MeshTabs } from '../mesh-tabs'
import { N } from '../options'

/** Formation, commit latency (from the last follower: a learner once the
 *  mesh has more tabs than voters), links per member and crash failover with
 *  `tabs` tabs over `browserCount` browsers. */
export async function benchScale(label: string, tabs: number, browserCount: number, opts: { failover?: boolean } = {}): Promise<void> {
  console.log(`meshkeeper, ${tabs} tabs over ${browserCount} browser(s)`)
  const browsers: Browser[] = []
  forgetFormations(tabs)
  try {
    browsers.push(...(await browsersFor(browserCount)))
    let formed: MeshTabs | null = null
    await measure(`commit latency from a follower`, latencyKeys(`${label}.commit.follower`), tabs <= 16 ? 300_000 : 1_500_000, async () => {
      const m = await meshTabs(browsers, tabs, freshRoom(label))
      formed = m
      const f = m.followers[m.followers.length - 1]!
      await f.evaluate(() => (window as unknown as MeshBenchWindow).meshBench.commits('/warmup', 10))
      putLatency(`${label}.commit.follower`, await f.evaluate((n) => (window as unknown as MeshBenchWindow).meshBench.commits('/cf', n), N.scaleCommits))
    })
    await measure(`links per member`, [`${label}.links.max`, `${label}.links.median`, `${label}.links.voterMax`, `${label}.links.learnerMax`], 120_000, async () => {
      if (formed === null) throw new Error('the mesh did not form')
      putLinks(label, await linksPerMember(formed))
    })
    await measureIdleBusy(label, formed)
    if (opts.failover !== false) {
      await measure(`failover after a leader crash (${N.scaleFailover} trials)`, latencyKeys(`${label}.failover.crash`, true), 1_200_000, async () => {
        // the first trial kills the leader of the mesh measured above
        putTrials(`${label}.failover.crash`, await meshFailover(browsers, tabs, 'crash', N.scaleFailover, formed))
      })
    }
  } finally {
    putFormations(label, tabs)
    await releaseBrowsers(browsers)
  }
}

/** Each tab's open links (WebRTC or tab pipe) and whether it votes, once the
 *  learners' links to other learners are gone (or 30 s passed). */
async function linksPerMember(m: MeshTabs): Promise<Array<{ links: number; voter: boolean }>> {
  const read = (): Promise<Array<{ links: number; voter: boolean }>> =>
    Promise.all(
      m.pages.map((p) =>
        p.evaluate(() => {
          const w = window as unknown as MeshBenchWindow & { mesh: { members(): Array<{ self: boolean; voter: boolean }> } }
          return { links: w.meshBench.links(), voter: w.mesh.members().find((x) => x.self)?.voter ?? false }
        }),
      ),
    )
  const voters = votersOf(m.pages.length)
  const deadline = Date.now() + 30_000
  let seen = await read()
  // pruning runs after promotions: wait until no learner links beyond the voters
  while (Date.now() < deadline && seen.some((t) => !t.voter && t.links > voters)) {
    await sleep(500)
    seen = await read()
  }
  return seen
}

function putLinks(label: string, seen: Array<{ links: number; voter: boolean }>): void {
  const all = seen.map((t) => t.links).sort((a, b) => a - b)
  const max = (xs: number[]): number | null => (xs.length === 0 ? null : Math.max(...xs))
  put(`${label}.links.max`, max(all), 'links', { n: all.length })
  put(`${label}.links.median`, all.length === 0 ? null : percentile(all, 50), 'links', { n: all.length })
  put(`${label}.links.voterMax`, max(seen.filter((t) => t.voter).map((t) => t.links)), 'links', { n: seen.filter((t) => t.voter).length })
  put(`${label}.links.learnerMax`, max(seen.filter((t) => !t.voter).map((t) => t.links)), 'links', { n: seen.filter((t) => !t.voter).length })
}
