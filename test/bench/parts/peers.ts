// The peers (`--only peers`): what tabs get today without meshkeeper, the
// floor of its failover figures. Three tabs of one browser
// (browser/index.html, peers.ts) run the broadcast-channel package's leader
// election (its Web Locks elector, and its message-based one with
// navigator.locks hidden) or a bare Web Locks election; the leader is
// crashed or closed, and the figure is the kill → a survivor says it leads.
import type { Page } from '@playwright/test'
import { failedTrial, putTrials } from '../failover'
import type { Trials } from '../failover'
import { latencyKeys, measure } from '../figures'
import { clockOffset, closeAll, killer, openPage, pollUntil, sharedBrowser } from '../harness'
import type { Kill } from '../harness'
import { N } from '../options'

type PeersWindow = typeof globalThis & {
  peers: {
    state(): { leaderSince: number | null; impl: string }
    broadcastChannelElection(name: string, withoutLocks: boolean): void
    webLockElection(name: string): void
  }
}

/**
 * Failover of an election among 3 tabs of one browser: every tab campaigns,
 * the leader is killed, and the gap is from the kill to the moment a
 * survivor says it leads (its wall clock, corrected by the measured offset).
 */
type PeerKind = 'broadcastChannel' | 'broadcastChannelMessages' | 'webLocks'

async function peerFailover(kind: PeerKind, how: Kill, trials: number): Promise<Trials & { impl: string }> {
  const b = await sharedBrowser()
  const result: Trials & { impl: string } = { samples: [], errors: {}, failed: [], diagnosis: [], impl: '' }
  try {
    for (let t = 0; t < trials; t++) {
      const name = `peer-${kind}-${how}-${t}-${Date.now()}`
      const pages: Page[] = []
      try {
        pages.push(...(await Promise.all([0, 1, 2].map(() => openPage(b.context, 'index.html')))))
        const offset = await clockOffset(pages[0]!)
        for (const p of pages) {
          await p.evaluate(([k, n]) => (k === 'webLocks' ? (window as unknown as PeersWindow).peers.webLockElection(n!) : (window as unknown as PeersWindow).peers.broadcastChannelElection(n!, k === 'broadcastChannelMessages')), [kind, name])
        }
        const leader = await pollUntil('a peer leader', async () => {
          const states = await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as PeersWindow).peers.state())))
          result.impl = states[0]!.impl
          const i = states.findIndex((s) => s.leaderSince !== null)
          return i < 0 ? undefined : pages[i]!
        }, 10_000)
        const survivors = pages.filter((p) => p !== leader)
        const kill = await killer(how)(leader)
        const killedAt = await kill()
        const since = await pollUntil('a new peer leader (30 s)', async () => {
          const states = await Promise.all(survivors.map((p) => p.evaluate(() => (window as unknown as PeersWindow).peers.state())))
          const s = states.find((x) => x.leaderSince !== null)
          return s?.leaderSince ?? undefined
        }, 30_000)
        result.samples.push(since - offset - killedAt)
      } catch (err) {
        result.failed.push(failedTrial(t, err))
      } finally {
        await closeAll(pages)
      }
    }
  } finally {
    await closeAll(b.context.pages())
  }
  return result
}

/** Which elector each kind of election ran (results.json `peerImplementations`). */
export const peerImpl: Record<string, string> = {}

export async function benchPeers(): Promise<void> {
  console.log(`peers (3 tabs of one browser, ${N.peerTrials} trials each)`)
  for (const kind of ['broadcastChannel', 'broadcastChannelMessages', 'webLocks'] as const) {
    for (const how of ['crash', 'close'] as const) {
      const key = `peers.${kind}.failover.${how}`
      await measure(`${kind} election failover after a leader ${how}`, latencyKeys(key, true), 300_000, async () => {
        const r = await peerFailover(kind, how, N.peerTrials)
        peerImpl[kind] = r.impl
        putTrials(key, r)
      })
    }
  }
}
