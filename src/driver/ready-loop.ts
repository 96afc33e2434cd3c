// The Ready loop: the heart of the member, and its order is the contract on `Ready`:
//   1. persist hard state, entries and snapshot in ONE storage.save — strict
//      when the Ready `mustSync`s (a term, a vote, entries, a snapshot),
//      relaxed when only the commit index moved (etcd does not sync it either:
//      a lost commit index is learnt again from the leader), and then not at
//      once: the next save or the next tick carries it (saveCommitIndex);
//   2. send the messages once the state they vouch for is durable (invariant
//      2 — a vote or an append acknowledgement vouches for what is on disk).
//      A leader's replication messages of a durable term leave at once, in
//      parallel with its own write (sendsBeforeSave, Raft thesis §10.2.1): the
//      core counts the leader's own acknowledgement only at advance;
//   3. apply the snapshot and the committed entries to the tree, delivering
//      watch events and resolving local requests at each entry
//      (apply-entries.ts); a leader then proposes peers' forwards that
//      waited for room in their budgets (forward-intake.ts);
//   4. advance — for a leader, the "stable to" report that counts its own
//      acknowledgement.
// Up to MAX_READIES_IN_FLIGHT Readies are in flight (pipelining, etcd's
// asynchronous storage writes): each is taken and its save issued at once, so
// the saves reach storage in the order the Readies were taken (one storage's
// saves take effect in call order), and proposals keep batching in the core
// while a save is on the disk. Steps 2–4 of the Readies run one Ready after
// another, in order, each after its own save unless that save records only
// the commit index (not mustSync: written relaxed and not waited for, see
// take) — and so after every earlier save that must be durable. A failed save
// (waited for or not) stops the member:
// it raises an `error` with code STORAGE and neither votes nor acknowledges
// again, rather than lie. After enough applied entries the loop compacts the
// log into a snapshot.
//
// The soft state of a Ready (who leads, our role) is followed here too: a
// member that just became leader takes over the session tracker and gives
// every member a fresh failure timeout before it applies anything as leader.
import { RaftError } from '../raft/errors'
import { sendsBeforeSave } from '../raft/send-before-save'
import type { HardState, Message, Ready, Role } from '../raft/types'
import type { RawNode } from '../raft/raw-node'
import type { SaveBatch } from '../storage/types'
import { MeshError } from '../shared/errors'
import type { EntryApplier } from './apply-entries'
import type { ForwardIntake } from './forward-intake'
import type { MemberContext } from './member-context'
import type { NoQuorumHandling } from './no-quorum'
import type { Roster } from './roster'
import type { SessionKeeper } from './sessions'

/** Readies taken and not yet advanced: the disk is kept busy while the core
 *  batches what arrives meanwhile. (With 2 or more, test/recipes/faults.test.ts
 *  once hung: the queue recipe's claim retried a never-sent NO_QUORUM write
 *  in a microtask loop, fixed in recipes/queue.ts.) */
export const MAX_READIES_IN_FLIGHT = 4

export class ReadyLoop {
  /** Readies taken, not yet through step 4 */
  private inFlight = 0
  /** the core those Readies came from (a new core waits for them to finish) */
  private raftInFlight: RawNode | null = null
  /** steps 2–4 of each Ready, chained in the order the Readies were taken */
  private tail: Promise<void> = Promise.resolve()
  /** the highest term known durable for `raftInFlight` (0 until a save of
   *  its hard state completed): what a message may carry before its save */
  private durableTerm = 0
  /** the core whose save failed: none of its later Readies goes on */
  private failedRaft: RawNode | null = null
  /** the newest hard state of `raftInFlight` whose only change was the commit
   *  index, not saved yet: the next save carries it, or the next tick saves
   *  it alone (saveCommitIndex) */
  private unsavedCommit: HardState | null = null
  /** inside pump (see there) */
  private pumping = false
  /** the tree's size at our last compaction (maybeCompact) */
  private compactedNodes = 0

  constructor(
    private readonly ctx: MemberContext,
    private readonly applier: EntryApplier,
    private readonly sessions: SessionKeeper,
    private readonly roster: Roster,
    private readonly quorum: NoQuorumHandling,
    private readonly forwards: ForwardIntake,
  ) {}

  /** Take every Ready the core has, up to MAX_READIES_IN_FLIGHT in flight. */
  pump(): void {
    // a proposal made while a Ready is taken (a leader just learned, below)
    // pumps again: the loop below takes it, one take at a time
    if (this.pumping) return
    this.pumping = true
    try {
      this.takeAll()
    } finally {
      this.pumping = false
    }
  }

  private takeAll(): void {
    const ctx = this.ctx
    for (;;) {
      if (ctx.stopped || !ctx.running || ctx.diverging || this.inFlight >= MAX_READIES_IN_FLIGHT) return
      const raft = ctx.raft
      if (raft !== this.raftInFlight) {
        // a new core (restart, divergence): the old one's Readies finish first
        if (this.inFlight > 0) return
        this.raftInFlight = raft
        this.durableTerm = 0
        // the old core's commit index is not this one's (a divergence wipes the slot)
        this.unsavedCommit = null
      }
      if (!this.guard(() => raft.hasReady())) return
      const rd = this.guard(() => raft.ready())
      if (rd === undefined) return
      this.take(raft, rd)
    }
  }

  /** Issue the Ready's save, send what may go before it, chain the rest. */
  private take(raft: RawNode, rd: Ready): void {
    const ctx = this.ctx
    // the term this Ready speaks for, read now: the core moves on while the
    // save is on the disk, and the app must never hear a leader paired with
    // a term it did not lead
    const term = raft.term
    if (ctx.timeline !== null) {
      const leads = (rd.softState?.role ?? ctx.role) === 'leader'
      ctx.timeline.taken(rd.entries, leads)
      ctx.timeline.committed(rd.committedEntries, leads)
    }
    let batch = toSaveBatch(rd)
    if (batch !== null && isCommitOnly(batch) && !this.sessions.awaitsWrites()) {
      // A save of the commit index alone is not made now: the next save
      // carries it (a hard state holds the whole term, vote and commit, so a
      // newer one supersedes it), or the next tick makes it. It is not
      // waited for either way (see below), and the tabs of a browser share
      // one IndexedDB backend, where each transaction queues the others: a
      // write cost every member an entry save and a commit-index save, and
      // in a loop of writes the next entry save carries the commit index.
      // A member that crashes first has an older commit index on disk, which
      // it learns again from its leader, as with a lost relaxed save.
      // A member whose app awaits a write saves at once, as before: the
      // member that answers a write keeps knowing it was committed, so that
      // should a forced takeover (forceNewCluster) drop it, this member
      // reports it when it comes back (diverged, forced).
      this.unsavedCommit = batch.hardState!
      batch = null
    } else if (batch !== null && this.unsavedCommit !== null) {
      batch.hardState ??= this.unsavedCommit
      this.unsavedCommit = null
    }
    const saved = batch === null ? null : this.issueSave(raft, batch)
    // a leader's replication messages of a durable term leave now, whatever
    // the save holds (entries, or only the commit index they carry on)
    const early: Message[] = []
    const late: Message[] = []
    for (const m of rd.messages) (sendsBeforeSave(m, this.durableTerm) ? early : late).push(m)
    for (const m of early) {
      ctx.sendRaft(m)
      ctx.timeline?.sent(m)
    }
    if (rd.softState !== null) this.route(rd.softState.lead, term)
    // A commit-only Ready (not mustSync: written relaxed, no fsync, as etcd,
    // and later, above) does not wait for its save: what that records is only
    // a commit index, which a member that loses it learns again from its
    // leader, and the entries it commits are on our disk already (every
    // earlier Ready waited for its own save, and Readies finish in order). A
    // failed save still stops the member (issueSave). Applying before the
    // commit index is stored is what etcd's asynchronous writes do too.
    const waitFor = batch?.sync === false ? null : saved
    this.inFlight++
    this.tail = this.tail
      .then(async () => {
        if (waitFor !== null) {
          try {
            await waitFor
          } catch {
            return // the save failed (failStorage above): nothing of this Ready goes on
          }
        }
        // a failed save (this one or an earlier one) ends the Ready
        if (ctx.stopped || ctx.raft !== raft || !ctx.running || this.failedRaft === raft) return
        if (waitFor !== null) ctx.timeline?.persisted(rd.entries, ctx.isLeader)
        await this.finish(raft, rd, late, term)
      })
      .catch((err: unknown) => this.crash(err))
      .finally(() => {
        this.inFlight--
        // something may have stepped or proposed while this Ready was in flight
        if (!ctx.stopped && ctx.running && !ctx.diverging) this.pump()
      })
  }

  /** Save the commit index no save carried since it moved (every tick, and
   *  when the member stops). */
  saveCommitIndex(): void {
    const hardState = this.unsavedCommit
    const raft = this.raftInFlight
    this.unsavedCommit = null
    if (hardState === null || raft !== this.ctx.raft || this.failedRaft === raft || this.ctx.diverging) return
    // a failure is reported by issueSave; nothing waits for this save
    this.issueSave(raft, { sync: false, hardState }).catch(() => undefined)
  }

  /** Issue a Ready's save; a failure stops the member (this core goes no further). */
  private issueSave(raft: RawNode, batch: SaveBatch): Promise<void> {
    const ctx = this.ctx
    const saved = ctx.storage.save(batch)
    const savedTerm = batch.hardState?.term
    saved.then(
      () => {
        ctx.timeline?.saved(batch.entries)
        if (savedTerm !== undefined && this.raftInFlight === raft && savedTerm > this.durableTerm) this.durableTerm = savedTerm
      },
      (err: unknown) => {
        this.failedRaft = raft
        // a slot wiped by a divergence takes this Ready with it
        if (ctx.raft === raft && !ctx.diverging) ctx.failStorage(err)
      },
    )
    return saved
  }

  /** Steps 2–4 of one Ready, its save complete. */
  private async finish(raft: RawNode, rd: Ready, late: readonly Message[], term: number): Promise<void> {
    const ctx = this.ctx
    for (const m of late) {
      ctx.sendRaft(m)
      ctx.timeline?.sent(m)
    }
    if (rd.softState !== null) this.onSoftState(rd.softState.lead, rd.softState.role, term)
    if (rd.snapshot !== null) this.applier.install(rd.snapshot, true)
    for (const e of rd.committedEntries) this.applier.apply(e)
    raft.advance(rd)
    // a leader we just learned of hears our session's open, and gets our
    // writes in flight, now (after the advance: the core takes a proposal
    // into its next Ready), not at the next tick
    if ((rd.softState?.lead ?? null) !== null && !ctx.stopped) {
      this.sessions.own.leaderKnown()
      this.sessions.requests.leaderKnown()
    }
    this.sessions.reads.onReadStates(rd.readStates)
    this.sessions.reads.onApplied()
    // peers' forwards that waited for room in their budgets (forward-intake.ts)
    this.forwards.applied()
    if (term !== ctx.term) {
      ctx.term = term
      ctx.emit('leader', [{ leader: ctx.lead, term }])
    }
    await this.maybeCompact()
  }

  /** A bug below us (core, tree): stop rather than run on in a state nobody
   *  can vouch for (fail-stop), and say why. */
  private crash(err: unknown): void {
    const ctx = this.ctx
    if (ctx.stopped) return
    const e = err instanceof MeshError ? err : new MeshError('BAD_MESSAGE', `member stopped: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    ctx.emit('error', [e])
    ctx.control.stop(e)
  }

  private guard<T>(fn: () => T): T | undefined {
    try {
      return fn()
    } catch (err) {
      this.crash(err)
      return undefined
    }
  }

  /**
   * Compact once `snapshotEntries` entries were applied since the last
   * snapshot, and no sooner than as many entries as the tree had nodes at
   * that snapshot: a snapshot encodes the whole tree in one go on the main
   * thread (and stores it in one transaction), so a fixed count made its cost
   * per entry grow with the tree. Bench profiles, 256 writers, ~30,000
   * nodes: every tab encoded for 70-115 ms at about the same moment, 7-10% of
   * each tab's time. Now at most about one node's encoding per entry, and
   * the log kept on disk stays within the size of the tree it leads to.
   */
  private async maybeCompact(): Promise<void> {
    const ctx = this.ctx
    if (ctx.stopped || ctx.appliedIndex - ctx.snapshotIndex < Math.max(ctx.timing.snapshotEntries, this.compactedNodes)) return
    let snap
    try {
      snap = ctx.raft.compact(ctx.appliedIndex, ctx.tree.snapshot())
    } catch (err) {
      // a snapshot from the leader, in a Ready taken after this one, already
      // moved the log past what we applied: it is the newer snapshot
      if (err instanceof RaftError && err.code === 'BAD_COMPACTION') return
      throw err
    }
    ctx.snapshotIndex = snap.meta.index
    this.compactedNodes = ctx.tree.nodeCount
    try {
      await ctx.storage.save({ snapshot: snap })
    } catch (err) {
      ctx.failStorage(err)
    }
  }

  /**
   * A Ready taken says who leads now: commands go there from now on
   * (MemberContext.routeTo), and what waited for a leader, or went to an
   * earlier one, goes now — a save earlier than when the Ready finishes
   * (onSoftState), which is what the app hears and the leader's duties
   * follow. A new leader's own writes join its first entry's save (the
   * storage merges saves made while one is on the disk); a follower that
   * learns the leader from its first append forwards while it saves it.
   * (bench flight records of a graceful close: the survivors' writes went
   * to the new leader 4-8 ms after its first append arrived, one save each)
   */
  private route(lead: string | null, term: number): void {
    const ctx = this.ctx
    const changed = lead !== ctx.routeTo.lead || term !== ctx.routeTo.term
    ctx.routeTo = { lead, term }
    if (!changed || lead === null || ctx.stopped) return
    this.sessions.own.leaderKnown()
    this.sessions.requests.leaderKnown()
  }

  private onSoftState(lead: string | null, role: Role, term: number): void {
    const ctx = this.ctx
    const wasLeader = ctx.isLeader
    const changed = lead !== ctx.lead
    ctx.lead = lead
    ctx.role = role
    if (changed) {
      ctx.leaderChanged = true
      ctx.term = term
      ctx.emit('leader', [{ leader: lead, term }])
    }
    if (ctx.isLeader && !wasLeader) this.becameLeader()
    this.quorum.update()
  }

  private becameLeader(): void {
    const now = this.ctx.clock.now()
    this.sessions.leader.takeOver(this.ctx.tree, now)
    this.roster.leaderTookOver(now)
  }
}

/** A Ready's save that records only a new commit index (not mustSync). */
function isCommitOnly(batch: SaveBatch): boolean {
  return batch.sync === false && batch.hardState !== undefined && batch.entries === undefined && batch.snapshot === undefined && batch.meta === undefined
}

function toSaveBatch(rd: Ready): SaveBatch | null {
  const batch: SaveBatch = { sync: rd.mustSync }
  let any = false
  if (rd.hardState !== null) {
    batch.hardState = rd.hardState
    any = true
  }
  if (rd.entries.length > 0) {
    batch.entries = rd.entries
    any = true
  }
  if (rd.snapshot !== null) {
    batch.snapshot = rd.snapshot
    any = true
  }
  return any ? batch : null
}
