// The Ready loop: the heart of the member, and its order is the contract on `Ready`:
//   1. persist hard state, entries and snapshot in ONE storage.save;
//   2. only then send the messages (invariant 2: persist before send — a vote
//      or an append acknowledgement vouches for what is on disk);
//   3. apply the snapshot and the committed entries to the tree, delivering
//      watch events and resolving local requests at each entry
//      (apply-entries.ts);
//   4. advance.
// One Ready is in flight at a time: anything that happens while a save is
// pending (messages, ticks, proposals) lands in the core and comes out in the
// next Ready. A failed save stops the member: it raises an `error` with code
// STORAGE and neither votes nor acknowledges again, rather than lie. After
// enough applied entries the loop compacts the log into a snapshot.
//
// The soft state of a Ready (who leads, our role) is followed here too: a
// member that just became leader takes over the session tracker and gives
// every member a fresh failure timeout before it applies anything as leader.
import type { Ready, Role } from '../raft/types'
import type { SaveBatch } from '../storage/types'
import { MeshError } from '../shared/errors'
import type { EntryApplier } from './apply-entries'
import type { MemberContext } from './member-context'
import type { NoQuorumHandling } from './no-quorum'
import type { Roster } from './roster'
import type { SessionKeeper } from './sessions'

export class ReadyLoop {
  private pumping = false

  constructor(
    private readonly ctx: MemberContext,
    private readonly applier: EntryApplier,
    private readonly sessions: SessionKeeper,
    private readonly roster: Roster,
    private readonly quorum: NoQuorumHandling,
  ) {}

  /** Drain the core. Re-entrant calls return at once: one Ready in flight. */
  pump(): void {
    const ctx = this.ctx
    if (this.pumping || ctx.stopped || !ctx.running || ctx.diverging) return
    this.pumping = true
    void this.drain()
      .catch((err: unknown) => {
        // a bug below us (core, tree): stop rather than run on in a state
        // nobody can vouch for (fail-stop), and say why
        const e = err instanceof MeshError ? err : new MeshError('BAD_MESSAGE', `member stopped: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
        ctx.emit('error', [e])
        ctx.control.stop(e)
      })
      .finally(() => {
        this.pumping = false
        // something may have stepped or proposed after the loop's last look
        if (!ctx.stopped && ctx.running && !ctx.diverging && ctx.raft.hasReady()) this.pump()
      })
  }

  private async drain(): Promise<void> {
    const ctx = this.ctx
    const raft = ctx.raft
    while (!ctx.stopped && ctx.running && ctx.raft === raft && raft.hasReady()) {
      const rd = raft.ready()
      // the term this Ready speaks for, read now: the core may move on while
      // the save is on the disk, and the app must never hear a leader paired
      // with a term it did not lead
      const term = raft.term
      ctx.timeline?.committed(rd.committedEntries)
      const batch = toSaveBatch(rd)
      if (batch !== null) {
        try {
          await ctx.storage.save(batch)
        } catch (err) {
          // a slot wiped by a divergence takes this Ready with it
          if (ctx.raft === raft && !ctx.diverging) ctx.failStorage(err)
          return
        }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop(), a divergence or a pause may happen during the await above
        if (ctx.stopped || ctx.raft !== raft || !ctx.running) return
        ctx.timeline?.persisted(rd.entries, ctx.isLeader)
      }
      for (const m of rd.messages) ctx.sendRaft(m)
      ctx.timeline?.sent(rd.messages)
      if (rd.softState !== null) this.onSoftState(rd.softState.lead, rd.softState.role, term)
      if (rd.snapshot !== null) this.applier.install(rd.snapshot, true)
      for (const e of rd.committedEntries) this.applier.apply(e)
      ctx.raft.advance(rd)
      this.sessions.reads.onReadStates(rd.readStates)
      this.sessions.reads.onApplied()
      if (term !== ctx.term) {
        ctx.term = term
        ctx.emit('leader', [{ leader: ctx.lead, term }])
      }
      await this.maybeCompact()
    }
  }

  private async maybeCompact(): Promise<void> {
    const ctx = this.ctx
    if (ctx.stopped || ctx.appliedIndex - ctx.snapshotIndex < ctx.timing.snapshotEntries) return
    const snap = ctx.raft.compact(ctx.appliedIndex, ctx.tree.snapshot())
    ctx.snapshotIndex = snap.meta.index
    try {
      await ctx.storage.save({ snapshot: snap })
    } catch (err) {
      ctx.failStorage(err)
    }
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

function toSaveBatch(rd: Ready): SaveBatch | null {
  const batch: SaveBatch = {}
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
