// What the leader knows about each member (etcd raft's tracker package).
import { allMembers, isVoter } from './confchange'
import { jointCommitted, jointVote } from './quorum'
import { PLANTED_BUGS } from './planted-bugs'
import type { VoteResult } from './quorum'
import type { ConfState, NodeId } from './types'
import { isCount } from './types'

/** Hints kept for members not yet tracked (hintLogEnd); the oldest go first.
 *  More than the members a configuration can add in the time a join takes. */
export const MAX_LOG_END_HINTS = 64

/**
 * The last indexes of MsgApps in flight to one follower, oldest first, in a
 * ring of fixed capacity. In replicate state the leader stops sending when it
 * is full; an acknowledgement frees every message up to the acked index.
 */
export class Inflights {
  private readonly buf: number[]
  private start = 0
  count = 0
  constructor(readonly capacity: number) {
    this.buf = new Array<number>(capacity).fill(0)
  }
  full(): boolean {
    return this.count >= this.capacity
  }
  add(lastIndex: number): void {
    if (this.full()) return
    this.buf[(this.start + this.count) % this.capacity] = lastIndex
    this.count++
  }
  /** Frees every in-flight message whose last index is <= `index`. */
  freeLE(index: number): void {
    while (this.count > 0 && this.buf[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity
      this.count--
    }
  }
  freeFirstOne(): void {
    if (this.count === 0) return
    this.start = (this.start + 1) % this.capacity
    this.count--
  }
  reset(): void {
    this.start = 0
    this.count = 0
  }
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/**
 * One follower (or the leader itself) as seen by the leader.
 * - probe: one MsgApp at a time until the follower's log position is found;
 * - replicate: optimistic pipelining, capped by Inflights;
 * - snapshot: the follower needs the snapshot; chunks are sent one at a time.
 * Invariant: match < next.
 */
export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** probe: a MsgApp is out, wait for its answer (or a heartbeat answer) */
  probeSent = false
  /** where a new leader began trusting this follower (becomeReplicateOnTrust), until it refuses; 0 when not trusted */
  trustedFrom = 0
  /** snapshot: index of the snapshot being sent, and bytes acknowledged */
  pendingSnapshot = 0
  snapshotOffset = 0
  /** heard from since the last CheckQuorum round */
  recentActive = true
  /** Snapshot sends are bounded per follower, whatever it answers: refusals
   *  in a row (each doubles the wait), ticks to wait before the next chunk,
   *  and bytes sent in the current window. They outlive state changes, so a
   *  follower cannot reset them by making us start over. */
  snapshotRefusals = 0
  snapshotWait = 0
  snapshotBytes = 0
  readonly inflights: Inflights

  constructor(next: number, maxInflight: number) {
    this.next = next
    this.inflights = new Inflights(maxInflight)
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false
    this.pendingSnapshot = 0
    this.snapshotOffset = 0
    this.state = state
    this.inflights.reset()
  }

  becomeProbe(): void {
    // after a snapshot, the follower has at least the snapshot's entries
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot
      this.resetState('probe')
      this.next = Math.max(this.match + 1, pending + 1, this.trustedFrom)
    } else {
      this.resetState('probe')
      // a follower trusted at our start and not heard since is probed where
      // the trust began, not from match + 1 (0 + 1: the whole log)
      this.next = Math.max(this.match + 1, this.trustedFrom)
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate')
    this.next = this.match + 1
  }

  /**
   * A new leader's follower, trusted to hold our log up to where it ends:
   * most do (a voter that elected us holds no more than we do, and the
   * members of one mesh were all replicating from the last leader a moment
   * ago). Our entries pipeline to it at once from `next` (our last index + 1)
   * instead of waiting for its answer to a probe, which costs a new leader's
   * first writes a round trip and its follower's save. `match` stays what
   * was acknowledged (0 at first): nothing commits on trust. A follower that
   * lacks entries refuses, and is probed from its hint (maybeDecrTo).
   * Likewise a member just added, from where it said its log agrees with
   * ours (ProgressTracker.hintLogEnd): a newcomer's entries, then the commit
   * index, go at once instead of after a probe it can only refuse.
   */
  becomeReplicateOnTrust(): void {
    this.resetState('replicate')
    this.trustedFrom = this.next
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot')
    this.pendingSnapshot = snapshotIndex
  }

  /** The follower refused our snapshot: start over from offset 0 after a wait
   *  of `firstWait` ticks that doubles with each refusal in a row, up to `maxWait`. */
  snapshotRefused(firstWait: number, maxWait: number): void {
    this.snapshotOffset = 0
    this.snapshotRefusals++
    this.snapshotWait = Math.min(firstWait * 2 ** Math.min(this.snapshotRefusals - 1, 16), maxWait)
  }

  /** An acknowledgement up to `n`; false when it tells nothing new. */
  maybeUpdate(n: number): boolean {
    let updated = false
    if (this.match < n) {
      this.match = n
      updated = true
      this.probeSent = false
      // what it holds is known now: trust is no longer needed
      this.trustedFrom = 0
    }
    if (this.next < n + 1) this.next = n + 1
    return updated
  }

  /**
   * A rejection of the MsgApp after `rejected`, with the follower's hint that
   * it matches at most up to `matchHint`. False when the rejection is stale.
   * Otherwise the follower is probed (a replicating one falls back to probe)
   * from the hint: a follower trusted at a new leader's start
   * (becomeReplicateOnTrust) has match 0, and match + 1 would resend it the
   * whole log for a gap of a few entries. Its refusal ends the trust.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.resetState('probe')
    } else if (this.next - 1 !== rejected) return false
    this.trustedFrom = 0
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** Book-keeping after a MsgApp carrying entries up to `lastIndex` was sent. */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1
        this.inflights.add(lastIndex)
      }
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflights.full()
      case 'snapshot':
        return true
    }
  }
}

/** The leader's (and candidate's) view of the configuration and its members. */
export class ProgressTracker {
  conf: ConfState
  readonly progress = new Map<NodeId, Progress>()
  readonly votes = new Map<NodeId, boolean>()
  /** planted bug: count only the incoming half of a joint config */
  ignoreJoint = false
  private readonly matchOf = (id: NodeId): number => this.progress.get(id)?.match ?? 0
  /** where members not yet tracked said their log agrees with ours (hintLogEnd) */
  private readonly logEnds = new Map<NodeId, number>()

  constructor(
    conf: ConfState,
    readonly maxInflight: number,
  ) {
    this.conf = conf
  }

  /**
   * Install `conf`, keeping the progress of members that stay. A member new
   * to us starts probing after `nextIndex - 1` (our last index), unless it
   * said where its log ends (hintLogEnd): then right after that, so an empty
   * newcomer's first MsgApp carries our entries (or our snapshot, if they
   * are compacted) instead of a probe it can only refuse.
   */
  setConf(conf: ConfState, nextIndex: number): void {
    this.conf = conf
    const members = allMembers(conf)
    for (const id of [...this.progress.keys()]) if (!members.includes(id)) this.progress.delete(id)
    for (const id of members) {
      if (!this.progress.has(id)) {
        const hint = this.logEnds.get(id)
        this.logEnds.delete(id)
        const pr = new Progress(hint === undefined ? nextIndex : Math.min(hint + 1, nextIndex), this.maxInflight)
        if (hint !== undefined) pr.becomeReplicateOnTrust()
        this.progress.set(id, pr)
      }
    }
  }

  /**
   * `id`, not tracked yet, says its log agrees with ours up to `index` (a
   * newcomer: 0). Its progress starts there when a configuration adds it.
   * A peer's word, so only a hint: the MsgApp's consistency check (§5.3)
   * protects, and a wrong hint costs one refusal, as the probe it replaces.
   * Not a count, or a member already tracked: ignored.
   */
  hintLogEnd(id: NodeId, index: number): void {
    if (!isCount(index) || this.progress.has(id)) return
    this.logEnds.delete(id)
    this.logEnds.set(id, index)
    if (this.logEnds.size > MAX_LOG_END_HINTS) this.logEnds.delete(this.logEnds.keys().next().value!)
  }

  isVoter(id: NodeId): boolean {
    return isVoter(this.conf, id)
  }

  private get outgoing(): NodeId[] {
    return PLANTED_BUGS && this.ignoreJoint ? [] : this.conf.votersOutgoing
  }

  /** The highest index acknowledged by a (joint) quorum. */
  committed(): number {
    return jointCommitted(this.conf.voters, this.outgoing, this.matchOf)
  }

  /** Only one voter, in a non-joint config: decisions need nobody else. */
  isSingleton(): boolean {
    return this.conf.voters.length === 1 && this.outgoing.length === 0
  }

  resetVotes(): void {
    this.votes.clear()
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  voteResult(votes: ReadonlyMap<NodeId, boolean> = this.votes): VoteResult {
    return jointVote(this.conf.voters, this.outgoing, votes)
  }

  /** Has a quorum been active since the last check? (`self` always counts.) */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>()
    for (const [id, pr] of this.progress) active.set(id, id === self || pr.recentActive)
    return this.voteResult(active) === 'won'
  }
}
