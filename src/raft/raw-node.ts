// RawNode: the driver-facing API over the Raft state machine (etcd's
// RawNode). The driver ticks it, steps peer messages into it, calls the local
// API, and drains Ready batches under the ordering contract written on Ready.
//
// Between ready() and advance() the driver may keep stepping messages and
// ticking (its disk write is asynchronous); what a Ready handed out is marked
// in flight, so the next Ready holds only what is new.
import { cloneConfState } from './confchange'
import { confAt } from './conf-replay'
import { RaftError } from './errors'
import { Raft } from './raft'
import type { ConfChange, HardState, Message, NodeId, RaftConfig, Ready, Role, Snapshot, SoftState } from './types'
import type { ProgressState } from './tracker'

export interface ProgressStatus {
  match: number
  next: number
  state: ProgressState
  recentActive: boolean
}

export interface RaftStatus {
  id: NodeId
  term: number
  vote: NodeId | null
  commit: number
  applied: number
  lastIndex: number
  firstIndex: number
  lead: NodeId | null
  role: Role
  conf: import('./types').ConfState
  /** the leader's view of every member; null on other roles */
  progress: Map<NodeId, ProgressStatus> | null
}

export class RawNode {
  readonly id: NodeId
  private readonly raft: Raft
  private prevSoft: SoftState
  private prevHard: HardState

  /** Restores from cfg.durable; bootstraps from cfg.bootstrap when durable state is empty. */
  constructor(cfg: RaftConfig) {
    this.raft = new Raft(cfg)
    this.id = cfg.id
    this.prevSoft = { lead: null, role: 'follower' }
    this.prevHard = { ...cfg.durable.hardState }
  }

  tick(): void {
    this.raft.tick()
  }

  /** Heartbeat every `ticks` ticks from now on (Raft.setHeartbeatTicks). */
  setHeartbeatTicks(ticks: number): void {
    this.raft.setHeartbeatTicks(ticks)
  }

  /** Feed a message from a peer; stale, foreign or out-of-protocol ones are ignored. */
  step(m: Message): void {
    this.raft.step(m)
  }

  /** Campaign now (PreVote first when enabled). */
  campaign(): void {
    this.raft.hup('auto')
  }

  /**
   * Campaign now if we are the only voter (a founder, a cluster of one
   * reopened): nobody else can lead or vote, so an election timeout would be
   * waited for nothing.
   */
  campaignIfOnlyVoter(): void {
    const conf = this.raft.trk.conf
    if (conf.voters.length === 1 && conf.voters[0] === this.raft.id && conf.votersOutgoing.length === 0) this.raft.hup('auto')
  }

  /** The app's forced takeover: we become the only voter (see Raft.forceSoleVoter). */
  forceSoleVoter(): number {
    return this.raft.forceSoleVoter()
  }

  /** A leader contradicted our committed log (a forced cluster): who, once. */
  takeCommittedConflict(): string | null {
    const from = this.raft.committedConflictFrom
    this.raft.committedConflictFrom = null
    return from
  }

  /** Propose application data. Throws RaftError when it cannot be taken. */
  propose(data: Uint8Array): void {
    this.raft.propose(data)
  }

  /** Propose a membership change (leader only, one at a time). */
  proposeConfChange(cc: ConfChange): void {
    this.raft.proposeConfChange(cc)
  }

  /** Ask for a linearizable read point; the answer comes in Ready.readStates. */
  readIndex(ctx: Uint8Array): void {
    this.raft.readIndex(ctx)
  }

  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to)
  }

  /** Leader about to go: the messages that hand leadership to `to` now, to be sent at once (see Raft.handOverNow). */
  handOverNow(to: NodeId): Message[] {
    return this.raft.handOverNow(to)
  }

  /** Campaign now, knowing nobody leads: a newer term in an answer makes us run again at once (see Raft.campaignKnowingLeaderless). */
  campaignKnowingLeaderless(): void {
    this.raft.campaignKnowingLeaderless()
  }

  /** Leaderless follower: campaign the first time we refuse a candidate for a shorter log (see Raft.campaignIfRefusing). */
  campaignIfRefusing(): void {
    this.raft.campaignIfRefusing()
  }

  /** Leader: a link to `id` came up; it hears a heartbeat now (see Raft.reportLinked). */
  reportLinked(id: NodeId): void {
    this.raft.reportLinked(id)
  }

  /** `id`, not a member yet, says its log agrees with ours up to `index` (a
   *  newcomer's is empty: 0): when a configuration adds it, our first MsgApp
   *  starts right after that, not with a probe after our last index. Only a
   *  hint (a wrong one costs one refusal); garbage is ignored (ProgressTracker.hintLogEnd). */
  hintLogEnd(id: NodeId, index: number): void {
    this.raft.trk.hintLogEnd(id, index)
  }

  /** Leader: the link to `id` failed; stop pipelining to it and probe. */
  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id)
  }

  /** `id` is gone for good (its tab closed): if it led us, forget it; campaign now at rank 0, later at a higher rank (Raft.reportPeerGone). */
  reportPeerGone(id: NodeId, rank = 0): void {
    this.raft.reportPeerGone(id, rank)
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.visibleRole() }
  }

  private softChanged(): boolean {
    return this.prevSoft.lead !== this.raft.lead || this.prevSoft.role !== this.raft.visibleRole()
  }

  private hardChanged(): boolean {
    const r = this.raft
    return this.prevHard.term !== r.term || this.prevHard.vote !== r.vote || this.prevHard.commit !== r.log.committed
  }

  hasReady(): boolean {
    const r = this.raft
    r.flush()
    const log = r.log
    return (
      r.msgs.length > 0 ||
      log.inProgressIndex < log.lastIndex() ||
      log.hasNextCommitted() ||
      log.pendingSnapshot !== null ||
      r.readStates.length > 0 ||
      this.softChanged() ||
      this.hardChanged()
    )
  }

  /** Everything new since the last Ready; see the ordering contract on Ready. */
  ready(): Ready {
    const r = this.raft
    r.flush()
    const log = r.log
    const soft = this.softChanged() ? this.softState() : null
    const hard = this.hardChanged() ? { term: r.term, vote: r.vote, commit: log.committed } : null
    const entries = log.unstableEntries()
    const snapshot = log.pendingSnapshot
    const committedEntries = log.nextCommitted()
    const rd: Ready = {
      softState: soft,
      hardState: hard,
      entries,
      snapshot,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== null ||
        (hard !== null && (hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote)),
    }
    // accept: what this Ready carries is in flight now
    if (soft !== null) this.prevSoft = soft
    if (hard !== null) this.prevHard = hard
    r.msgs = []
    r.readStates = []
    log.inProgressIndex = log.lastIndex()
    if (snapshot !== null) {
      log.snapshotInProgress = snapshot
      log.pendingSnapshot = null
    }
    if (committedEntries.length > 0) {
      log.applying = committedEntries[committedEntries.length - 1]!.index
      r.onCommittedHandedOut(committedEntries)
    }
    return rd
  }

  /** The driver persisted, sent and applied `rd`. */
  advance(rd: Ready): void {
    const r = this.raft
    const log = r.log
    const last = rd.entries[rd.entries.length - 1]
    if (last !== undefined) {
      log.stableTo(last.index, last.term)
      r.selfAckStable()
    }
    if (rd.snapshot !== null) {
      if (log.snapshotInProgress === rd.snapshot) log.snapshotInProgress = null
      if (rd.snapshot.meta.index > log.applied) log.applied = rd.snapshot.meta.index
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1]
    if (lastApplied !== undefined && lastApplied.index > log.applied) log.applied = lastApplied.index
    r.afterApplied()
  }

  /**
   * Make the application state `data` at applied `index` the snapshot and
   * drop the entries up to it. Returns the snapshot the driver must persist.
   */
  compact(index: number, data: Uint8Array): Snapshot {
    const r = this.raft
    const log = r.log
    if (index <= log.snapshotIndex) throw new RaftError('BAD_COMPACTION', `index ${index} is already compacted`)
    if (index > log.applied) throw new RaftError('BAD_COMPACTION', `index ${index} is not applied (applied ${log.applied})`)
    const term = log.term(index)!
    return log.compact({ index, term, conf: confAt(log, index) }, data)
  }

  /** The current term (status() without building the leader's progress map). */
  get term(): number {
    return this.raft.term
  }

  status(): RaftStatus {
    const r = this.raft
    let progress: Map<NodeId, ProgressStatus> | null = null
    if (r.role === 'leader') {
      progress = new Map()
      for (const [id, pr] of r.trk.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive })
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      lead: r.lead,
      role: r.visibleRole(),
      conf: cloneConfState(r.conf),
      progress,
    }
  }
}
