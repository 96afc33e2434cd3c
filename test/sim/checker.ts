// The safety checker: Raft's safety properties (Raft paper, Figure 3), checked
// against what the simulator observes after every event.
//
// It sees members only from outside the core: the statuses the core reports,
// the Readies it hands out (entries to persist, messages, committed entries),
// and the disks. Each `observe*` method checks one kind of observation the
// moment it happens and records a Violation when a property breaks:
// - Election Safety: at most one leader per term (§5.2);
// - Log Matching: same index and term => same entry and same history (§5.3);
// - Leader Completeness: a new leader holds every committed entry (§5.4);
// - State Machine Safety: no two members apply different entries at an index,
//   and each member applies indexes in order without gaps (§5.4.3);
// - Durability: an entry once committed stays on enough disks that no quorum
//   of the current configuration lacks it, across crashes;
// - Persist before send: a message never vouches for state not yet durable
//   (a vote, an append acknowledgement, a term);
// - Persist before acknowledge, the leader's own acknowledgement included: a
//   leader's match for itself (what its commit count rests on) never exceeds
//   what its disk holds, checked at every step;
// - Durable hard state is monotonic: term never goes back, and a vote cast in
//   a term is never changed, across restarts;
// - Reads: a ReadIndex answer is at least the commit index acknowledged when
//   the read started (no stale reads).
import * as buffer from 'lib0/buffer'
import type { ConfState, DurableState, Entry, HardState, Message, NodeId, Role } from '../../src/raft/types'
import type { CoreStatus } from './core'

/** One broken property, with enough detail to find it in the trace. */
export interface Violation {
  /** virtual ms */
  at: number
  rule: SafetyRule
  member: NodeId
  detail: string
}

export type SafetyRule =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'durability'
  | 'persist-before-send'
  | 'persist-before-ack'
  | 'hard-state-monotonic'
  | 'stale-read'
  | 'commit-rule'
  | 'core-error'

/** The identity of an entry for comparisons: term, type and payload. */
export function entryDigest(e: Entry): string {
  return `${e.term}/${e.type === 'conf' ? 'c' : 'n'}/${buffer.toBase64(e.data)}`
}

/** A member's log as the simulator last saw the core hand it out (snapshot base + entries). */
export interface LogView {
  snapIndex: number
  snapTerm: number
  entries: readonly Entry[]
}

/** The entry at `index` in a log view, or undefined (compacted or beyond the end). */
export function entryAt(log: LogView, index: number): Entry | undefined {
  if (index <= log.snapIndex) return undefined
  const e = log.entries[index - log.snapIndex - 1]
  return e !== undefined && e.index === index ? e : undefined
}

/** The term at `index` in a log view (the snapshot's term at its base), or undefined. */
export function termAt(log: LogView, index: number): number | undefined {
  if (index === 0) return 0
  if (index === log.snapIndex) return log.snapTerm
  return entryAt(log, index)?.term
}

export class SafetyChecker {
  readonly violations: Violation[] = []
  /** term -> the member that led it */
  private readonly leaders = new Map<number, NodeId>()
  /** "index/term" -> "prevTerm|digest": every entry any log ever held */
  private readonly logEntries = new Map<string, string>()
  /** index -> digest of the entry committed (applied somewhere) at that index */
  private readonly committed: string[] = ['']
  /**
   * index -> an upper bound of the term in which the entry was committed: the
   * term of the first member to apply it, when it applied it (it learnt the
   * commit from a leader of that term or an earlier one).
   */
  private readonly commitTerms: number[] = [0]
  /** highest index any member applied: committed and acknowledged */
  private committedIndex = 0
  /** the configuration of the member that applied the most, how far it applied, and its commit index */
  private latestConf: ConfState | null = null
  private latestConfApplied = -1
  private latestConfCommit = -1
  /** per member, per life: last status seen (term and vote must not go back within a life) */
  private readonly lastStatus = new Map<NodeId, { life: number; term: number; vote: NodeId | null }>()

  /**
   * `bootstrapEntries`: the configuration entries every initial member writes
   * as committed at its first start. They are committed by fiat, before any
   * disk holds them (a member that crashes first simply bootstraps again), so
   * durability is checked only for entries committed after them.
   */
  constructor(
    private readonly now: () => number,
    private readonly bootstrapEntries = 0,
    /** rules not to report (a test proving a bug is found by its consequences, not by the rule aimed at it) */
    private readonly ignored: ReadonlySet<SafetyRule> = new Set(),
  ) {}

  /** Whether any violation has been recorded. */
  get failed(): boolean {
    return this.violations.length > 0
  }

  /** The highest index known committed (applied by some member). */
  get commitIndex(): number {
    return this.committedIndex
  }

  /** The latest committed configuration seen (that of the member that applied the most), and that member's commit index. */
  get latestConfiguration(): { conf: ConfState; commit: number } | null {
    return this.latestConf === null ? null : { conf: this.latestConf, commit: this.latestConfCommit }
  }

  /** How many terms had a leader. */
  get leaderTerms(): number {
    return this.leaders.size
  }

  /** The digest of the committed entry at `index`, if known. */
  committedAt(index: number): string | undefined {
    return this.committed[index]
  }

  /** Record a broken property (also used by the driver for core exceptions). */
  fail(rule: SafetyRule, member: NodeId, detail: string): void {
    if (this.ignored.has(rule)) return
    this.violations.push({ at: this.now(), rule, member, detail })
  }

  /** A member's status after an event touched it: election safety, in-life monotonic term and vote. */
  observeStatus(id: NodeId, life: number, s: CoreStatus): void {
    if (s.role === 'leader') {
      const other = this.leaders.get(s.term)
      if (other === undefined) this.leaders.set(s.term, id)
      else if (other !== id) this.fail('election-safety', id, `two leaders in term ${s.term}: ${other} and ${id}`)
    }
    const last = this.lastStatus.get(id)
    if (last !== undefined && last.life === life) {
      if (s.term < last.term) this.fail('hard-state-monotonic', id, `term went back from ${last.term} to ${s.term}`)
      else if (s.term === last.term && last.vote !== null && s.vote !== last.vote)
        this.fail('hard-state-monotonic', id, `vote in term ${s.term} changed from ${last.vote} to ${s.vote}`)
    }
    this.lastStatus.set(id, { life, term: s.term, vote: s.vote })
    // The core's configuration follows the committed entries it handed out:
    // at least `applied`, at most `commit`. The member that applied the most
    // has a configuration at least as new as every applied entry, which is
    // what the durability check needs; `commit` bounds how new it may be.
    if (s.applied >= this.latestConfApplied) {
      this.latestConf = s.conf
      this.latestConfApplied = s.applied
      this.latestConfCommit = s.commit
    }
  }

  /**
   * Entries a member's core handed out to persist, now part of its log view
   * `log` (already updated). Log Matching by induction: an (index, term) pair
   * always names the same entry with the same predecessor term.
   */
  observeAppended(id: NodeId, log: LogView, entries: readonly Entry[]): void {
    for (const e of entries) {
      const prev = termAt(log, e.index - 1)
      if (prev === undefined) {
        this.fail('log-matching', id, `entry ${e.index}/${e.term} appended after a gap`)
        continue
      }
      if (prev > e.term) this.fail('log-matching', id, `entry ${e.index} has term ${e.term} below its predecessor's ${prev}`)
      const key = `${e.index}/${e.term}`
      const value = `${prev}|${entryDigest(e)}`
      const seen = this.logEntries.get(key)
      if (seen === undefined) this.logEntries.set(key, value)
      else if (seen !== value)
        this.fail('log-matching', id, `entry ${key} differs between logs: ${seen} vs ${value}`)
    }
  }

  /**
   * A member just became leader of `term` with log `log`: it must hold every
   * entry committed in an earlier term (§5.4.1). A leader of an older term
   * may legitimately appear late (a frozen candidate that won its votes long
   * ago), so entries whose commit term is not below `term` are skipped.
   */
  observeNewLeader(id: NodeId, term: number, log: LogView): void {
    for (let i = log.snapIndex + 1; i <= this.committedIndex; i++) {
      if (this.commitTerms[i]! >= term) continue
      const e = entryAt(log, i)
      const want = this.committed[i]
      if (e === undefined) {
        this.fail('leader-completeness', id, `leader of term ${term} lacks committed entry ${i} (${want})`)
        return
      }
      if (entryDigest(e) !== want) {
        this.fail('leader-completeness', id, `leader of term ${term} has ${entryDigest(e)} at committed index ${i}, committed was ${want}`)
        return
      }
    }
  }

  /**
   * A leader of `term` set its commit index to `commit`. Raft's commit rule
   * (§5.4.2): a leader only counts replicas of entries of its own term, so
   * its commit index, once it moves as leader, names an entry of its term.
   */
  observeLeaderCommit(id: NodeId, term: number, commit: number, log: LogView): void {
    const t = termAt(log, commit)
    if (t !== undefined && t !== term)
      this.fail('commit-rule', id, `leader of term ${term} advanced its commit to ${commit}, an entry of term ${t} (§5.4.2)`)
  }

  /**
   * A member in `term` applied `digest` at `index`, having applied up to `applied` before.
   * Applies are in order; the first apply of an index fixes what is committed there.
   */
  observeApply(id: NodeId, term: number, applied: number, index: number, digest: string): void {
    if (index !== applied + 1) this.fail('state-machine-safety', id, `applied index ${index} after ${applied}`)
    const want = this.committed[index]
    if (want === undefined) {
      if (index === this.committed.length) {
        this.committed.push(digest)
        this.commitTerms.push(term)
        this.committedIndex = index
      } else this.fail('state-machine-safety', id, `applied ${index} before anything was committed at ${this.committed.length}`)
    } else if (want !== digest) {
      this.fail('state-machine-safety', id, `applied ${digest} at ${index} where ${want} was applied before`)
    }
  }

  /** A member installed a snapshot whose state is the digests of entries 1..n: each must match. */
  observeSnapshotState(id: NodeId, digests: readonly string[]): void {
    for (let i = 1; i < digests.length; i++) {
      const want = this.committed[i]
      if (want === undefined) {
        this.fail('state-machine-safety', id, `snapshot holds ${digests.length - 1} entries, only ${this.committedIndex} committed`)
        return
      }
      if (want !== digests[i]) {
        this.fail('state-machine-safety', id, `snapshot has ${digests[i]} at ${i}, committed was ${want}`)
        return
      }
    }
  }

  /** A write became durable: the durable term never goes back and a durable vote never changes within its term. */
  observeDurable(id: NodeId, prev: HardState, next: HardState): void {
    if (next.term < prev.term) this.fail('hard-state-monotonic', id, `durable term went back from ${prev.term} to ${next.term}`)
    else if (next.term === prev.term && prev.vote !== null && next.vote !== prev.vote)
      this.fail('hard-state-monotonic', id, `durable vote in term ${next.term} changed from ${prev.vote} to ${next.vote}`)
  }

  /**
   * A member is about to send `m` with `disk` as its durable state. Anything
   * the message vouches for must already be durable (invariant 2).
   */
  observeSend(id: NodeId, m: Message, disk: Readonly<DurableState>): void {
    const hs = disk.hardState
    if (m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp') return
    if (m.term > hs.term) {
      this.fail('persist-before-send', id, `${m.type} to ${m.to} carries term ${m.term}, durable term is ${hs.term}`)
      return
    }
    // A later durable term supersedes the vote: the member can never vote again in m.term.
    if (m.type === 'MsgVoteResp' && !m.reject && hs.term === m.term && hs.vote !== m.to)
      this.fail('persist-before-send', id, `vote for ${m.to} in term ${m.term} sent, durable vote is ${hs.vote} in term ${hs.term}`)
    if (m.type === 'MsgAppResp' && !m.reject && m.index > 0 && !durablyHolds(disk, m.index))
      this.fail('persist-before-send', id, `acknowledged index ${m.index} to ${m.to} before it was durable`)
  }

  /**
   * A leader counts itself as holding entries up to `selfMatch` (its own
   * acknowledgement in the commit count): they must be durable, with the
   * terms its log has at those indexes (invariant 2; Raft thesis §10.2.1 lets
   * the leader send before its write completes, not count itself).
   */
  observeLeaderSelfAck(id: NodeId, selfMatch: number, log: LogView, disk: Readonly<DurableState>): void {
    if (selfMatch <= 0) return
    const snapIndex = disk.snapshot?.meta.index ?? 0
    if (selfMatch <= snapIndex) return
    const e = disk.entries.find((x) => x.index === selfMatch)
    const want = termAt(log, selfMatch)
    if (e === undefined || (want !== undefined && e.term !== want))
      this.fail('persist-before-ack', id, `leader counts its own acknowledgement of ${selfMatch}, its disk holds ${e === undefined ? 'no entry there' : `term ${e.term} there`}`)
  }

  /**
   * Durability: the highest committed entry must not be missing from a quorum
   * of the latest configuration's durable logs. `disks` are all members' disks
   * (crashed ones included: a crashed member keeps its disk).
   */
  checkDurability(disks: ReadonlyMap<NodeId, Readonly<DurableState>>): void {
    const index = this.committedIndex
    const conf = this.latestConf
    if (index <= this.bootstrapEntries || conf === null) return
    const want = this.committed[index]!
    const lacks = (n: NodeId): boolean => {
      const d = disks.get(n)
      return d === undefined || !durablyHoldsEntry(d, index, want)
    }
    const lostIn = (voters: readonly NodeId[]): boolean =>
      voters.length > 0 && voters.filter(lacks).length > Math.floor(voters.length / 2)
    if (lostIn(conf.voters) && (conf.votersOutgoing.length === 0 || lostIn(conf.votersOutgoing))) {
      const missing = conf.voters.filter(lacks).join(',')
      this.fail('durability', missing, `committed entry ${index} (${want}) is durable on no quorum of voters [${conf.voters}] (missing on ${missing})`)
    }
  }

  /** A ReadIndex answer: its index must cover what was committed when the read started. */
  observeReadIndex(id: NodeId, readIndex: number, committedAtStart: number): void {
    if (readIndex < committedAtStart)
      this.fail('stale-read', id, `read index ${readIndex} is below ${committedAtStart}, committed before the read started`)
  }

  /** Role names for traces. */
  static describe(role: Role, term: number, lead: NodeId | null): string {
    return `${role} term ${term}${lead === null ? '' : ` lead ${lead}`}`
  }
}

function durablyHolds(disk: Readonly<DurableState>, index: number): boolean {
  if (disk.snapshot !== null && index <= disk.snapshot.meta.index) return true
  return disk.entries.some((e) => e.index === index)
}

function durablyHoldsEntry(disk: Readonly<DurableState>, index: number, digest: string): boolean {
  if (disk.snapshot !== null && index <= disk.snapshot.meta.index) return true
  const e = disk.entries.find((x) => x.index === index)
  return e !== undefined && entryDigest(e) === digest
}
