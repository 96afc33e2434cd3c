// One member: a RawNode (consensus), a ZTree (the replicated state), a Storage
// (its durable slot) and its links, driven by an injected Clock.
//
// The Ready loop is the heart, and its order is the contract on `Ready`:
//   1. persist hard state, entries and snapshot in ONE storage.save;
//   2. only then send the messages (invariant 2: persist before send — a vote
//      or an append acknowledgement vouches for what is on disk);
//   3. apply the snapshot and the committed entries to the tree, delivering
//      watch events and resolving local requests at each entry;
//   4. advance.
// One Ready is in flight at a time: anything that happens while a save is
// pending (messages, ticks, proposals) lands in the core and comes out in the
// next Ready. A failed save stops the member: it raises an `error` with code
// STORAGE and neither votes nor acknowledges again, rather than lie.
//
// The member reads no global clock, timer, random source or browser API:
// everything comes in through MemberOptions, so the browser layer, Node tests
// and the simulator all run this same code (invariant 7).
import { ObservableV2 } from 'lib0/observable'
import { PLANTED_BUGS, RawNode } from '../raft/index'
import type { ConfState, DurableState, Entry, Message, Ready, Role, Snapshot } from '../raft/types'
import { decodeRaftMessage, encodeRaftMessage } from '../wire/raft-codec'
import { decodeCommand, encodeCommand } from '../tree/command'
import { MAX_ENTRY_BYTES, MAX_MEMBER_SESSION_TIMEOUT_MS } from '../wire/limits'
import { ZTree } from '../tree/ztree'
import type { Command, TreeOptions, TxnOp, TxnResult } from '../tree/types'
import type { SaveBatch } from '../storage/types'
import { MeshError, toMeshError } from '../shared/errors'
import type { DivergedEvent, MemberInfo, MeshState, WhenNoQuorum } from '../shared/types'
import type { NodeMessage, RosterEntry } from '../wire/node-messages'
import { ClusterMeet, divergedTree, newClusterId } from './cluster-meet'
import { LinkTable } from './links'
import { RequestPipeline, noQuorum } from './requests'
import type { TxnCommand } from './requests'
import { ReadBarrier } from './reads'
import { LeaderSessions, OwnSession } from './sessions'
import { Housekeeping } from './housekeeping'
import { nextConfChange } from './membership'
import { ConnectionState } from './state'
import { acceptsRaftFrom, inConfiguration } from './consensus-gate'
import { ForwardBudget, oversizedData, ownsSession } from './peer-budget'
import { QuorumContact, whenNoQuorumOption } from './quorum-contact'
import { LocalWatches } from './watches'
import { RepeatingTimer } from './repeating-timer'
import type { Clock } from '../shared/clock'
import { DEFAULT_MAX_VOTERS, DEFAULT_SESSION_TIMEOUT_MS, memberTiming } from './options'
import type { MemberOptions, MemberTiming } from './options'

export interface MemberEvents {
  leader: (e: { leader: string | null; term: number }) => void
  state: (state: MeshState) => void
  members: (members: MemberInfo[]) => void
  error: (err: MeshError) => void
  diverged: (e: DivergedEvent) => void
  /** after each applied entry (index); tests and tools watch progress with it */
  applied: (index: number) => void
}

/** How leader-only duties are timed, in ticks of the member's clock. */
const ROSTER_EVERY_TICKS = 10

export class Member extends ObservableV2<MemberEvents> {
  readonly id: string
  readonly browser: string
  readonly tab: string
  readonly timing: MemberTiming
  readonly sessionTimeoutMs: number
  readonly maxVoters: number

  readonly scheduler: Clock
  private readonly opts: MemberOptions
  private storage: MemberOptions['storage']
  /** our cluster, the claims of the clusters we meet, and the rule between them */
  private readonly meet: ClusterMeet
  private diverging = false
  private raft!: RawNode
  private treeState: ZTree = new ZTree()
  private appliedIdx = 0
  private snapshotIdx = 0
  private links!: LinkTable
  private ticker: RepeatingTimer | null = null
  private readonly connection = new ConnectionState()
  /** who spoke lately: can this member reach a quorum (quorum-contact.ts) */
  private readonly quorumContact: QuorumContact
  private readonly whenNoQuorum: WhenNoQuorum
  readonly watches: LocalWatches

  private own!: OwnSession
  private requests!: RequestPipeline
  private reads!: ReadBarrier
  private readonly leaderSessions: LeaderSessions
  /** leader only: what each peer's forwards may still use (peer-budget.ts) */
  private readonly forwards = new ForwardBudget()
  private readonly housekeeping: Housekeeping

  private pumping = false
  private stopped = false
  private started = false
  /** the core exists: pump may run */
  private running = false
  private lead: string | null = null
  private role: Role = 'follower'
  private currentTerm = 0
  private leaderChanged = true
  private ticks = 0
  private lastMembershipAt = -Infinity
  private lastJoinAt = -Infinity
  private lastMembersKey = ''
  private sessionCounter = 0
  private snapshotsInstalled = 0

  /** facts about members: browser and visibility, from hellos, joins and the leader's roster */
  private readonly roster = new Map<string, RosterEntry>()
  /** members that asked to join (leader's view) */
  private readonly joiners = new Map<string, string>()
  /** members that left gracefully or were certified dead */
  private readonly departed = new Set<string>()
  private readonly lastHeard = new Map<string, number>()

  constructor(opts: MemberOptions) {
    super()
    this.opts = opts
    // planted bug (tests only): a tree that applies retries twice when asked
    if (PLANTED_BUGS && opts.bugs?.applyRetriesTwice === true) this.treeState = this.newTree()
    this.storage = opts.storage
    this.id = opts.hello.member
    this.browser = opts.hello.browser
    this.tab = opts.hello.tab
    this.scheduler = opts.scheduler
    this.watches = new LocalWatches(this.id, (err) => this.reportAppError(err))
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS
    // a leader refuses longer sessions from peers (peer-budget.ts): ours would never open
    if (this.sessionTimeoutMs > MAX_MEMBER_SESSION_TIMEOUT_MS) throw new MeshError('BAD_ARGUMENTS', `sessionTimeoutMs must be at most ${MAX_MEMBER_SESSION_TIMEOUT_MS}`)
    this.maxVoters = opts.maxVoters ?? DEFAULT_MAX_VOTERS
    this.timing = memberTiming(this.sessionTimeoutMs, opts.timing)
    this.whenNoQuorum = whenNoQuorumOption(opts.whenNoQuorum)
    this.quorumContact = new QuorumContact(this.id, { electionTicks: this.timing.electionTicks, introductionEveryTicks: ROSTER_EVERY_TICKS })
    this.leaderSessions = new LeaderSessions(this.timing.retryMs)
    this.housekeeping = new Housekeeping(this.timing.reapEveryMs)
    this.roster.set(this.id, { member: this.id, browser: this.browser, visible: this.visible() })
    this.connection.onChange((s) => this.emitSafe('state', [s]))
    this.meet = new ClusterMeet(
      {
        self: this.id,
        browser: this.browser,
        linked: (peer) => this.links?.has(peer) === true,
        conf: () => this.raft.status().conf,
        commit: () => this.raft.status().commit,
        leader: () => this.lead,
        browserOf: (m) => this.roster.get(m)?.browser,
      },
      // a claim must outlast a few election timeouts before a leader acts on it
      this.timing.tickMs * this.timing.electionTicks * 3,
    )
    this.newSession()
  }

  // ---- lifecycle ----

  /** Load the slot, start the core, listen to links, start ticking. */
  async start(): Promise<void> {
    if (this.started) throw new MeshError('BAD_ARGUMENTS', 'member already started')
    this.started = true
    let record
    try {
      record = await this.storage.load()
    } catch (err) {
      throw toMeshError(err, 'STORAGE')
    }
    let firstSave: SaveBatch | null = null
    let bootstrap: ConfState | undefined
    if (record === null) {
      if (this.opts.bootstrap === true) {
        // a new cluster; its id carries no time (the meet rule reads no clock)
        const voters = this.opts.bootstrapVoters ?? [this.id]
        this.meet.clusterId = this.opts.clusterId ?? newClusterId(this.id, this.opts.random, voters)
        bootstrap = { voters: [...voters], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
      }
      firstSave = { meta: { member: this.id, clusterId: this.meet.clusterId ?? '', createdAt: this.scheduler.now() } }
    } else {
      this.meet.clusterId = record.meta.clusterId === '' ? null : record.meta.clusterId
      if (record.durable.snapshot !== null) this.installTree(record.durable.snapshot, false)
    }
    this.raft = this.newRaft(record?.durable ?? null, bootstrap)
    if (firstSave !== null) {
      try {
        await this.storage.save(firstSave)
      } catch (err) {
        throw toMeshError(err, 'STORAGE')
      }
    }
    // the browser may close the database under us: stop before a save has to fail
    this.storage.onFailure?.((err) => this.failStorage(err))
    this.links = new LinkTable(this.id, this.opts.transport, {
      message: (peer, msg) => this.onNodeMessage(peer, msg),
      badFrame: (peer, err) => this.reportBadInput(peer, err),
      linkUp: (peer, hello) => this.onLinkUp(peer, hello),
      linkDown: (peer) => this.onLinkDown(peer),
    })
    this.links.broadcast(this.meet.claim())
    this.running = true
    this.startTicking()
    this.onTick()
  }

  private newRaft(durable: DurableState | null, bootstrap: ConfState | undefined): RawNode {
    const timing = this.timing
    const raftOpts = this.opts.raft ?? {}
    return new RawNode({
      id: this.id,
      electionTick: timing.electionTicks,
      heartbeatTick: timing.heartbeatTicks,
      random: this.opts.random,
      preVote: raftOpts.preVote ?? true,
      checkQuorum: raftOpts.checkQuorum ?? true,
      maxSizePerMsg: raftOpts.maxSizePerMsg ?? 1024 * 1024,
      maxInflightMsgs: raftOpts.maxInflightMsgs ?? 256,
      maxUncommittedEntriesSize: raftOpts.maxUncommittedEntriesSize ?? 64 * 1024 * 1024,
      maxSnapshotChunkSize: raftOpts.maxSnapshotChunkSize ?? 256 * 1024,
      durable: durable ?? { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] },
      ...(bootstrap === undefined ? {} : { bootstrap }),
      ...(raftOpts.bugs === undefined ? {} : { bugs: raftOpts.bugs }),
    })
  }

  /**
   * Leave gracefully: move leadership away, close the session (its ephemerals
   * go at once), tell the leader we leave, then stop.
   */
  async close(): Promise<void> {
    if (this.stopped) return
    if (this.running) {
      await this.handOffLeadership()
      await this.closeSession()
      // everyone hears it: whoever leads next removes us, even if leadership
      // is in flux right after the hand-off
      this.links.broadcast({ type: 'leaving', member: this.id })
    }
    this.stop(new MeshError('CLOSED', 'the mesh was closed'))
  }

  /** Stop at once, sending nothing more (a crash, or a fatal error). */
  stop(reason: MeshError): void {
    if (this.stopped) return
    this.stopped = true
    this.ticker?.stop()
    this.ticker = null
    if (this.running) this.links.close()
    this.requests.failAll(reason)
    this.reads.failAll(reason)
    this.connection.close()
  }

  /** counters for tests and diagnostics */
  get stats(): { appliedIndex: number; snapshotIndex: number; snapshotsInstalled: number } {
    return { appliedIndex: this.appliedIdx, snapshotIndex: this.snapshotIdx, snapshotsInstalled: this.snapshotsInstalled }
  }

  get isStopped(): boolean {
    return this.stopped
  }

  /** the cluster this member belongs to; null for a newcomer that joined none yet */
  get clusterId(): string | null {
    return this.meet.clusterId
  }

  // ---- what the Mesh reads ----

  get tree(): ZTree {
    return this.treeState
  }

  get appliedIndex(): number {
    return this.appliedIdx
  }

  /** the highest log index this member knows to be committed */
  get commitIndex(): number {
    return this.raft.status().commit
  }

  get sessionId(): string {
    return this.own.id
  }

  /** writes submitted and not yet settled (tests: a refused call leaves none) */
  get pendingWrites(): number {
    return this.requests.size
  }

  get leader(): string | null {
    return this.lead
  }

  get isLeader(): boolean {
    return this.lead === this.id && this.role === 'leader'
  }

  get term(): number {
    return this.currentTerm
  }

  get state(): MeshState {
    return this.connection.value
  }

  get conf(): ConfState {
    return this.raft.status().conf
  }

  members(): MemberInfo[] {
    if (!this.running) return []
    const conf = this.raft.status().conf
    const voters = new Set([...conf.voters, ...conf.votersOutgoing])
    const ids = [...new Set([...conf.voters, ...conf.votersOutgoing, ...conf.learners])].sort()
    return ids.map((id) => {
      const facts = this.roster.get(id)
      const voter = voters.has(id)
      let role: MemberInfo['role']
      if (id === this.lead) role = 'leader'
      else if (!voter) role = 'learner'
      else if (id === this.id && (this.role === 'candidate' || this.role === 'pre-candidate')) role = 'candidate'
      else role = 'follower'
      return { id, role, voter, browser: facts?.browser ?? '', visible: facts?.visible ?? true, self: id === this.id }
    })
  }

  // ---- what the Mesh calls ----

  /** A write: resolves with the tree's result once this member applied it. */
  write(ops: TxnOp[], multi: boolean): Promise<TxnResult> {
    if (this.stopped) return Promise.reject(new MeshError('CLOSED', 'the mesh is closed'))
    // A write is one log entry; followers refuse a MsgApp carrying an entry
    // over MAX_ENTRY_BYTES, so such an entry would stall replication for good.
    const oversized = oversizedData(ops)
    if (oversized !== null) return Promise.reject(oversized)
    const bytes = txnBytesUpperBound(ops)
    if (bytes > MAX_ENTRY_BYTES) {
      return Promise.reject(new MeshError('TOO_LARGE', `a write of about ${bytes} bytes exceeds the ${MAX_ENTRY_BYTES}-byte entry limit`))
    }
    if (this.failsFast()) return Promise.reject(noQuorum('no quorum in reach: the write was not sent'))
    const p = this.requests.write(ops, multi)
    this.pump()
    return p
  }

  /** Resolves once the local tree is at least as new as the leader's commit at the call. */
  barrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new MeshError('CLOSED', 'the mesh is closed'))
    // planted bug (tests only): serve "linearizable" reads from local state without ReadIndex
    if (PLANTED_BUGS && this.opts.bugs?.readWithoutReadIndex === true) return Promise.resolve()
    if (this.failsFast()) return Promise.reject(new MeshError('NO_QUORUM', 'no quorum in reach: the leader cannot confirm a read'))
    const p = this.reads.barrier()
    this.pump()
    return p
  }

  /**
   * The tab became hidden or visible (the browser layer calls this on
   * `visibilitychange`). A hidden tab's timers are throttled, so a hidden
   * leader hands leadership to a visible voter.
   */
  visibilityChanged(): void {
    if (this.stopped || !this.running) return
    const visible = this.visible()
    const facts = { member: this.id, browser: this.browser, visible }
    this.roster.set(this.id, facts)
    if (!visible && this.isLeader) void this.handOffLeadership()
    // the leader's roster tells everyone (a join from a member already in the configuration only updates its facts)
    else if (this.lead !== null && !this.isLeader) this.links.send(this.lead, { type: 'join', member: facts })
    this.emitMembersIfChanged()
  }

  /**
   * Close other tabs' sessions at once (a death certificate: their Web Lock
   * is free, so no tab runs them). Their ephemerals go in the same entry.
   * Resent until the sessions are gone from the tree, for at most the
   * request timeout; if that fails the leader expires them anyway.
   */
  closeSessions(sessions: string[]): void {
    if (this.stopped || !this.running) return
    const pending = new Set(sessions.filter((s) => s !== this.own.id))
    const deadline = this.scheduler.now() + this.timing.requestTimeoutMs
    const round = (): void => {
      if (this.stopped) return
      for (const s of [...pending]) if (this.treeState.session(s) === null) pending.delete(s)
      if (pending.size === 0 || this.scheduler.now() >= deadline) return
      for (const s of pending) this.submitCommand({ type: 'close-session', session: s, time: 0 })
      this.scheduler.setTimeout(round, this.timing.retryMs)
    }
    round()
  }

  /** A death certificate (a free Web Lock): the member is gone for good. */
  reportPeerGone(peer: string): void {
    if (this.stopped || !this.running) return
    this.departed.add(peer)
    this.raft.reportPeerGone(peer)
    this.pump()
  }


  // ---- the tick ----

  /** Tick every tickMs. A tick that throws is reported as an `error` event and
   *  the next tick still comes (a member that stops ticking loses its session). */
  private startTicking(): void {
    this.ticker = new RepeatingTimer(this.scheduler, this.timing.tickMs, () => this.onTick(), (err) => {
      this.emitSafe('error', [toMeshError(err.cause, 'BAD_MESSAGE')])
    })
  }

  private onTick(): void {
    if (this.stopped) return
    this.ticks++
    this.quorumContact.tick()
    this.raft.tick()
    this.pump()
    const now = this.scheduler.now()
    const leaderChanged = this.leaderChanged
    this.leaderChanged = false
    this.requests.flush(leaderChanged)
    this.reads.tick()
    this.own.tick(leaderChanged)
    if (this.ticks % ROSTER_EVERY_TICKS === 0) this.links.broadcast(this.meet.claim())
    this.evaluateMeet(now)
    if (this.stopped || !this.running) return
    if (this.isLeader) this.leaderDuties(now)
    else {
      this.askToJoin(now)
      // a new leader learns our facts (browser, visibility) from us
      if (leaderChanged && this.lead !== null) this.links.send(this.lead, { type: 'join', member: this.roster.get(this.id)! })
    }
    this.updateConnection()
    this.emitMembersIfChanged()
    this.pump()
  }

  private leaderDuties(now: number): void {
    this.leaderSessions.touch([this.own.id], now)
    const expire = this.leaderSessions.due(this.treeState, now)
    if (expire !== null) this.proposeCommand(expire)
    const reap = this.housekeeping.due(this.treeState, now)
    if (reap !== null) this.proposeCommand(reap)
    if (now - this.lastMembershipAt >= this.timing.membershipEveryMs) {
      this.lastMembershipAt = now
      this.adjustMembership(now)
    }
    if (this.ticks % ROSTER_EVERY_TICKS === 0) this.links.broadcast({ type: 'roster', members: [...this.roster.values()] })
  }

  private adjustMembership(now: number): void {
    const st = this.raft.status()
    const change = nextConfChange(
      {
        self: this.id,
        conf: st.conf,
        progress: st.progress,
        commit: st.commit,
        now,
        joiners: this.joiners,
        browserOf: (id) => this.roster.get(id)?.browser,
        lastHeard: (id) => this.lastHeard.get(id),
        departed: this.departed,
      },
      { maxVoters: this.maxVoters, failureTimeoutMs: this.timing.failureTimeoutMs, catchUpLag: this.timing.catchUpLag },
    )
    if (change === null) return
    try {
      this.raft.proposeConfChange(change)
    } catch {
      // a change is pending or leadership moved: the next round decides again
    }
  }

  /** A member outside the configuration (or without a leader) keeps asking every peer to let it in. */
  private askToJoin(now: number): void {
    const conf = this.raft.status().conf
    const inConf = conf.voters.includes(this.id) || conf.learners.includes(this.id) || conf.votersOutgoing.includes(this.id)
    // a member that hears no leader may have been removed while it was away
    // (its own view of the configuration is stale): it asks too — a learner,
    // which never campaigns, may follow a leader long deposed
    if ((inConf && this.quorumContact.leaderInTouch(this.lead)) || now - this.lastJoinAt < this.timing.joinEveryMs) return
    this.lastJoinAt = now
    // ask only the cluster we mean to join: the winner among those we met
    const target = this.meet.clusterId ?? this.meet.best()
    const msg: NodeMessage = { type: 'join', member: { member: this.id, browser: this.browser, visible: this.visible() } }
    for (const peer of this.links.peers()) {
      const theirs = this.meet.clusterOf(peer)
      if (theirs !== undefined && theirs !== '' && theirs === target) this.links.send(peer, msg)
    }
  }

  // ---- the Ready loop ----

  /** Drain the core. Re-entrant calls return at once: one Ready in flight. */
  private pump(): void {
    if (this.pumping || this.stopped || !this.running || this.diverging) return
    this.pumping = true
    void this.drain()
      .catch((err: unknown) => {
        // a bug below us (core, tree): stop rather than run on in a state
        // nobody can vouch for (fail-stop), and say why
        const e = err instanceof MeshError ? err : new MeshError('BAD_MESSAGE', `member stopped: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
        this.emitSafe('error', [e])
        this.stop(e)
      })
      .finally(() => {
        this.pumping = false
        // something may have stepped or proposed after the loop's last look
        if (!this.stopped && this.running && !this.diverging && this.raft.hasReady()) this.pump()
      })
  }

  private async drain(): Promise<void> {
    const raft = this.raft
    while (!this.stopped && this.running && this.raft === raft && raft.hasReady()) {
      const rd = raft.ready()
      const batch = toSaveBatch(rd)
      if (batch !== null) {
        try {
          await this.storage.save(batch)
        } catch (err) {
          // a slot wiped by a divergence takes this Ready with it
          if (this.raft === raft && !this.diverging) this.failStorage(err)
          return
        }
        if (this.stopped || this.raft !== raft || !this.running) return
      }
      for (const m of rd.messages) this.sendRaft(m)
      if (rd.softState !== null) this.onSoftState(rd.softState.lead, rd.softState.role)
      if (rd.snapshot !== null) this.installTree(rd.snapshot, true)
      for (const e of rd.committedEntries) this.applyEntry(e)
      this.raft.advance(rd)
      this.reads.onReadStates(rd.readStates)
      this.reads.onApplied()
      const term = this.raft.status().term
      if (term !== this.currentTerm) {
        this.currentTerm = term
        this.emitSafe('leader', [{ leader: this.lead, term }])
      }
      await this.maybeCompact()
    }
  }

  private async maybeCompact(): Promise<void> {
    if (this.stopped || this.appliedIdx - this.snapshotIdx < this.timing.snapshotEntries) return
    const snap = this.raft.compact(this.appliedIdx, this.treeState.snapshot())
    this.snapshotIdx = snap.meta.index
    try {
      await this.storage.save({ snapshot: snap })
    } catch (err) {
      this.failStorage(err)
    }
  }

  private failStorage(err: unknown): void {
    if (this.stopped) return
    const e = toMeshError(err, 'STORAGE')
    const storageErr = e.code === 'STORAGE' ? e : new MeshError('STORAGE', e.message, { cause: err })
    this.emitSafe('error', [storageErr])
    this.stop(storageErr)
  }

  private onSoftState(lead: string | null, role: Role): void {
    const wasLeader = this.isLeader
    const changed = lead !== this.lead
    this.lead = lead
    this.role = role
    if (changed) {
      this.leaderChanged = true
      this.emitSafe('leader', [{ leader: lead, term: this.raft.status().term }])
      this.currentTerm = this.raft.status().term
    }
    if (this.isLeader && !wasLeader) this.becameLeader()
    this.updateConnection()
  }

  private becameLeader(): void {
    const now = this.scheduler.now()
    this.leaderSessions.takeOver(this.treeState, now)
    // everyone gets a full failure timeout from now: we cannot know when the
    // previous leader last heard from them
    for (const id of this.members().map((m) => m.id)) this.lastHeard.set(id, Math.max(this.lastHeard.get(id) ?? now, now))
    this.lastMembershipAt = now
  }

  private sendRaft(m: Message): void {
    if (m.to === this.id) return
    if (!this.links.send(m.to, { type: 'raft', bytes: encodeRaftMessage(m) }) && this.isLeader) this.raft.reportUnreachable(m.to)
  }

  // ---- apply ----

  private applyEntry(e: Entry): void {
    this.appliedIdx = e.index
    if (e.type === 'conf') {
      this.adoptCluster()
      this.emitMembersIfChanged()
      this.emitSafe('applied', [e.index])
      return
    }
    if (e.data.length === 0) {
      this.emitSafe('applied', [e.index])
      return
    }
    let cmd: Command
    try {
      cmd = decodeCommand(e.data)
    } catch (err) {
      // every replica fails to decode the same committed bytes and skips them
      this.emitSafe('error', [toMeshError(err, 'BAD_MESSAGE')])
      this.emitSafe('applied', [e.index])
      return
    }
    const outcome = this.treeState.apply(e.index, cmd)
    // watch callbacks run now, before any later read can see this state
    this.watches.deliver(outcome.events)
    this.afterCommand(cmd, outcome.result)
    this.emitSafe('applied', [e.index])
  }

  private afterCommand(cmd: Command, result: TxnResult): void {
    const now = this.scheduler.now()
    switch (cmd.type) {
      case 'txn':
        this.requests.applied(cmd as TxnCommand, result)
        break
      case 'open-session':
        if (this.isLeader) this.leaderSessions.opened(cmd.session, now)
        if (cmd.session === this.own.id && !this.own.open && this.treeState.session(cmd.session) !== null) {
          this.own.open = true
          this.requests.setSessionReady(true)
          this.updateConnection()
        }
        break
      case 'close-session':
        this.leaderSessions.gone([cmd.session])
        break
      case 'expire-sessions':
        this.leaderSessions.gone(cmd.sessions)
        if (cmd.sessions.includes(this.own.id) && this.own.open) this.sessionLost()
        break
      default:
        break
    }
  }

  /** tree options every replica shares; only planted bugs (tests only) for now */
  private treeOptions(): TreeOptions {
    return PLANTED_BUGS && this.opts.bugs?.applyRetriesTwice === true ? { bugs: { applyRetriesTwice: true } } : {}
  }

  private newTree(): ZTree {
    return new ZTree(this.treeOptions())
  }

  private installTree(snapshot: Snapshot, live: boolean): void {
    const restored = ZTree.restore(snapshot.data, this.treeOptions())
    const before = this.treeState
    this.treeState = restored
    this.appliedIdx = snapshot.meta.index
    this.snapshotIdx = snapshot.meta.index
    if (!live) return
    this.snapshotsInstalled++
    // fire what changed between our last state and the snapshot (ZooKeeper's setWatches)
    this.watches.resync(before, restored)
    if (this.own.open && restored.session(this.own.id) === null) this.sessionLost()
    else if (!this.own.open && restored.session(this.own.id) !== null) {
      this.own.open = true
      this.requests.setSessionReady(true)
    }
  }

  // ---- sessions ----

  private newSession(): void {
    // a per-tab session id: member id, tab id, a counter and randomness
    // (a reloaded tab must never reuse a predecessor's session). The format
    // `${member}.${tab}.${n}.${random}` is relied on: the browser layer finds
    // the sessions of a dead member by the `${member}.` prefix.
    const rand = Math.floor(this.opts.random() * 0x7fffffff).toString(36)
    const id = `${this.id}.${this.tab}.${++this.sessionCounter}.${rand}`.slice(0, 120)
    const route = {
      now: () => this.scheduler.now(),
      submit: (cmd: Command) => this.submitCommand(cmd),
      heartbeat: (sessions: string[]) => this.sendSessionHeartbeat(sessions),
      hasLeader: () => this.lead !== null,
    }
    this.own = new OwnSession(id, this.sessionTimeoutMs, route, { retryMs: this.timing.retryMs, heartbeatMs: this.timing.sessionHeartbeatMs })
    if (this.requests === undefined) {
      this.requests = new RequestPipeline(route, { retryMs: this.timing.retryMs, timeoutMs: this.timing.requestTimeoutMs }, id)
      this.reads = new ReadBarrier(
        {
          now: () => this.scheduler.now(),
          requestReadIndex: (ctx) => this.requestReadIndex(ctx),
          appliedIndex: () => this.appliedIdx,
          hasLeader: () => this.lead !== null,
        },
        { retryMs: this.timing.retryMs, timeoutMs: this.timing.requestTimeoutMs },
        id,
      )
    } else {
      this.requests.replaceSession(id)
    }
  }

  /** The leader expired our session: ephemerals are gone. Report `lost`, start a fresh session. */
  private sessionLost(): void {
    this.connection.lost()
    this.newSession()
    this.leaderChanged = true
  }

  private sendSessionHeartbeat(sessions: string[]): boolean {
    if (this.lead === null) return false
    if (this.isLeader) {
      this.leaderSessions.touch(sessions, this.scheduler.now())
      return true
    }
    return this.links.send(this.lead, { type: 'session-heartbeat', sessions })
  }

  private async closeSession(): Promise<void> {
    if (!this.own.open) return
    const session = this.own.id
    // a closing tab has little time (pagehide); if the close does not commit
    // soon the leader expires the session after its timeout anyway
    const deadline = this.scheduler.now() + Math.min(this.timing.requestTimeoutMs, this.timing.tickMs * this.timing.electionTicks * 3)
    await new Promise<void>((resolve) => {
      let timer: unknown = null
      const done = (): void => {
        this.off('applied', check)
        if (timer !== null) this.scheduler.clearTimeout(timer)
        resolve()
      }
      const check = (): void => {
        if (this.stopped || this.treeState.session(session) === null || this.scheduler.now() >= deadline) done()
      }
      const resend = (): void => {
        timer = null
        check()
        if (this.stopped || this.treeState.session(session) === null || this.scheduler.now() >= deadline) return done()
        this.own.requestClose()
        this.pump()
        timer = this.scheduler.setTimeout(resend, this.timing.retryMs)
      }
      this.on('applied', check)
      resend()
    })
  }

  private async handOffLeadership(): Promise<void> {
    if (!this.isLeader) return
    const conf = this.raft.status().conf
    // never hand over to a member that announced it is leaving (two tabs closing together)
    const target = this.members().find((m) => m.voter && !m.self && m.visible && !this.departed.has(m.id) && conf.voters.includes(m.id) && this.links.has(m.id))
    if (target === undefined) return
    try {
      this.raft.transferLeadership(target.id)
    } catch {
      return
    }
    this.pump()
    const deadline = this.scheduler.now() + this.timing.tickMs * this.timing.electionTicks * 2
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (this.stopped || !this.isLeader || this.scheduler.now() >= deadline) resolve()
        else this.scheduler.setTimeout(poll, this.timing.tickMs)
      }
      poll()
    })
  }

  // ---- routing commands to the leader ----

  /** Propose locally when leading, else forward to the leader. */
  private submitCommand(cmd: Command): boolean {
    if (this.stopped || this.lead === null) return false
    if (this.isLeader) return this.proposeCommand(cmd)
    return this.links.send(this.lead, { type: 'forward', command: encodeCommand(cmd) })
  }

  /** Leader only: stamp the leader's time and propose. */
  private proposeCommand(cmd: Command): boolean {
    try {
      const entry = encodeCommand({ ...cmd, time: this.scheduler.now() })
      // never let an entry into the log that followers would refuse (a peer's forward can be that large)
      if (entry.length > MAX_ENTRY_BYTES) return false
      this.raft.propose(entry)
    } catch {
      return false
    }
    this.pump()
    return true
  }

  private requestReadIndex(ctx: Uint8Array): boolean {
    if (this.stopped || this.lead === null) return false
    try {
      this.raft.readIndex(ctx)
    } catch {
      return false
    }
    this.pump()
    return true
  }

  // ---- incoming ----

  private onNodeMessage(peer: string, msg: NodeMessage): void {
    if (this.stopped || !this.running) return
    const now = this.scheduler.now()
    this.lastHeard.set(peer, now)
    this.quorumContact.heard(peer)
    switch (msg.type) {
      case 'raft': {
        let m: Message
        try {
          m = decodeRaftMessage(msg.bytes)
        } catch (err) {
          this.reportBadInput(peer, err)
          return
        }
        // only members of our cluster (or newcomers) take part in our consensus
        if (!this.acceptsRaftFrom(peer)) return
        // a peer speaks only for itself, and only to us
        if (m.from !== peer || m.to !== this.id) {
          this.reportBadInput(peer, new MeshError('BAD_MESSAGE', `raft message from ${m.from} to ${m.to} on the link of ${peer}`))
          return
        }
        this.quorumContact.heardRaft(peer, m)
        this.raft.step(m)
        this.pump()
        return
      }
      case 'forward': {
        if (!this.isLeader) return // the requester resends to the leader it learns of
        let cmd: Command
        try {
          cmd = decodeCommand(msg.command)
        } catch (err) {
          this.reportBadInput(peer, err)
          return
        }
        // only client commands, only for the peer's own sessions, within its budget (peer-budget.ts)
        const verdict = this.forwards.admit(peer, cmd, msg.command.length, this.appliedIdx, this.treeState, (x, y) => this.mayCloseSessionsOf(x, y))
        if (verdict instanceof MeshError) this.reportBadInput(peer, verdict)
        else if (verdict === null && this.proposeCommand(cmd)) this.forwards.record(peer, this.raft.status().lastIndex, msg.command.length, cmd)
        return
      }
      case 'session-heartbeat': {
        if (!this.isLeader) return
        // a session is kept alive only by the member that owns it (its id is public in ephemeralOwner)
        const foreign = msg.sessions.find((s) => !ownsSession(peer, s))
        if (foreign !== undefined) this.reportBadInput(peer, new MeshError('BAD_MESSAGE', `${peer} sent a heartbeat for another member's session (${foreign})`))
        else this.leaderSessions.touch(msg.sessions, now)
        return
      }
      case 'join':
        if (msg.member.member !== peer) return
        this.roster.set(peer, msg.member)
        this.departed.delete(peer)
        this.joiners.set(peer, msg.member.browser)
        return
      case 'leaving':
        if (msg.member !== peer) return
        this.departed.add(peer)
        this.joiners.delete(peer)
        return
      case 'cluster': {
        // a claim is evidence for the meet rule, weighed on our ticks; only
        // our own leader's decision to yield is followed at once
        if (this.meet.heard(peer, msg)) this.links.send(peer, this.meet.claim())
        const winner = this.meet.yieldOrder(peer, this.lead, msg)
        if (winner !== null) void this.diverge(winner)
        return
      }
      case 'roster':
        if (peer !== this.lead) return
        for (const entry of msg.members) if (entry.member !== this.id) this.roster.set(entry.member, entry)
        this.emitMembersIfChanged()
        return
    }
  }

  private onLinkUp(peer: string, hello: { member: string; browser: string }): void {
    this.lastHeard.set(peer, this.scheduler.now())
    if (hello.browser !== '' && hello.member === peer && !this.roster.has(peer)) {
      this.roster.set(peer, { member: peer, browser: hello.browser, visible: true })
    }
    // introduce our cluster first: the link is ordered, so the peer knows it
    // before any raft message of ours arrives (links open at start are
    // introduced right after the table exists)
    if (this.links !== undefined) this.links.send(peer, this.meet.claim())
    // a newcomer asks at once rather than at its next join round
    this.lastJoinAt = -Infinity
  }

  /**
   * May `peer` close `owner`'s sessions (a death certificate)? When both run
   * in one browser (the same non-empty browser id, as they announced it), or
   * when we have no link to `owner`: we hear no heartbeat from it, so its
   * sessions would expire anyway; closing them only comes early.
   */
  private mayCloseSessionsOf(peer: string, owner: string): boolean {
    if (!this.links.has(owner)) return true
    const browser = this.roster.get(peer)?.browser
    return browser !== undefined && browser !== '' && browser === this.roster.get(owner)?.browser
  }

  /** May a raft message from `peer` reach our core? (consensus-gate.ts; it runs
   *  on every raft message, so the meet's weighing is asked for only when needed) */
  private acceptsRaftFrom(peer: string): boolean {
    const conf = this.raft.status().conf
    return acceptsRaftFrom(peer, {
      self: this.id,
      conf,
      clusterId: this.meet.clusterId,
      peerCluster: this.meet.clusterOf(peer),
      joining: () => this.meet.best(),
      vouched: () => this.meet.leaderVouchedFor(peer, (q) => inConfiguration(conf, q)),
    })
  }

  /** The meet rule, on every tick: a leader whose cluster stayed lighter than
   *  another yields for its cluster (followers follow it); see cluster-meet.ts. */
  private evaluateMeet(now: number): void {
    if (this.diverging) return
    const winner = this.meet.evaluate(now, { leading: this.isLeader, leaderless: this.lead === null })
    if (winner === null) return
    this.meet.yieldTo(winner)
    // the followers hear the decision before our claim turns newcomer's
    this.links.broadcast(this.meet.claim())
    void this.diverge(winner)
  }

  /** A newcomer that applied its first configuration belongs to the cluster that added it. */
  private adoptCluster(): void {
    if (this.meet.clusterId !== null) return
    const conf = this.raft.status().conf
    if (!conf.voters.includes(this.id) && !conf.learners.includes(this.id)) return
    const cluster = (this.lead !== null ? this.meet.clusterOf(this.lead) : undefined) || this.meet.best()
    if (cluster === null || cluster === undefined || cluster === '') return
    this.meet.clusterId = cluster
    this.storage.save({ meta: { member: this.id, clusterId: cluster, createdAt: this.scheduler.now() } }).catch((err: unknown) => this.failStorage(err))
    this.links.broadcast(this.meet.claim())
  }

  /**
   * Our cluster lost a meet (cluster-meet.ts). The app gets our tree as it
   * was, readable (`diverged`), the slot is wiped, and this member starts over as
   * a newcomer of the winner (learner first, promoted by its policy). Writes
   * and reads in flight fail with SESSION_EXPIRED: their session is gone.
   */
  private async diverge(winner: string): Promise<void> {
    if (this.diverging || this.stopped) return
    this.diverging = true
    this.running = false
    this.ticker?.stop()
    this.ticker = null
    this.emitSafe('diverged', [divergedTree(this.treeState, this.meet.clusterId ?? '', winner)])
    this.connection.lost()
    try {
      if (this.opts.reopenStorage === undefined) throw new MeshError('STORAGE', 'this cluster lost to an older one and the member cannot reopen its slot to start over')
      await this.storage.destroy()
      this.storage = await this.opts.reopenStorage()
      this.storage.onFailure?.((err) => this.failStorage(err))
      await this.storage.save({ meta: { member: this.id, clusterId: '', createdAt: this.scheduler.now() } })
    } catch (err) {
      this.diverging = false
      this.failStorage(err)
      return
    }
    if (this.stopped) return
    this.meet.reset()
    this.raft = this.newRaft(null, undefined)
    this.treeState = this.newTree()
    this.appliedIdx = 0
    this.snapshotIdx = 0
    this.lead = null
    this.role = 'follower'
    this.currentTerm = 0
    this.joiners.clear()
    this.departed.clear()
    this.reads.failAll(new MeshError('SESSION_EXPIRED', 'the cluster diverged; its state is gone'))
    this.newSession()
    this.leaderChanged = true
    this.lastJoinAt = -Infinity
    this.diverging = false
    this.running = true
    this.links.broadcast(this.meet.claim())
    this.startTicking()
    this.onTick()
  }

  private onLinkDown(peer: string): void {
    if (this.isLeader) this.raft.reportUnreachable(peer)
    this.pump()
  }

  // ---- events ----

  private updateConnection(): void {
    const conf = this.running ? this.raft.status().conf : null
    const inConf = conf !== null && (conf.voters.includes(this.id) || conf.learners.includes(this.id) || conf.votersOutgoing.includes(this.id))
    const quorum = conf !== null && this.quorumContact.reachable(this.lead, conf)
    this.connection.update(quorum && inConf && this.own.open, this.scheduler.now(), this.sessionTimeoutMs, quorum)
    if (this.failsFast()) {
      this.requests.failWithoutQuorum()
      this.reads.failAll(new MeshError('NO_QUORUM', 'the quorum was lost: the leader cannot confirm a read'))
    }
  }

  /** no quorum in reach and writes fail fast rather than wait (WhenNoQuorum) */
  private failsFast(): boolean {
    return this.whenNoQuorum === 'fail' && this.connection.withoutQuorum
  }

  private emitMembersIfChanged(): void {
    const members = this.members()
    const key = JSON.stringify(members)
    if (key === this.lastMembersKey) return
    this.lastMembersKey = key
    this.emitSafe('members', [members])
  }

  /** A peer sent what we do not accept: the message is dropped (it changed
   *  nothing), the app hears BAD_MESSAGE, and the transport drops the peer's
   *  link and refuses it for a while — a peer that sends one malformed message
   *  is broken or hostile, and would send the next. */
  private reportBadInput(peer: string, err: unknown): void {
    const e = toMeshError(err, 'BAD_MESSAGE')
    this.emitSafe('error', [e.code === 'BAD_MESSAGE' ? e : new MeshError('BAD_MESSAGE', `from ${peer}: ${e.message}`, { cause: err })])
    this.opts.transport.refuse?.(peer, e.message)
  }

  private reportAppError(err: unknown): void {
    // an app callback threw: surface it without breaking the apply loop
    queueMicrotask(() => {
      throw err
    })
  }

  /** Emit to app listeners; a throwing listener never breaks the member. */
  private emitSafe<N extends keyof MemberEvents & string>(name: N, args: Parameters<MemberEvents[N]>): void {
    const listeners = this._observers.get(name)
    if (listeners === undefined) return
    for (const fn of [...listeners] as Array<(...a: unknown[]) => void>) {
      try {
        fn(...args)
      } catch (err) {
        this.reportAppError(err)
      }
    }
  }

  private visible(): boolean {
    return this.opts.visible?.() ?? true
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

/** A bound on a txn command's encoded size (paths at up to 3 UTF-8 bytes per
 *  UTF-16 unit, plus per-op and per-command framing), so an oversized write is
 *  refused before it is encoded. */
function txnBytesUpperBound(ops: TxnOp[]): number {
  let bytes = 1024
  for (const op of ops) {
    bytes += 32 + op.path.length * 3
    if (op.op === 'create' || op.op === 'set') bytes += op.data.length
  }
  return bytes
}
