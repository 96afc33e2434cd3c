// Issue 14, deliverable 4 (b): clusters that meet keep the side that holds
// more. A lone device founds a cluster first (and, in the second test, with
// its clock set back years), writes alone, then meets a two-device cluster
// that formed later on another signaling server: a second tab of one of the
// two devices opens on the lone device's server, the tabs of that device meet
// over their BroadcastChannel, and the lone device reaches every member
// through relayed signals. The two-device cluster's tree must be intact
// everywhere; the lone device's app receives `diverged` with its nodes,
// readable (paths, data), and rejoins the winner.
//
// Needs the meet branch (the meet rule that reads no clock, and the readable
// DivergedEvent: clusterId, winner, lastZxid, nodes): under the old rule the
// older cluster — the lone device's — wins and wipes the other two.
import { expect, test } from '@playwright/test'
import type { BrowserContext, Page } from '@playwright/test'
import { pollFor, waitForLeader, waitForVoters } from '../../src/testing/playwright'
import { freshRoom } from './helpers/demo'
import { addTab, commitsEverywhere, create, deviceUrl, openDevice, pageDiagnosis, startSignal, waitForMembers } from './devices/devices'
import type { Device } from './devices/devices'

interface SeenDiverged {
  clusterId: string
  winner: string
  lastZxid: number
  /** path → data as text, of every node of the lost tree */
  nodes: Record<string, string>
}

/** Record the tab's `diverged` events as plain data (see diverged). */
async function recordDiverged(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { meshDiverged: unknown[] }
    w.meshDiverged = []
    window.mesh!.on('diverged', (e) => {
      const event = e as unknown as { clusterId: string; winner: string; lastZxid: number; nodes?: Array<{ path: string; data: Uint8Array }> }
      const nodes: Record<string, string> = {}
      for (const n of event.nodes ?? []) nodes[n.path] = new TextDecoder().decode(n.data)
      w.meshDiverged.push({ clusterId: event.clusterId, winner: event.winner, lastZxid: event.lastZxid, nodes })
    })
  })
}

const diverged = (page: Page): Promise<SeenDiverged[]> => page.evaluate(() => (window as unknown as { meshDiverged: SeenDiverged[] }).meshDiverged)

const readAll = (page: Page, paths: string[]): Promise<Record<string, string | null>> =>
  page.evaluate(async (ps) => {
    const out: Record<string, string | null> = {}
    await window.mesh!.sync()
    for (const p of ps) out[p] = await window.mesh!.get(p).then((n) => n.text(), () => null)
    return out
  }, paths)

const YEARS_AGO = new Date('2019-03-01T09:00:00Z')

for (const clock of ['right', 'years back'] as const) {
  test(`a lone device founded first (its clock ${clock}) meets a two-device cluster: the two devices' tree is intact everywhere, the lone device receives diverged with its nodes`, async ({ browser }) => {
    const lonely = await startSignal() // the lone device's server: nobody else there at first
    const shared = await startSignal() // the two-device cluster's
    const room = freshRoom()
    const devices: Device[] = []
    try {
      const setBack = clock === 'years back' ? (context: BrowserContext) => context.clock.setSystemTime(YEARS_AGO) : undefined
      const lone = await openDevice(browser, deviceUrl(room, lonely.url), 1, setBack)
      devices.push(lone)
      const alone = lone.tabs[0]!
      await recordDiverged(alone)
      await waitForLeader([alone])
      await create(alone, '/lone', 'founded first')
      await create(alone, '/lone/note', 'written alone')

      const a = await openDevice(browser, deviceUrl(room, shared.url), 1)
      devices.push(a)
      await waitForLeader(a.tabs)
      const b = await openDevice(browser, deviceUrl(room, shared.url), 1)
      devices.push(b)
      const pair = [...a.tabs, ...b.tabs]
      await waitForVoters(pair, 2)
      for (const p of pair) await recordDiverged(p)
      await commitsEverywhere(pair[0]!, pair, '/pair', 'the cluster of two')
      await create(pair[1]!, '/pair/more', 'acknowledged before the meet')

      // the meet: device A opens a tab on the lone device's server
      const bridge = await addTab(a, deviceUrl(room, lonely.url))
      await recordDiverged(bridge)
      const seen = await pollFor('the lone device to receive diverged', async () => ((await diverged(alone)).length > 0 ? diverged(alone) : undefined), { timeoutMs: 60_000 }).catch(async (e: unknown) => {
        // what each page knew when the wait gave up: its view and its links
        for (const p of [alone, ...pair, bridge]) console.log(`[diagnosis] ${JSON.stringify(await pageDiagnosis(p).catch((err: unknown) => String(err)))}`)
        throw e
      })
      expect(seen).toHaveLength(1)
      expect(seen[0]!.nodes).toMatchObject({ '/lone': 'founded first', '/lone/note': 'written alone' })
      expect(seen[0]!.lastZxid).toBeGreaterThan(0)
      expect(seen[0]!.winner).not.toBe(seen[0]!.clusterId)

      // everyone, the lone device included, is one cluster holding the pair's tree
      const all = [alone, ...a.tabs, ...b.tabs]
      await waitForMembers(all, 4)
      await waitForLeader(all)
      for (const p of all) {
        await expect
          .poll(() => readAll(p, ['/pair', '/pair/more', '/lone']), { timeout: 30_000 })
          .toEqual({ '/pair': 'the cluster of two', '/pair/more': 'acknowledged before the meet', '/lone': null })
      }
      // only the lone device lost a tree
      for (const p of [...pair, bridge]) expect(await diverged(p)).toEqual([])
      await commitsEverywhere(alone, all, '/after-meet', 'one cluster')
    } finally {
      await Promise.all(devices.map((d) => d.context.close().catch(() => undefined)))
      await lonely.close()
      await shared.close()
    }
  })
}
