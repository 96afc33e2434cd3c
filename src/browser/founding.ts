// Whether a tab with nothing of the room in its browser founds the room's
// cluster (issue 17: 16 tabs over 4 browsers sometimes never formed).
//
// joinMesh's first tab of a browser listens for peers before founding. It
// used to found only when no link came at all; but the first tabs of several
// browsers opened together link to each other at once, each took the link
// for a cluster, none founded, and the tabs behind them (which never found:
// their browser holds a member already) waited for a leader nobody would
// ever be. A link says only that a peer exists. What says a cluster exists
// is a peer's claim naming one (the `cluster` node message every running
// member sends when a link comes up). So, while it listens, the tab reads
// the claims on its links:
//   - a claim naming a cluster: join it (do not found);
//   - at the end, no such claim: the peers that sent no claim at all are
//     listening like us; the one with the lowest member id founds, the
//     others join it. Running members without a cluster (later tabs of a
//     browser) never found, so they do not count.
// Two tabs that each see a different lowest listener may both found; the
// clusters then meet and merge as any two clusters of a room do
// (src/driver/cluster-meet.ts): formation may be slower, never wrong.
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'
import type { Transport } from '../transport/types'
import { decodeNodeMessage } from '../wire/node-messages'

/** What a listening tab learned from its links. */
export interface ListenView {
  /** our member id */
  self: string
  /** a peer claimed a cluster: there is one to join */
  clusterSeen: boolean
  /** peers we have a link to */
  linked: string[]
  /** peers that sent a claim (running members, with or without a cluster) */
  claimed: ReadonlySet<string>
}

/** Found the cluster? Only with no cluster seen and no silent (listening) peer of a lower id. */
export function shouldFound(v: ListenView): boolean {
  if (v.clusterSeen) return false
  return v.linked.every((peer) => v.claimed.has(peer) || v.self < peer)
}

/** ms a link must have been up before its silence counts (its claim goes out when it comes up) */
const CLAIM_GRACE_MS = 500

/**
 * Listen `ms` for peers; true when this tab should found the cluster
 * (shouldFound), false as soon as a peer claims one.
 */
export function listenBeforeFounding(transport: Transport, self: string, ms: number, clock: Clock = realClock): Promise<boolean> {
  const claimed = new Set<string>()
  const linkedAt = new Map<string, number>()
  const offs: (() => void)[] = []
  return new Promise<boolean>((resolve) => {
    let timer = clock.setTimeout(decide, ms)
    let done = false
    function finish(found: boolean): void {
      if (done) return
      done = true
      clock.clearTimeout(timer)
      for (const off of offs.splice(0)) off()
      resolve(found)
    }
    function decide(): void {
      // a link that came up just now may not have brought its peer's claim yet
      const newest = Math.max(-Infinity, ...linkedAt.values())
      const wait = newest + CLAIM_GRACE_MS - clock.now()
      if (wait > 0) {
        timer = clock.setTimeout(() => finish(shouldFound({ self, clusterSeen: false, linked: [...linkedAt.keys()], claimed })), wait)
        return
      }
      finish(shouldFound({ self, clusterSeen: false, linked: [...linkedAt.keys()], claimed }))
    }
    const watch = (peer: string, link: { onMessage(fn: (bytes: Uint8Array) => void): () => void }): void => {
      if (peer === self || done) return
      if (!linkedAt.has(peer)) linkedAt.set(peer, clock.now())
      offs.push(
        link.onMessage((bytes) => {
          let msg
          try {
            msg = decodeNodeMessage(bytes)
          } catch {
            return // the member, once it runs, reports bad frames; here we only listen
          }
          if (msg.type !== 'cluster') return
          claimed.add(peer)
          if (msg.clusterId !== '') finish(false)
        }),
      )
    }
    for (const [peer, link] of transport.links()) watch(peer, link)
    offs.push(transport.onLink((link) => watch(link.peer, link)))
  })
}
