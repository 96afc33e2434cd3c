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
//     others keep listening until its claim names the cluster, and join it.
//     Running members without a cluster (later tabs of a browser) never
//     found, so they do not count;
//   - a silent peer whose link closed, or that left every signaling channel,
//     and stayed gone a while (GONE_MS) does not count either: a lower
//     listener that crashed, closed or was cut off before it founded no
//     longer holds the others back, and the lowest listener left founds.
// Two tabs that each see a different lowest listener may both found; the
// clusters then meet and merge as any two clusters of a room do
// (src/driver/cluster-meet.ts): formation may be slower, never wrong.
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'
import type { Link, Transport } from '../transport/types'
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
 * ms a silent peer's link must stay closed, or the peer stay out of every
 * signaling channel, before we stop deferring to it. A transport replaces a
 * link to a peer with a newer one and a signaling socket reconnects; either
 * within this is the same peer still listening. The driver gives a vanished
 * member the same benefit of the doubt (Roster.vanished, vanishedAfterMs:
 * 1.5 s in a browser).
 */
export const GONE_MS = 1_500

/**
 * ms past the listening window we defer, at most, to a lower-id peer that
 * stays linked and silent: a listener decides within its own window (plus
 * the claim grace, plus this wait for its own lower peers), so one silent
 * that long is stuck (a frozen or hung page). We found then; should it wake
 * and found too, the two clusters meet and merge.
 */
export const DEFER_LIMIT_MS = 10_000

/** A linked peer, as the listener sees it. */
interface Heard {
  /** when its current link came up (a newer link replaces the record: an old link's close is not the peer's) */
  linkedAt: number
  /** when the current link closed (null while open) */
  closedAt: number | null
  /** when the signaling said it left every channel (null while present) */
  leftAt: number | null
}

/** when `h` counts as gone (its link closed, or it left the signaling, GONE_MS ago), or null while it is here */
function goneAt(h: Heard): number | null {
  const since = Math.min(h.closedAt ?? Infinity, h.leftAt ?? Infinity)
  return since === Infinity ? null : since + GONE_MS
}

/**
 * Listen `ms` for peers; true when this tab should found the cluster
 * (shouldFound over the peers still here), false as soon as a peer claims one.
 *
 * A tab that defers keeps listening: the lower-id listener it defers to
 * either founds (its member's claim names the cluster: false, join it) or
 * goes away before it does (crashed, closed, cut off), and then, once every
 * silent lower-id peer has been gone GONE_MS, the lowest listener left
 * founds. Deferring used to end the listening at once, and a tab whose
 * chosen founder never founded waited for a leader for good (issue 17).
 *
 * Why here and not in the running member: a member's cluster is fixed at its
 * start (member.ts: a founder's raft core starts with a one-voter
 * configuration and its first save records the new cluster id; anyone else
 * waits to be let in), and a running member's identity changes only as
 * cluster-identity.ts allows (adopted by a leader, or lost in a meet).
 * Founding later from inside a running member would be a new path through
 * the driver and the raft core's bootstrap. Before the member starts nothing
 * of the decision is persisted, so deciding late costs only time: the tab's
 * join returns when the cluster it joins exists, which is the earliest its
 * first write could commit anyway. Raft is untouched: founding is still one
 * member's bootstrap of a one-voter cluster, and two founders at once still
 * make two clusters of the room that meet and merge (cluster-meet.ts).
 */
export function listenBeforeFounding(transport: Transport, self: string, ms: number, clock: Clock = realClock): Promise<boolean> {
  const claimed = new Set<string>()
  const heard = new Map<string, Heard>()
  const offs: (() => void)[] = []
  const started = clock.now()
  return new Promise<boolean>((resolve) => {
    let timer: unknown = null
    let done = false
    const wake = (at: number): void => {
      if (timer !== null) clock.clearTimeout(timer)
      timer = clock.setTimeout(() => {
        timer = null
        decide()
      }, Math.max(0, at - clock.now()))
    }
    function finish(found: boolean): void {
      if (done) return
      done = true
      if (timer !== null) clock.clearTimeout(timer)
      for (const off of offs.splice(0)) off()
      resolve(found)
    }
    /** after the window: found, or keep deferring and wake when that may change */
    function decide(): void {
      const now = clock.now()
      if (done || now < started + ms) return
      const here = [...heard].filter(([, h]) => (goneAt(h) ?? Infinity) > now)
      // a link that came up just now may not have brought its peer's claim yet
      const newest = Math.max(-Infinity, ...here.filter(([p]) => !claimed.has(p)).map(([, h]) => h.linkedAt))
      const limit = started + ms + DEFER_LIMIT_MS
      if (newest + CLAIM_GRACE_MS > now) wake(newest + CLAIM_GRACE_MS)
      else if (shouldFound({ self, clusterSeen: false, linked: here.map(([p]) => p), claimed }) || now >= limit) finish(true)
      // deferring to a silent lower peer: look again when one of them may count as gone
      else wake(Math.min(limit, ...here.map(([, h]) => goneAt(h) ?? Infinity)))
    }
    wake(started + ms)
    const watch = (peer: string, link: Link): void => {
      if (peer === self || done) return
      // a new link is the peer alive: whatever the signaling said before is behind it
      const h: Heard = { linkedAt: clock.now(), closedAt: link.open ? null : clock.now(), leftAt: null }
      heard.set(peer, h)
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
          else decide()
        }),
        link.onClose(() => {
          if (heard.get(peer) !== h) return // replaced by a newer link
          h.closedAt = clock.now()
          decide()
        }),
      )
      decide()
    }
    for (const [peer, link] of transport.links()) watch(peer, link)
    offs.push(transport.onLink((link) => watch(link.peer, link)))
    const offPresence = transport.onPresence?.((member, present) => {
      const h = heard.get(member)
      if (h === undefined || done) return
      h.leftAt = present ? null : clock.now()
      decide()
    })
    if (offPresence !== undefined) offs.push(offPresence)
  })
}
