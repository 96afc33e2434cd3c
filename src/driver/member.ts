// One member: a RawNode (consensus), a ZTree (the replicated state), a Storage
// (its durable slot) and its links, driven by an injected Clock.
//
// This class wires the member's pieces, one concern each (etcd splits its
// node the same way: node.go, rawnode.go, raft.go), around the facts they
// share (member-context.ts):
//   ready-loop.ts       save, send, apply, advance; compaction; a failed save stops us
//   apply-entries.ts    what each committed entry and snapshot means to this member
//   sessions.ts         our tab's session, its writes and reads; the leader's session tracker
//   roster.ts           what we know of the other members; the leader's membership round
//   cluster-identity.ts which cluster we belong to; a lost meet wipes and starts over
//   dispatch.ts         every peer message and link event, checked, to the piece it concerns
//   forward-intake.ts   the leader's intake of peers' forwards: budget, waiting, proposing
//   no-quorum.ts        the connection state; failing fast without a quorum
//   leaving.ts          leadership hand-off and a graceful close
//   takeover.ts         forceNewCluster: the only voter left takes the cluster over
//   tick-duties.ts      every periodic duty, in one fixed order, every tickMs
//   command-route.ts    how a command reaches the log (propose or forward;
//                       forward-queue.ts batches a turn's forwards)
// What stays here: the lifecycle (start, close, stop) and what the Mesh
// reads and calls.
//
// The member reads no global clock, timer, random source or browser API:
// everything comes in through MemberOptions, so the browser layer, Node tests
// and the simulator all run this same code (invariant 7).
import { ObservableV2 } from 'lib0/observable'
import { PLANTED_BUGS, RawNode } from '../raft/index'
import type { ConfState } from '../raft/types'
import { MAX_MEMBER_SESSION_TIMEOUT_MS } from '../wire/limits'
import type { ZTree } from '../tree/ztree'
import type { TxnOp, TxnResult } from '../tree/types'
import { MeshError, toMeshError } from '../shared/errors'
import type { CommitTimelineRecord, MemberInfo, MeshState } from '../shared/types'
import type { Clock } from '../shared/clock'
import { ClusterIdentity } from './cluster-identity'
import { CommandRoute } from './command-route'
import { MessageDispatch } from './dispatch'
import { ForwardIntake } from './forward-intake'
import { EntryApplier } from './apply-entries'
import { Housekeeping } from './housekeeping'
import { Leaving } from './leaving'
import { LinkTable } from './links'
import { MemberContext, reportAppError } from './member-context'
import type { MemberEvents } from './member-context'
import { NoQuorumHandling } from './no-quorum'
import { DEFAULT_MAX_VOTERS, DEFAULT_SESSION_TIMEOUT_MS, memberTiming, raftConfig } from './options'
import type { MemberOptions, MemberTiming } from './options'
import { ReadyLoop } from './ready-loop'
import { forceNewCluster } from './takeover'
import { ROSTER_EVERY_TICKS, TickDuties } from './tick-duties'
import type { RequestPipeline } from './requests'
import { noQuorum, tooLargeForOneEntry } from './requests'
import { Roster } from './roster'
import { SessionKeeper } from './sessions'
import { LocalWatches } from './watches'

export type { MemberEvents } from './member-context'


export class Member extends ObservableV2<MemberEvents> {
  readonly id: string
  readonly browser: string
  readonly tab: string
  readonly timing: MemberTiming
  readonly sessionTimeoutMs: number
  readonly maxVoters: number
  readonly scheduler: Clock
  readonly watches: LocalWatches

  private readonly ctx: MemberContext
  private readonly route: CommandRoute
  private readonly sessions: SessionKeeper
  private readonly quorum: NoQuorumHandling
  private readonly roster: Roster
  private readonly identity: ClusterIdentity
  private readonly applier: EntryApplier
  private readonly loop: ReadyLoop
  private readonly leaving: Leaving
  private readonly dispatch: MessageDispatch
  private readonly housekeeping: Housekeeping

  private started = false
  private readonly ticking: TickDuties

  constructor(private readonly opts: MemberOptions) {
    super()
    this.id = opts.hello.member
    this.browser = opts.hello.browser
    this.tab = opts.hello.tab
    this.scheduler = opts.scheduler
    this.watches = new LocalWatches(this.id, reportAppError)
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS
    // a leader refuses longer sessions from peers (peer-budget.ts): ours would never open
    if (this.sessionTimeoutMs > MAX_MEMBER_SESSION_TIMEOUT_MS) throw new MeshError('BAD_ARGUMENTS', `sessionTimeoutMs must be at most ${MAX_MEMBER_SESSION_TIMEOUT_MS}`)
    this.maxVoters = opts.maxVoters ?? DEFAULT_MAX_VOTERS
    this.timing = memberTiming(this.sessionTimeoutMs, opts.timing)
    const ctx = (this.ctx = new MemberContext(opts, this.timing, this.sessionTimeoutMs, (name, args) => this.emitSafe(name, args), {
      pump: () => this.loop.pump(),
      stop: (reason) => this.stop(reason),
      pauseTicks: () => this.ticking.stop(),
      resumeTicks: () => {
        this.ticking.start()
        this.ticking.tick()
      },
    }))
    this.route = new CommandRoute(ctx)
    this.sessions = new SessionKeeper(ctx, this.route)
    this.quorum = new NoQuorumHandling(ctx, this.sessions, ROSTER_EVERY_TICKS)
    this.housekeeping = new Housekeeping(this.timing.reapEveryMs)
    this.roster = new Roster(ctx, this.maxVoters)
    ctx.connection.onChange((s) => this.emitSafe('state', [s]))
    this.identity = new ClusterIdentity(ctx, this.roster, this.sessions, this.quorum)
    ctx.claimedLeader = () => this.identity.claimedLeader()
    this.applier = new EntryApplier(ctx, this.watches, this.sessions, this.quorum, this.identity, this.roster)
    const intake = new ForwardIntake(ctx, this.route, (peer, owner) => this.roster.mayCloseSessionsOf(peer, owner))
    this.loop = new ReadyLoop(ctx, this.applier, this.sessions, this.roster, this.quorum, intake)
    this.leaving = new Leaving(ctx, this.roster, this.sessions)
    this.dispatch = new MessageDispatch(ctx, intake, this.roster, this.sessions, this.identity, this.quorum)
    this.ticking = new TickDuties(ctx, { loop: this.loop, sessions: this.sessions, quorum: this.quorum, identity: this.identity, roster: this.roster, route: this.route, housekeeping: this.housekeeping }, (err) =>
      this.emitSafe('error', [err]),
    )
    this.sessions.newSession()
  }

  // ---- lifecycle ----

  /** Load the slot, start the core, listen to links, start ticking. */
  async start(): Promise<void> {
    if (this.started) throw new MeshError('BAD_ARGUMENTS', 'member already started')
    this.started = true
    const ctx = this.ctx
    const record = await orStorageError(() => ctx.storage.load())
    const { firstSave, bootstrap } = this.identity.adoptSlot(record)
    if (record !== null && record.durable.snapshot !== null) this.applier.install(record.durable.snapshot, false)
    ctx.raft = new RawNode(raftConfig(this.opts, this.timing, record?.durable ?? null, bootstrap))
    // A new slot's first save (its meta) is issued, not awaited, before the
    // member runs: a founder campaigns below and takes its first Ready (its
    // vote and its leader's first entry) in this same turn, and the storage
    // merges the two saves into one transaction (group commit): one disk
    // write fewer before a first tab's first write (issue 17). Nothing waits
    // less for the meta: a storage's saves take effect in call order, so
    // every later save (a vote's, an acknowledgement's) is written with it or
    // after it. start() still resolves only once it is durable: the caller
    // counts on the slot being recorded (joinMesh, before its room lock goes).
    const firstSaved = firstSave === null ? null : ctx.storage.save(firstSave)
    firstSaved?.catch(() => undefined) // awaited below, once the member runs
    // the browser may close the database under us: stop before a save has to fail
    ctx.storage.onFailure?.((err) => ctx.failStorage(err))
    ctx.links = new LinkTable(this.id, this.opts.transport, {
      message: (peer, msg) => this.dispatch.message(peer, msg),
      badFrame: (peer, err) => this.dispatch.badInput(peer, err),
      linkUp: (peer, hello) => this.dispatch.linkUp(peer, hello),
      linkDown: (peer, reason) => this.dispatch.linkDown(peer, reason),
      presence: (member, present) => this.roster.presence(member, present, this.ctx.clock.now()),
    }, ctx.timeline)
    ctx.links.broadcast(this.identity.claim())
    ctx.running = true
    // a founder alone need not wait out an election timeout
    ctx.raft.campaignIfOnlyVoter()
    // the first Ready (a founder's vote and first entry, merged with the
    // slot's first save) goes to the disk before the first tick's duties:
    // the yield lets the storage issue its transaction, and the tick's work
    // (2-4 ms of a cold page's main thread) runs while the disk writes
    this.loop.pump()
    await Promise.resolve()
    // a failed first save may have stopped the member meanwhile (awaited below)
    if (!ctx.stopped) {
      this.ticking.start()
      this.ticking.tick()
    }
    if (firstSaved !== null) {
      try {
        await firstSaved
      } catch (err) {
        // the Ready merged with it failed too (the member stops: failStorage); a start that fails leaves nothing running
        const e = toMeshError(err, 'STORAGE')
        this.stop(e)
        throw e
      }
    }
  }

  /**
   * Leave gracefully: move leadership away, close the session (its ephemerals
   * go at once), tell the leader we leave, stay until our removal is
   * committed (bounded: our vote may be the one it needs), then stop.
   */
  async close(): Promise<void> {
    if (this.ctx.stopped) return
    if (this.ctx.running) {
      await this.leaving.handOffLeadership()
      await this.leaving.closeOwnSession((check) => {
        this.on('applied', check)
        return () => this.off('applied', check)
      })
      this.leaving.announce()
      await this.leaving.awaitRemoval()
    }
    this.stop(new MeshError('CLOSED', 'the mesh was closed'))
  }

  /** Stop at once, sending nothing more (a crash, or a fatal error). */
  stop(reason: MeshError): void {
    const ctx = this.ctx
    if (ctx.stopped) return
    // the commit index no save carried yet goes to the disk before it closes
    // (after a crash it is learnt again from the leader)
    this.loop.saveCommitIndex()
    ctx.stopped = true
    this.ticking.stop()
    if (ctx.running) ctx.links.close()
    this.sessions.failAll(reason)
    ctx.connection.close()
  }

  /** counters for tests and diagnostics */
  get stats(): { appliedIndex: number; snapshotIndex: number; snapshotsInstalled: number } {
    return { appliedIndex: this.ctx.appliedIndex, snapshotIndex: this.ctx.snapshotIndex, snapshotsInstalled: this.applier.snapshotsInstalled }
  }

  get isStopped(): boolean {
    return this.ctx.stopped
  }

  /** the cluster this member belongs to; null for a newcomer that joined none yet */
  get clusterId(): string | null {
    return this.identity.clusterId
  }

  /** diagnostics (tests, the demo): this member's links */
  get links(): LinkTable {
    return this.ctx.links
  }

  /** diagnostics (tests plant bugs in it): this tab's write pipeline */
  get requests(): RequestPipeline {
    return this.sessions.requests
  }

  // ---- what the Mesh reads ----

  get tree(): ZTree {
    return this.ctx.tree
  }

  get appliedIndex(): number {
    return this.ctx.appliedIndex
  }

  /** the highest log index this member knows to be committed */
  get commitIndex(): number {
    return this.ctx.raft.status().commit
  }

  get sessionId(): string {
    return this.sessions.own.id
  }

  /** writes submitted and not yet settled (tests: a refused call leaves none) */
  get pendingWrites(): number {
    return this.sessions.requests.size
  }

  get leader(): string | null {
    return this.ctx.lead
  }

  get isLeader(): boolean {
    return this.ctx.isLeader
  }

  get term(): number {
    return this.ctx.term
  }

  get state(): MeshState {
    return this.ctx.connection.value
  }

  get conf(): ConfState {
    return this.ctx.raft.status().conf
  }

  members(): MemberInfo[] {
    return this.roster.members()
  }

  /** what this member recorded of each entry's commit (option `timeline`); empty without it */
  commitTimeline(): CommitTimelineRecord[] {
    return this.ctx.timeline?.records() ?? []
  }

  // ---- what the Mesh calls ----

  /** A write: resolves with the tree's result once this member applied it. */
  write(ops: TxnOp[], multi: boolean): Promise<TxnResult> {
    if (this.ctx.stopped) return Promise.reject(new MeshError('CLOSED', 'the mesh is closed'))
    const tooLarge = tooLargeForOneEntry(ops)
    if (tooLarge !== null) return Promise.reject(tooLarge)
    if (this.quorum.failsFast()) return Promise.reject(noQuorum('no quorum in reach: the write was not sent'))
    const p = this.sessions.requests.write(ops, multi)
    this.loop.pump()
    return p
  }

  /** Resolves once the local tree is at least as new as the leader's commit at the call. */
  barrier(): Promise<void> {
    if (this.ctx.stopped) return Promise.reject(new MeshError('CLOSED', 'the mesh is closed'))
    // planted bug (tests only): serve "linearizable" reads from local state without ReadIndex
    if (PLANTED_BUGS && this.opts.bugs?.readWithoutReadIndex === true) return Promise.resolve()
    if (this.quorum.failsFast()) return Promise.reject(new MeshError('NO_QUORUM', 'no quorum in reach: the leader cannot confirm a read'))
    const p = this.sessions.reads.barrier()
    this.loop.pump()
    return p
  }

  /**
   * The tab became hidden or visible (the browser layer calls this on
   * `visibilitychange`). A hidden tab's timers are throttled, so a hidden
   * leader hands leadership to a visible voter.
   */
  visibilityChanged(): void {
    const ctx = this.ctx
    if (ctx.stopped || !ctx.running) return
    const visible = ctx.visible()
    const facts = this.roster.ownVisibility(visible)
    if (!visible && ctx.isLeader) void this.leaving.handOffLeadership()
    // the leader's roster tells everyone (a join from a member already in the configuration only updates its facts)
    else if (ctx.lead !== null && !ctx.isLeader) ctx.links.send(ctx.lead, { type: 'join', member: facts })
    this.roster.emitIfChanged()
  }

  /**
   * The page is about to be frozen (Page Lifecycle `freeze`): no task runs
   * until it resumes, so a leader hands leadership over now, in this turn
   * (as a hidden one does); the others would elect anyway, later.
   */
  pageFrozen(): void {
    const ctx = this.ctx
    if (ctx.stopped || !ctx.running) return
    if (ctx.isLeader) void this.leaving.handOffLeadership()
  }

  /**
   * The page runs again after a freeze: tick now rather than at the next
   * timer, so the session keepalive, a join to whoever leads now and a
   * deposed leader's step down do not wait.
   */
  pageResumed(): void {
    if (this.ctx.stopped || !this.ctx.running) return
    this.ticking.tick()
  }

  /**
   * Close other tabs' sessions at once (a death certificate: their Web Lock
   * is free, so no tab runs them); see SessionKeeper.closeOthers.
   */
  closeSessions(sessions: string[]): void {
    if (this.ctx.stopped || !this.ctx.running) return
    this.sessions.closeOthers(sessions)
  }

  /**
   * The app's explicit takeover (Mesh.forceNewCluster): we become the only
   * voter and lead. Resolves once we lead; NO_QUORUM if we could not.
   */
  async forceNewCluster(): Promise<void> {
    await forceNewCluster(this.ctx, () => this.loop.pump())
    this.quorum.update()
  }

  /**
   * Campaign now if no leader is known and we are a voter: a reopening tab
   * whose caretakers just brought the other voters' votes back (join.ts) need
   * not wait an election timeout for nothing.
   */
  campaignIfLeaderless(): void {
    const ctx = this.ctx
    if (ctx.stopped || !ctx.running || ctx.lead !== null || ctx.role !== 'follower' || !this.conf.voters.includes(ctx.id)) return
    ctx.raft.campaignKnowingLeaderless()
    this.loop.pump()
  }

  /** Leaderless (a reopening tab runs the freed voters): campaign the first time we refuse a candidate for a shorter log (RawNode.campaignIfRefusing). */
  campaignIfRefusing(): void {
    if (!this.ctx.stopped && this.ctx.running && this.ctx.lead === null) this.ctx.raft.campaignIfRefusing()
  }

  /** A death certificate (a free Web Lock): the member is gone for good. */
  reportPeerGone(peer: string): void {
    if (this.ctx.stopped || !this.ctx.running) return
    this.quorum.reportLeaderGone(peer)
    this.ctx.raft.reportPeerGone(peer, this.roster.rankAfterDeath(peer))
    this.roster.gone(peer)
    this.loop.pump()
  }

  // ---- events ----

  /** Emit to app listeners; a throwing listener never breaks the member. */
  private emitSafe<N extends keyof MemberEvents & string>(name: N, args: Parameters<MemberEvents[N]>): void {
    const listeners = this._observers.get(name)
    if (listeners === undefined) return
    for (const fn of [...listeners] as ((...a: unknown[]) => void)[]) {
      try {
        fn(...args)
      } catch (err) {
        reportAppError(err)
      }
    }
  }
}

/** A slot's load or save at start: whatever it throws is a STORAGE error. */
async function orStorageError<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (err) {
    throw toMeshError(err, 'STORAGE')
  }
}
