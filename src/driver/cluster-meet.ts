// Clusters that meet: two clusters of one room (both started offline, or kept
// apart by a partition) find each other. They never merge (two Raft logs
// cannot be spliced); one survives, the other's members wipe their slots and
// rejoin the survivor as newcomers, handing the app their tree (`diverged`).
//
// The rule (README, "Clusters that meet"), with no clock anywhere in it:
//   weight = (distinct browsers, members, commit index), compared in that
//   order, heavier wins; equal weights fall to the smaller cluster id.
// So the side that holds more devices, then more members, then more
// committed history survives — whenever and wherever each was founded.
//
// A claim is evidence, never an order (issue 13: one forged `cluster` message
// once wiped every member):
// - Our own cluster's weight is what our configuration holds: its members
//   (voters and learners), their browsers as our roster knows them (an unknown
//   one counts as a browser of its own), our commit index.
// - Another cluster's weight counts only the peers linked to us directly that
//   each vouch for it on their own link: one peer is one member and one
//   browser, whatever it claims about anyone else. Its commit index is the
//   highest its vouchers claim.
// - Because we count ourselves at least as heavy as anyone can see us, and
//   others at most as heavy as they are, two clusters cannot both lose to each
//   other on the same facts: the rule is one decision seen from both sides.
// - Losing needs the other cluster to stay heavier for `holdMs` of our own
//   evaluations (a claim that comes and goes decides nothing), and only the
//   LEADER decides for its cluster: it tells its followers (`yieldTo` in its
//   claim), which follow only their own leader. A member with no leader (its
//   leader yielded, or quorum is gone) decides for itself after twice as long.
// - A newcomer joins the heaviest cluster it has met, by the same weights.
//
// Pure bookkeeping: the member gives it the time, the links and its own view.
import type { ConfState } from '../raft/types'
import type { ClusterClaim } from '../wire/node-messages'
import { exportNodes } from '../tree/export'
import type { ZTree } from '../tree/ztree'
import type { DivergedEvent } from '../shared/types'

/** What a cluster holds, as one member sees it. */
export interface ClusterWeight {
  id: string
  browsers: number
  members: number
  commit: number
}

/** Is `a` heavier than `b` (the meet rule; a total order over distinct ids)? */
export function heavier(a: ClusterWeight, b: ClusterWeight): boolean {
  if (a.browsers !== b.browsers) return a.browsers > b.browsers
  if (a.members !== b.members) return a.members > b.members
  if (a.commit !== b.commit) return a.commit > b.commit
  return a.id < b.id
}

/** A new cluster's id: the founder and randomness, never a time (the rule reads no clock). */
export function newClusterId(founder: string, random: () => number, voters: readonly string[]): string {
  // members of one static configuration must name one cluster without talking
  if (voters.length > 1) return `static-${[...voters].sort()[0] ?? founder}`
  const rand = Math.floor(random() * 2 ** 48).toString(36).padStart(10, '0')
  return `${founder}-${rand}`
}

/** What the member tells the meet about itself and its links. */
export interface MeetHost {
  readonly self: string
  readonly browser: string
  /** is there an open link to this peer right now */
  linked(peer: string): boolean
  conf(): ConfState
  commit(): number
  /** the leader we follow, if any (told in our claims: see consensus-gate.ts) */
  leader(): string | null
  /** a member's browser as the roster knows it */
  browserOf(member: string): string | undefined
}

export class ClusterMeet {
  /** the cluster this member belongs to; null for a newcomer that joined none yet */
  clusterId: string | null = null
  /** the latest claim of each peer */
  private readonly claims = new Map<string, ClusterClaim>()
  /** the heavier cluster we have been seeing, and since when */
  private heavierSeen: { id: string; since: number } | null = null
  /** the cluster our leader (or we) decided to yield to, told in our claims until we wipe */
  private yielding = ''

  constructor(
    private readonly host: MeetHost,
    /** how long another cluster must stay heavier before a leader yields to it */
    readonly holdMs: number,
  ) {}

  /** Our claim, as broadcast to every peer. */
  claim(): ClusterClaim {
    return { type: 'cluster', clusterId: this.clusterId ?? '', browser: this.host.browser, commit: this.clusterId === null ? 0 : this.host.commit(), yieldTo: this.yielding, ...this.leaderField() }
  }

  /** Record a peer's claim; true when it is the first we hear from that peer (answer with ours). */
  heard(peer: string, claim: ClusterClaim): boolean {
    const first = !this.claims.has(peer)
    this.claims.set(peer, claim)
    return first
  }

  /** The cluster a peer said it belongs to ('' = none yet), or undefined before it said. */
  clusterOf(peer: string): string | undefined {
    return this.claims.get(peer)?.clusterId
  }

  /**
   * Where a peer's log agrees with ours, by its claim: a newcomer (no
   * cluster yet) claims commit 0, its log is empty; a member of our cluster
   * holds its commit index, committed in our cluster. Undefined for anyone
   * else. The peer's word: a hint for the leader's first MsgApp to it
   * (RawNode.hintLogEnd), never a fact.
   */
  claimedLogEnd(peer: string): number | undefined {
    const c = this.claims.get(peer)
    if (c === undefined || (c.clusterId !== '' && c.clusterId !== this.clusterId)) return undefined
    return c.commit
  }

  /**
   * Does a peer's claim order us to yield? Only our own leader's, naming our
   * cluster, and only to another cluster.
   */
  yieldOrder(peer: string, leader: string | null, claim: ClusterClaim): string | null {
    if (this.clusterId === null || peer !== leader || claim.clusterId !== this.clusterId) return null
    return claim.yieldTo !== '' && claim.yieldTo !== this.clusterId ? claim.yieldTo : null
  }

  /** Our own cluster's weight: what our configuration holds. */
  ownWeight(): ClusterWeight | null {
    if (this.clusterId === null) return null
    const conf = this.host.conf()
    const members = new Set([...conf.voters, ...conf.votersOutgoing, ...conf.learners])
    const browsers = new Set<string>()
    for (const m of members) {
      const b = m === this.host.self ? this.host.browser : this.host.browserOf(m)
      // an unknown browser counts as one of its own: we never count ourselves lighter than we are
      browsers.add(b === undefined || b === '' ? `?${m}` : `=${b}`)
    }
    return { id: this.clusterId, browsers: browsers.size, members: members.size, commit: this.host.commit() }
  }

  /** Every other cluster we see, weighed by the peers linked to us that vouch for it. */
  observed(): ClusterWeight[] {
    const by = new Map<string, { browsers: Set<string>; members: number; commit: number }>()
    for (const [peer, c] of this.claims) {
      if (c.clusterId === '' || c.clusterId === this.clusterId || !this.host.linked(peer)) continue
      let w = by.get(c.clusterId)
      if (w === undefined) by.set(c.clusterId, (w = { browsers: new Set(), members: 0, commit: 0 }))
      w.members++
      w.browsers.add(c.browser === '' ? `?${peer}` : `=${c.browser}`)
      w.commit = Math.max(w.commit, c.commit)
    }
    return [...by].map(([id, w]) => ({ id, browsers: w.browsers.size, members: w.members, commit: w.commit }))
  }

  /** The heaviest cluster in sight (ours included); a newcomer joins it. */
  best(): string | null {
    let best = this.ownWeight()
    for (const w of this.observed()) if (best === null || heavier(w, best)) best = w
    return best?.id ?? null
  }

  /**
   * Evaluate the rule (every tick). Returns the cluster to yield to once one
   * has been heavier than ours for the hold (leader) or twice the hold (a
   * member without a leader); a follower with a leader never decides alone.
   */
  evaluate(now: number, role: { leading: boolean; leaderless: boolean }): string | null {
    const own = this.ownWeight()
    if (own === null) {
      this.heavierSeen = null
      return null
    }
    let top: ClusterWeight | null = null
    for (const w of this.observed()) if (heavier(w, own) && (top === null || heavier(w, top))) top = w
    if (top === null) {
      this.heavierSeen = null
      return null
    }
    if (this.heavierSeen?.id !== top.id) this.heavierSeen = { id: top.id, since: now }
    const held = now - this.heavierSeen.since
    if ((role.leading && held >= this.holdMs) || (role.leaderless && held >= 2 * this.holdMs)) return top.id
    return null
  }

  /** We yield to `winner`: our claims say so until the slot is wiped. */
  yieldTo(winner: string): void {
    this.yielding = winner
  }

  /** The slot was wiped: we belong to no cluster and yield nothing. */
  reset(): void {
    this.clusterId = null
    this.yielding = ''
    this.heavierSeen = null
  }

  /** The leader that claims of the cluster we belong to (or, a newcomer,
   *  would join) name: the one a peer names itself, else any named; null
   *  when none does. A hint for the link policy (link-policy.ts), not a vote. */
  claimedLeader(): string | null {
    const target = this.clusterId ?? this.best()
    if (target === null) return null
    let named: string | null = null
    for (const [peer, c] of this.claims) {
      if (c.clusterId !== target || c.leader === undefined) continue
      if (c.leader === peer) return peer
      named = c.leader
    }
    return named
  }

  /** Does a newcomer that means to join `target` still weigh its link to
   *  `peer`: no claim heard from it yet, or it claims another cluster? (link-policy.ts) */
  weighs(peer: string, target: string | null): boolean {
    const c = this.claims.get(peer)
    if (c === undefined) return true
    return c.clusterId !== '' && c.clusterId !== target
  }

  private leaderField(): { leader?: string } {
    const leader = this.clusterId === null ? null : this.host.leader()
    return leader === null ? {} : { leader }
  }

  /**
   * Does a linked peer that `isMember` of our configuration name `peer` as the
   * leader of our cluster? (A member whose configuration is stale hears the
   * new leader on that word: consensus-gate.ts.)
   */
  leaderVouchedFor(peer: string, isMember: (id: string) => boolean): boolean {
    if (this.clusterId === null) return false
    for (const [q, c] of this.claims) {
      if (q !== peer && c.leader === peer && c.clusterId === this.clusterId && isMember(q) && this.host.linked(q)) return true
    }
    return false
  }

}

/** What the app receives when its cluster lost: the lost tree, readable. */
export function divergedTree(tree: ZTree, clusterId: string, winner: string, forced = false): DivergedEvent {
  const e: DivergedEvent = { clusterId, winner, lastZxid: tree.lastZxid, nodes: exportNodes(tree), snapshot: tree.snapshot() }
  if (forced) e.forced = true
  return e
}
