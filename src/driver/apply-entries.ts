// Applying what the core committed: entries and snapshots into the tree, and
// what each applied entry means to this member.
//
// Every replica applies the same entries in the same order to the same tree;
// what differs per member is who is waiting on them: our tab's writes resolve
// at the entry carrying their (session, seq), watch callbacks run before the
// next entry (so the app never reads a state whose watch has not fired), the
// leader's session tracker learns of opened, closed and expired sessions, and
// our own session opens or is lost. Kept apart from the Ready loop, which only
// decides WHEN to apply (after the save), not what applying means.
import type { Entry, Snapshot } from '../raft/types'
import { decodeCommand } from '../tree/command'
import type { Command, TxnResult } from '../tree/types'
import { toMeshError } from '../shared/errors'
import type { ClusterIdentity } from './cluster-identity'
import type { MemberContext } from './member-context'
import type { NoQuorumHandling } from './no-quorum'
import type { Roster } from './roster'
import type { SessionKeeper } from './sessions'
import type { LocalWatches } from './watches'

export class EntryApplier {
  /** snapshots installed from a leader (not the one loaded at start) */
  snapshotsInstalled = 0

  constructor(
    private readonly ctx: MemberContext,
    private readonly watches: LocalWatches,
    private readonly sessions: SessionKeeper,
    private readonly quorum: NoQuorumHandling,
    private readonly identity: ClusterIdentity,
    private readonly roster: Roster,
  ) {}

  /** Apply one committed entry; every entry, even one that cannot decode, emits `applied`. */
  apply(e: Entry): void {
    const ctx = this.ctx
    ctx.appliedIndex = e.index
    if (e.type === 'conf') {
      this.identity.adopt()
      this.roster.emitIfChanged()
      ctx.emit('applied', [e.index])
      return
    }
    if (e.data.length === 0) {
      ctx.emit('applied', [e.index])
      return
    }
    let cmd: Command
    try {
      cmd = decodeCommand(e.data)
    } catch (err) {
      // every replica fails to decode the same committed bytes and skips them
      ctx.emit('error', [toMeshError(err, 'BAD_MESSAGE')])
      ctx.emit('applied', [e.index])
      return
    }
    const outcome = ctx.tree.apply(e.index, cmd)
    ctx.timeline?.applied(e, cmd)
    // watch callbacks run now, before any later read can see this state
    this.watches.deliver(outcome.events)
    this.afterCommand(cmd, outcome.result)
    ctx.emit('applied', [e.index])
  }

  /**
   * Replace the tree with a snapshot's. `live`: a leader sent it while we run
   * (not the one loaded at start), so watches and our session catch up on
   * what changed in between.
   */
  install(snapshot: Snapshot, live: boolean): void {
    const ctx = this.ctx
    const restored = ctx.restoreTree(snapshot.data)
    const before = ctx.tree
    ctx.tree = restored
    ctx.appliedIndex = snapshot.meta.index
    ctx.snapshotIndex = snapshot.meta.index
    if (!live) return
    this.snapshotsInstalled++
    // fire what changed between our last state and the snapshot (ZooKeeper's setWatches)
    this.watches.resync(before, restored)
    const own = this.sessions.own
    if (own.open && restored.session(own.id) === null) this.sessions.lost()
    else if (!own.open && restored.session(own.id) !== null) this.sessions.markOpen()
  }

  private afterCommand(cmd: Command, result: TxnResult): void {
    const ctx = this.ctx
    const sessions = this.sessions
    const now = ctx.clock.now()
    switch (cmd.type) {
      case 'txn':
        sessions.requests.applied(cmd, result)
        break
      case 'open-session':
        if (ctx.isLeader) sessions.leader.opened(cmd.session, now)
        if (cmd.session === sessions.own.id && !sessions.own.open) {
          if (ctx.tree.session(cmd.session) !== null) {
            sessions.markOpen()
            this.quorum.update()
          } else if (!result.ok) {
            // our session opened and ended while we were away (we learnt the tree from a
            // snapshot), so its id is spent (ZTree refuses it): open a fresh one
            sessions.renew()
          }
        }
        break
      case 'close-session':
        sessions.leader.gone([cmd.session])
        break
      case 'expire-sessions':
        sessions.leader.gone(cmd.sessions)
        if (cmd.sessions.includes(sessions.own.id) && sessions.own.open) sessions.lost()
        break
      default:
        break
    }
  }
}
