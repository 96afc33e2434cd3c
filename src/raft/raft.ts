// The Raft state machine (after etcd raft's raft.go). Pure and synchronous:
// input is a tick, a message or a local call; output is appended to `msgs`,
// `readStates` and the log, which RawNode hands to the driver as a Ready.
//
// Roles differ by the step and tick they run (stepLeader / stepCandidate /
// stepFollower, tickHeartbeat / tickElection), not by subclass.
//
// Beside it, each with one job: conf-replay.ts (which conf entries are in
// effect), read-index.ts (the leader's ReadIndex bookkeeping) and
// snapshot-receipt.ts (a follower assembling a chunked snapshot).
import { allVoters, applyConfChange, cloneConfState, emptyConfState, encodeConfChange, isJoint } from './confchange'
import { ConfReplay, confAfter, confAt } from './conf-replay'
import { RaftError } from './errors'
import { RaftLog } from './log'
import { PLANTED_BUGS } from './planted-bugs'
import { LeaderReads } from './read-index'
import { SnapshotReceipt } from './snapshot-receipt'
import { Progress, ProgressTracker } from './tracker'
import type {
  ConfChange,
  ConfState,
  Entry,
  Message,
  MessageType,
  NodeId,
  PlantedBugs,
  RaftConfig,
  ReadState,
  Role,
  Snapshot,
} from './types'
import { MAX_RAFT_NUMBER, MAX_TERM_JUMP, isCount, newMessage } from './types'

type RaftRole = Exclude<Role, 'learner'>
type CampaignKind = 'pre' | 'election' | 'transfer'

/** Context of a vote request forced by a leadership transfer (bypasses leases). */
const TRANSFER_CONTEXT = new Uint8Array([0x74]) // 't'
/** Snapshot chunks one follower may be sent per election timeout, unless
 *  RaftConfig.maxSnapshotBytesPerWindow says otherwise. */
const SNAPSHOT_CHUNKS_PER_WINDOW = 32
/** The longest back-off after refused snapshots, in election timeouts. */
const MAX_SNAPSHOT_BACKOFF_WINDOWS = 4

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

const RESPONSES: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgAppResp',
  'MsgVoteResp',
  'MsgPreVoteResp',
  'MsgHeartbeatResp',
  'MsgSnapResp',
])

export class Raft {
  readonly id: NodeId
  term = 0
  vote: NodeId | null = null
  lead: NodeId | null = null
  role: RaftRole = 'follower'
  readonly log: RaftLog
  readonly trk: ProgressTracker
  msgs: Message[] = []
  readStates: ReadState[] = []

  electionElapsed = 0
  heartbeatElapsed = 0
  randomizedElectionTimeout = 0
  leadTransferee: NodeId | null = null
  /** a leader of our term or later sent entries that contradict our committed
   *  log (only a forced cluster can: forceSoleVoter); the driver diverges */
  committedConflictFrom: NodeId | null = null
  /** our dead leader's successor was left to another survivor: campaign if we must refuse it (reportPeerGone) */
  private campaignIfRefused = false
  /** campaign once more when a voter answers our campaign with a newer term (campaignKnowingLeaderless) */
  private campaignAgainIfStale = false
  /** the leader a death certificate took from us (reportPeerGone), in its
   *  term, for one election timeout of ticks (a certificate is the driver's
   *  word: should the leader be alive after all, we follow it again) */
  private goneLeader: GoneLeader = NO_GONE_LEADER
  /** index of the latest conf entry the leader appended; one change at a time */
  pendingConfIndex = 0
  /** bytes of this leader's entries that are not committed yet */
  uncommittedSize = 0
  /** which conf entries are reflected in trk.conf */
  private readonly confReplay: ConfReplay

  private bcastPending = false
  private readonly reads: LeaderReads
  private readonly snapshotReceipt = new SnapshotReceipt()

  private readonly cfg: RaftConfig
  private readonly bugs: PlantedBugs

  constructor(cfg: RaftConfig) {
    if (cfg.heartbeatTick <= 0 || cfg.electionTick <= cfg.heartbeatTick) {
      throw new RaftError('BAD_CONFIG', 'need 0 < heartbeatTick < electionTick')
    }
    if (cfg.maxInflightMsgs <= 0 || cfg.maxSizePerMsg <= 0 || cfg.maxSnapshotChunkSize <= 0) {
      throw new RaftError('BAD_CONFIG', 'maxInflightMsgs, maxSizePerMsg and maxSnapshotChunkSize must be positive')
    }
    if (cfg.maxSnapshotBytesPerWindow !== undefined && !(cfg.maxSnapshotBytesPerWindow > 0)) {
      throw new RaftError('BAD_CONFIG', 'maxSnapshotBytesPerWindow must be positive')
    }
    this.cfg = cfg
    this.id = cfg.id
    this.reads = new LeaderReads({
      id: this.id,
      isSingleton: () => this.trk.isSingleton(),
      commitIndex: () => this.log.committed,
      committedInTerm: () => this.log.term(this.log.committed) === this.term,
      quorumAcked: (acks) => this.trk.voteResult(acks) === 'won',
      answer: (index, context, from) => this.respondRead(index, context, from),
      heartbeat: (context) => this.bcastHeartbeat(context),
    })
    this.bugs = cfg.bugs ?? {}
    const d = cfg.durable
    const isNew = d.hardState.term === 0 && d.snapshot === null && d.entries.length === 0
    this.log = new RaftLog(d.snapshot, d.entries, d.hardState.commit)
    this.term = d.hardState.term
    this.vote = d.hardState.vote
    this.trk = new ProgressTracker(d.snapshot === null ? emptyConfState() : cloneConfState(d.snapshot.meta.conf), cfg.maxInflightMsgs)
    this.trk.ignoreJoint = PLANTED_BUGS && this.bugs.confChangeTooEarly === true
    this.confReplay = new ConfReplay(this.log.snapshotIndex)
    if (isNew && cfg.bootstrap !== undefined) this.bootstrap(cfg.bootstrap)
    // the configuration as of the commit index: replay committed conf entries
    for (const e of this.confReplay.takeUpTo(this.log, this.log.committed)) this.applyConfEntry(e)
    this.trk.setConf(this.trk.conf, this.log.lastIndex() + 1)
    this.becomeFollower(this.term, null)
  }

  /**
   * A brand-new cluster: its configuration becomes committed conf entries at
   * the start of the log (term 1), one single change each, so that members
   * catching up from index 1 learn the configuration like any other change.
   */
  private bootstrap(conf: ConfState): void {
    const changes: ConfChange[] = [
      ...conf.voters.map((node): ConfChange => ({ changes: [{ type: 'addVoter', node }], transition: 'auto' })),
      ...conf.learners.map((node): ConfChange => ({ changes: [{ type: 'addLearner', node }], transition: 'auto' })),
    ]
    if (changes.length === 0) throw new RaftError('BAD_CONFIG', 'bootstrap needs at least one voter')
    const ents = changes.map((cc, i): Entry => ({ term: 1, index: i + 1, type: 'conf', data: encodeConfChange(cc) }))
    this.log.append(ents)
    this.log.stableIndex = 0
    this.log.inProgressIndex = 0
    this.log.committed = ents.length
    this.term = 1
  }

  // ---- derived state --------------------------------------------------------

  get conf(): ConfState {
    return this.trk.conf
  }

  /** The role as the driver sees it: a follower that is a learner says so. */
  visibleRole(): Role {
    if (this.role === 'follower') {
      const c = this.trk.conf
      if (c.learners.includes(this.id) || c.learnersNext.includes(this.id)) return 'learner'
    }
    return this.role
  }

  /** May this member campaign? (a voter, not in the middle of a snapshot) */
  promotable(): boolean {
    return this.trk.progress.has(this.id) && this.trk.isVoter(this.id) && this.log.pendingSnapshot === null
  }

  // ---- sending ----------------------------------------------------------------

  private send(type: MessageType, to: NodeId, term: number, fields: Partial<Message> = {}): void {
    this.msgs.push(newMessage(type, this.id, to, term, fields))
  }

  /** Send a MsgApp to `to` if it is not paused; with entries, or empty when `sendIfEmpty`. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to)
    if (pr === undefined || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    const prevTerm = this.log.term(prevIndex)
    if (prevTerm === undefined) {
      if (prevIndex > this.log.lastIndex()) {
        // a stale optimistic next: fall back to probing from the match
        pr.becomeProbe()
        return false
      }
      return this.sendSnapshot(to, pr)
    }
    const ents = this.log.slice(pr.next, this.log.lastIndex() + 1, this.cfg.maxSizePerMsg)
    if (ents.length === 0 && !sendIfEmpty) return false
    this.send('MsgApp', to, this.term, { index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed })
    pr.sentEntries(ents.length, ents.length === 0 ? prevIndex : ents[ents.length - 1]!.index)
    return true
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true)
  }

  private bcastAppend(): void {
    this.bcastPending = false
    for (const id of this.trk.progress.keys()) {
      if (id === this.id) continue
      // in replicate state, pipeline as far as the inflight window allows
      if (this.maybeSendAppend(id, true)) while (this.maybeSendAppend(id, false));
    }
  }

  /**
   * Broadcast new entries or a new commit index before the next Ready rather
   * than at once: proposals and acknowledgements that arrive together then
   * share one MsgApp per follower. Messages only leave through a Ready, so
   * this changes batching, never behaviour.
   */
  private scheduleBcast(): void {
    this.bcastPending = true
  }

  /** Called by RawNode before it looks for a Ready. */
  flush(): void {
    if (this.bcastPending && this.role === 'leader') this.bcastAppend()
    this.bcastPending = false
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snap = this.log.snapshot
    if (snap === null || !pr.recentActive) return false
    pr.becomeSnapshot(snap.meta.index)
    this.sendSnapshotChunk(to, pr)
    return true
  }

  /**
   * The chunk at the follower's acknowledged offset, of the current snapshot —
   * unless the follower is in its back-off after a refusal, or this window's
   * byte budget for it is spent: every answer (an ack, a refusal, a heartbeat
   * answer) may ask for a chunk, and a follower that refuses every chunk must
   * not turn a few bytes of answers into megabytes of snapshot. The tick
   * resumes a deferred send (tickSnapshotBudgets).
   */
  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const snap = this.log.snapshot
    if (snap === null) return
    if (pr.pendingSnapshot !== snap.meta.index) pr.becomeSnapshot(snap.meta.index) // compacted again: restart
    if (pr.snapshotWait > 0) return
    const offset = pr.snapshotOffset
    const data = snap.data.subarray(offset, offset + this.cfg.maxSnapshotChunkSize)
    // at least one chunk per window, however large a chunk is
    if (pr.snapshotBytes > 0 && pr.snapshotBytes + data.length > this.snapshotBudget()) return
    pr.snapshotBytes += data.length
    this.send('MsgSnap', to, this.term, {
      snapshot: { meta: snap.meta, offset, total: snap.data.length, data },
    })
  }

  private snapshotBudget(): number {
    return this.cfg.maxSnapshotBytesPerWindow ?? SNAPSHOT_CHUNKS_PER_WINDOW * this.cfg.maxSnapshotChunkSize
  }

  /**
   * Leader, each tick: a follower's back-off runs down (and its chunk goes
   * when it ends); each election timeout starts a new byte window, and a
   * chunk the old window's budget held back goes now.
   */
  private tickSnapshotBudgets(newWindow: boolean): void {
    for (const [id, pr] of this.trk.progress) {
      if (id === this.id) continue
      let resume = newWindow && pr.snapshotBytes > 0
      if (newWindow) pr.snapshotBytes = 0
      if (pr.snapshotWait > 0 && --pr.snapshotWait === 0) resume = true
      if (resume && pr.state === 'snapshot') this.sendSnapshotChunk(id, pr)
    }
  }

  private sendHeartbeat(to: NodeId, context: Uint8Array | null): void {
    const pr = this.trk.progress.get(to)
    const commit = Math.min(pr?.match ?? 0, this.log.committed)
    this.send('MsgHeartbeat', to, this.term, { commit, context })
  }

  private bcastHeartbeat(context: Uint8Array | null = this.reads.lastContext()): void {
    for (const id of this.trk.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, context)
  }

  // ---- role changes -----------------------------------------------------------

  private resetRandomizedElectionTimeout(): void {
    const et = this.cfg.electionTick
    this.randomizedElectionTimeout = et + Math.floor(this.cfg.random() * et)
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = null
    }
    this.lead = null
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.leadTransferee = null
    this.trk.resetVotes()
    const last = this.log.lastIndex()
    for (const id of [...this.trk.progress.keys()]) {
      const pr = new Progress(last + 1, this.cfg.maxInflightMsgs)
      // a new term starts with nobody heard from (CheckQuorum, snapshots)
      // our own match is what our disk holds, not what our log holds: entries
      // still in a save in flight count when it completes (selfAckStable)
      if (id === this.id) pr.match = PLANTED_BUGS && this.bugs.leaderAckBeforePersist === true ? last : this.log.stableIndex
      else pr.recentActive = false
      this.trk.progress.set(id, pr)
    }
    this.pendingConfIndex = 0
    this.uncommittedSize = 0
    this.reads.clear()
  }

  becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term)
    this.lead = lead
    this.role = 'follower'
    if (lead !== null) {
      this.campaignIfRefused = false
      this.campaignAgainIfStale = false
    }
  }

  private becomePreCandidate(): void {
    // PreVote changes neither term nor vote: a partitioned member that
    // cannot win does not disturb the cluster when it comes back (§9.6)
    this.campaignIfRefused = false
    this.trk.resetVotes()
    this.lead = null
    this.role = 'pre-candidate'
  }

  private becomeCandidate(): void {
    this.campaignIfRefused = false
    this.reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
  }

  private becomeLeader(): void {
    this.reset(this.term)
    this.lead = this.id
    this.role = 'leader'
    this.campaignAgainIfStale = false
    this.trk.progress.get(this.id)?.becomeReplicate()
    // conservatively assume an unapplied conf entry may be in the log
    this.pendingConfIndex = this.log.lastIndex()
    // a no-op of this term: commits everything before it (§5.4.2, §8)
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }], true)
  }

  // ---- elections ----------------------------------------------------------------

  /** Start an election now (the driver's campaign(), an election timeout, a gone leader). */
  hup(kind: 'auto' | 'transfer'): void {
    if (this.role === 'leader' || !this.promotable()) return
    if (this.confReplay.hasCommittedNotInEffect(this.log)) return
    // the last term we may enter: a campaign would count past it
    if (this.term >= MAX_RAFT_NUMBER) return
    this.campaign(kind === 'transfer' ? 'transfer' : this.cfg.preVote ? 'pre' : 'election')
  }

  private campaign(kind: CampaignKind): void {
    let term: number
    let type: MessageType
    if (kind === 'pre') {
      this.becomePreCandidate()
      type = 'MsgPreVote'
      term = this.term + 1
    } else {
      this.becomeCandidate()
      type = 'MsgVote'
      term = this.term
    }
    this.trk.recordVote(this.id, true)
    if (this.trk.voteResult() === 'won') {
      if (kind === 'pre') this.campaign('election')
      else this.becomeLeader()
      return
    }
    const index = this.log.lastIndex()
    const logTerm = this.log.lastTerm()
    const context = kind === 'transfer' ? TRANSFER_CONTEXT : null
    for (const id of allVoters(this.trk.conf)) {
      if (id !== this.id) this.send(type, id, term, { index, logTerm, context })
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === 'MsgPreVote'
    const respType: MessageType = pre ? 'MsgPreVoteResp' : 'MsgVoteResp'
    // Learners answer too: one may have been promoted without knowing yet, and
    // its vote can be needed; candidates only count the voters they know.
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (pre && m.term > this.term) ||
      (PLANTED_BUGS && !pre && this.bugs.voteTwice === true)
    const upToDate = (PLANTED_BUGS && this.bugs.skipLogUpToDateCheck === true) || this.log.isUpToDate(m.index, m.logTerm)
    if (canVote && upToDate) {
      // a granted vote carries the candidate's term (for PreVote, the future term)
      this.send(respType, m.from, m.term)
      if (!pre) {
        this.electionElapsed = 0
        this.vote = m.from
      }
    } else {
      // A rejection carries our commit index and its term. A candidate holding
      // that (index, term) holds the committed prefix (Log Matching) and may
      // mark it committed. Without this, a voter demoted to learner whose log
      // is longer than the remaining voter's could block every election: the
      // learner cannot campaign and the voter, not knowing the demotion is
      // committed, still needs the learner's vote.
      const commit = this.log.committed
      this.send(respType, m.from, this.term, { reject: true, commit, logTerm: this.log.term(commit) ?? 0 })
      // We left the campaign after our leader's death to another survivor
      // (reportPeerGone) and refuse it (its PreVote or vote) only because our
      // log is ahead of its: campaign now rather than wait out an election
      // timeout. Once per death: a standing rule would let two members with
      // alternately longer logs depose each other forever.
      if (canVote && !upToDate && this.campaignIfRefused) {
        this.campaignIfRefused = false
        this.hup('auto')
      }
    }
  }

  // ---- the log --------------------------------------------------------------------

  /**
   * The leader appends entries of its term. `internal` entries (no-op,
   * auto-leave) bypass the uncommitted cap. Returns false when over the cap.
   */
  private appendEntries(ents: Entry[], internal: boolean): boolean {
    let size = 0
    for (const e of ents) size += e.data.length
    if (!internal && this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.cfg.maxUncommittedEntriesSize) {
      return false
    }
    this.uncommittedSize += size
    let li = this.log.lastIndex()
    const out: Entry[] = new Array<Entry>(ents.length)
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!
      out[i] = { term: this.term, index: ++li, type: e.type, data: e.data }
    }
    this.log.append(out)
    if (PLANTED_BUGS && this.bugs.confChangeTooEarly === true) for (const e of this.confReplay.takeAppended(out)) this.applyConfEntry(e)
    // The leader's own acknowledgement counts only once the entries are on
    // its disk (selfAckStable, after the driver's save): it may send them to
    // followers meanwhile (Raft thesis §10.2.1), but its vote in the commit
    // count vouches for its disk like any follower's MsgAppResp (invariant 2).
    if (PLANTED_BUGS && this.bugs.leaderAckBeforePersist === true) this.trk.progress.get(this.id)?.maybeUpdate(li)
    this.maybeCommit()
    return true
  }

  /**
   * The driver persisted entries up to log.stableIndex (RawNode.advance after
   * the save): a leader counts its own acknowledgement now, and a commit it
   * unlocks goes out with the next broadcast. etcd raft's MsgStorageAppendResp
   * to the leader itself, as a call.
   */
  selfAckStable(): void {
    if (this.role !== 'leader') return
    const pr = this.trk.progress.get(this.id)
    if (pr !== undefined && pr.maybeUpdate(this.log.stableIndex) && this.maybeCommit()) this.scheduleBcast()
  }

  /** Advance commit to what a quorum acknowledged, if it is of this term (§5.4.2). */
  private maybeCommit(): boolean {
    const mci = this.trk.committed()
    if (!Number.isFinite(mci) || mci <= this.log.committed) return false
    if (!(PLANTED_BUGS && this.bugs.commitOldTermByCounting === true) && this.log.term(mci) !== this.term) return false
    const old = this.log.committed
    if (!this.log.commitTo(mci)) return false
    for (let i = old + 1; i <= mci; i++) {
      const e = this.log.entryAt(i)
      if (e?.term === this.term) this.uncommittedSize -= e.data.length
    }
    if (this.uncommittedSize < 0) this.uncommittedSize = 0
    this.reads.onCommit()
    return true
  }

  // ---- ticks ------------------------------------------------------------------------

  tick(): void {
    if (this.goneLeader.ticks > 0 && --this.goneLeader.ticks === 0) this.goneLeader = NO_GONE_LEADER
    if (this.role === 'leader') this.tickHeartbeat()
    else this.tickElection()
  }

  private tickElection(): void {
    this.electionElapsed++
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.promotable()) {
      this.electionElapsed = 0
      this.hup('auto')
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    this.tickSnapshotBudgets(this.electionElapsed >= this.cfg.electionTick)
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0
      if (this.cfg.checkQuorum) {
        // CheckQuorum: a leader cut off from a quorum stops serving
        if (!this.trk.quorumActive(this.id) && !(PLANTED_BUGS && this.bugs.leaderNeverStepsDown === true)) {
          this.becomeFollower(this.term, null)
          return
        }
        for (const [id, pr] of this.trk.progress) if (id !== this.id) pr.recentActive = false
      }
      // a transfer that did not finish within an election timeout is abandoned
      this.leadTransferee = null
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0
      this.bcastHeartbeat()
    }
  }

  // ---- step -------------------------------------------------------------------------

  /** Feed a message from a peer. Stale, foreign and malformed ones are ignored. */
  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id || typeof m.from !== 'string' || m.from.length === 0) return
    if (!isCount(m.term) || !isCount(m.index) || !isCount(m.logTerm) || !isCount(m.commit)) return
    // a term or index we could not count past, or a term no honest peer can
    // have reached from ours: adopting it could stop elections for good
    if (m.term > MAX_RAFT_NUMBER || m.index > MAX_RAFT_NUMBER || m.commit > MAX_RAFT_NUMBER) return
    if (m.term > this.term + MAX_TERM_JUMP) return
    // what a leader certified dead sent before it went may still be on the
    // wire: dropped like a lost message (for an election timeout), or we
    // would follow it again and refuse the survivors' (pre)votes under its lease
    if (m.term === this.goneLeader.term && m.from === this.goneLeader.id && FROM_LEADER.has(m.type)) return
    if (m.term === 0) {
      // only forwarded requests travel without a term
      if (m.type !== 'MsgProp' && m.type !== 'MsgReadIndex') return
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const forced = m.context !== null
        const inLease = this.cfg.checkQuorum && this.lead !== null && this.electionElapsed < this.cfg.electionTick
        // etcd's lease check: we heard from a live leader recently, so this
        // candidate is disruptive; a leadership transfer is not
        if (!forced && inLease) return
      }
      if (m.type === 'MsgPreVote') {
        // never change our term for a PreVote
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // the future term we asked for; we adopt it only when we win
      } else if (PLANTED_BUGS && this.role === 'leader' && this.bugs.leaderNeverStepsDown === true) {
        this.term = m.term
        this.vote = null
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from)
      } else {
        const again = this.campaignAgainIfStale && (m.type === 'MsgPreVoteResp' || m.type === 'MsgVoteResp')
        this.becomeFollower(m.term, null)
        if (again) {
          // we know nobody leads (campaignKnowingLeaderless): our term was
          // only stale, so we run again at once in the newer one
          this.campaignAgainIfStale = false
          this.hup('auto')
          return
        }
      }
    } else if (m.term < this.term) {
      if (PLANTED_BUGS && this.bugs.ignoreResponseTerm === true && RESPONSES.has(m.type)) {
        // planted bug: fall through and count a stale response
      } else {
        if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
          // a deposed leader learns our term from this and steps down
          this.send('MsgAppResp', m.from, this.term)
        } else if (m.type === 'MsgPreVote') {
          this.send('MsgPreVoteResp', m.from, this.term, { reject: true })
        }
        return
      }
    }

    if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
      this.handleVoteRequest(m)
      return
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m)
        return
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m)
        return
      case 'follower':
        this.stepFollower(m)
        return
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        this.acceptForwardedProposal(m)
        return
      case 'MsgReadIndex':
        if (m.context !== null && this.trk.progress.has(m.from)) this.reads.request(m.context, m.from)
        return
      case 'MsgTransferLeader': {
        const target = decodeNodeId(m.context)
        if (target !== null && this.trk.progress.has(m.from)) this.handleTransferLeader(target)
        return
      }
    }
    const pr = this.trk.progress.get(m.from)
    if (pr === undefined) return
    switch (m.type) {
      case 'MsgAppResp':
        pr.recentActive = true
        this.handleAppendResponse(m, pr)
        return
      case 'MsgHeartbeatResp':
        pr.recentActive = true
        pr.probeSent = false
        // a full window and no answers: MsgApps were lost; free one slot so the
        // next MsgApp goes out, and its answer resynchronises us
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne()
        if (pr.state === 'snapshot') this.sendSnapshotChunk(m.from, pr) // resend: a chunk may be lost
        else if (pr.match < this.log.lastIndex()) this.sendAppend(m.from)
        if (m.context !== null) this.reads.ack(m.from, m.context)
        return
      case 'MsgSnapResp':
        pr.recentActive = true
        if (pr.state !== 'snapshot' || m.rejectHint !== pr.pendingSnapshot) return // about another snapshot
        if (m.reject) {
          // the chunk goes again when the wait is over
          pr.snapshotRefused(this.cfg.heartbeatTick, this.cfg.electionTick * MAX_SNAPSHOT_BACKOFF_WINDOWS)
        } else if (m.index > pr.snapshotOffset && m.index < (this.log.snapshot?.data.length ?? 0)) {
          pr.snapshotOffset = m.index
          this.sendSnapshotChunk(m.from, pr)
        }
        return
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    if (m.reject) {
      // fast backtracking: skip every index whose term cannot match
      let nextProbe = m.rejectHint
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0]
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe()
        this.sendAppend(m.from)
      }
      return
    }
    if (m.index > this.log.lastIndex()) return // acknowledges entries we never sent
    const oldPaused = pr.isPaused()
    const updated = pr.maybeUpdate(m.index)
    if (!updated && !(pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot)) return
    if (pr.state === 'probe') pr.becomeReplicate()
    else if (pr.state === 'snapshot') {
      if (pr.match >= pr.pendingSnapshot) {
        pr.snapshotRefusals = 0 // installed: the next snapshot starts without a back-off
        pr.becomeProbe()
        pr.becomeReplicate()
      }
    } else pr.inflights.freeLE(m.index)
    if (this.maybeCommit()) this.scheduleBcast()
    else if (oldPaused && !this.bcastPending) this.sendAppend(m.from)
    while (this.maybeSendAppend(m.from, false)) {
      // pipeline as much as the inflight window and message size allow
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from)
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'MsgApp':
      case 'MsgHeartbeat':
      case 'MsgSnap':
        // a leader of our term exists: follow it
        this.becomeFollower(m.term, m.from)
        this.stepFollower(m)
        return
      case 'MsgVoteResp':
      case 'MsgPreVoteResp': {
        const expected = this.role === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp'
        if (m.type !== expected) return
        this.trk.recordVote(m.from, !m.reject)
        if (m.reject && m.commit > this.log.committed && this.log.matchTerm(m.commit, m.logTerm)) this.log.commitTo(m.commit)
        const res = this.trk.voteResult()
        if (res === 'won') {
          if (this.role === 'pre-candidate') this.campaign('election')
          else {
            this.becomeLeader()
            this.bcastAppend()
          }
        } else if (res === 'lost') {
          this.becomeFollower(this.term, null)
        }
        return
      }
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgApp':
        this.electionElapsed = 0
        this.lead = m.from
        this.handleAppendEntries(m)
        return
      case 'MsgHeartbeat':
        this.electionElapsed = 0
        this.lead = m.from
        this.log.commitTo(m.commit)
        this.send('MsgHeartbeatResp', m.from, this.term, { context: m.context })
        return
      case 'MsgSnap':
        this.electionElapsed = 0
        this.lead = m.from
        this.handleSnapshotChunk(m)
        return
      case 'MsgTimeoutNow':
        // the leader hands over: campaign at once, without PreVote
        this.hup('transfer')
        return
      case 'MsgReadIndexResp':
        if (m.context !== null) this.readStates.push({ index: m.index, context: m.context })
        return
    }
  }

  private handleAppendEntries(m: Message): void {
    if (this.contradictsCommitted(m)) {
      // our committed history is not theirs (forceSoleVoter): the driver
      // diverges at its next tick. No acknowledgement meanwhile: the "I have
      // up to my commit" answer below would vouch for a log we do not hold
      // (a leader could promote or count us on it). The planted bug that
      // commits old-term entries by counting keeps etcd's answer, so its
      // consequence (two values at one index) stays visible to the checks.
      this.committedConflictFrom = m.from
      if (!(PLANTED_BUGS && this.bugs.commitOldTermByCounting === true)) return
    }
    if (m.index < this.log.committed) {
      this.send('MsgAppResp', m.from, this.term, { index: this.log.committed })
      return
    }
    const ents = m.entries
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!
      if (e.index !== m.index + 1 + i || !isCount(e.term) || e.term === 0 || e.term > m.term) return // malformed
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, ents, PLANTED_BUGS && this.bugs.noTruncateOnConflict === true)
    const cut = this.log.takeTruncation()
    if (cut > 0) this.dropAcksFrom(cut)
    if (lastNew >= 0) {
      if (PLANTED_BUGS && this.bugs.confChangeTooEarly === true) for (const e of this.confReplay.takeAppended(ents)) this.applyConfEntry(e)
      this.send('MsgAppResp', m.from, this.term, { index: lastNew })
      return
    }
    // tell the leader where our log could match it (etcd's findConflictByTerm)
    const [hintIndex, hintTerm] = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm)
    this.send('MsgAppResp', m.from, this.term, { index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm })
  }

  /** Does the MsgApp disagree with an entry we hold as committed? (compacted ones are not known) */
  private contradictsCommitted(m: Message): boolean {
    const committed = this.log.committed
    if (m.index <= committed) {
      const t = this.log.term(m.index)
      if (t !== undefined && t !== m.logTerm) return true
    }
    for (const e of m.entries) {
      if (e.index > committed) break
      const t = this.log.term(e.index)
      if (t !== undefined && t !== e.term) return true
    }
    return false
  }

  /**
   * Entries from `index` on were replaced before the Ready holding them was
   * persisted. An acknowledgement still queued in `msgs` for such an entry
   * (to a leader of an older term) would leave after the persist of the
   * *replacing* entries and vouch for entries that never reached the disk;
   * a stale leader could count it toward a commit. Drop those; the leader
   * learns our log again from the next exchange. (Acks handed out in earlier
   * Readies are fine: they leave only after their own entries are durable.)
   */
  private dropAcksFrom(index: number): void {
    this.msgs = this.msgs.filter((x) => !(x.type === 'MsgAppResp' && !x.reject && x.index >= index))
  }

  // ---- snapshots -----------------------------------------------------------------

  private handleSnapshotChunk(m: Message): void {
    if (m.snapshot === null) return
    const snapIndex = m.snapshot.meta.index
    const got = this.snapshotReceipt.receive(m.snapshot, m.term, this.log.committed)
    switch (got.kind) {
      case 'ignore':
        return
      case 'committed':
        this.send('MsgAppResp', m.from, this.term, { index: this.log.committed })
        return
      case 'ack':
        this.send('MsgSnapResp', m.from, this.term, { rejectHint: snapIndex, index: got.received })
        return
      case 'refuse':
        this.send('MsgSnapResp', m.from, this.term, { rejectHint: snapIndex, reject: true })
        return
      case 'complete':
        this.restore(got.snapshot)
        this.send('MsgAppResp', m.from, this.term, { index: this.log.lastIndex() })
        return
    }
  }

  /** Install a snapshot from the leader. False when it brings nothing new. */
  private restore(snap: Snapshot): boolean {
    const { index, term } = snap.meta
    if (index <= this.log.committed) return false
    if (this.log.matchTerm(index, term)) {
      // our log already holds it: just fast-forward the commit
      this.log.commitTo(index)
      return false
    }
    this.log.restore(snap)
    this.trk.setConf(cloneConfState(snap.meta.conf), this.log.lastIndex() + 1)
    this.confReplay.appliedIndex = index
    return true
  }

  // ---- configuration -------------------------------------------------------------

  /** Conf entries take effect as they are handed out for application. */
  onCommittedHandedOut(ents: readonly Entry[]): void {
    for (const e of this.confReplay.takeHandedOut(ents)) this.applyConfEntry(e)
  }

  /**
   * Apply one conf entry. An invalid one is skipped: every member skips it
   * alike, since all see the same entry against the same config.
   */
  private applyConfEntry(e: Entry): void {
    const next = confAfter(this.trk.conf, e)
    if (next !== null) this.switchToConf(next)
  }

  private switchToConf(cs: ConfState): void {
    this.trk.setConf(cs, this.log.lastIndex() + 1)
    if (this.role !== 'leader') return
    if (!this.trk.isVoter(this.id)) {
      // removed (or demoted) by a committed change: stop leading
      this.becomeFollower(this.term, null)
      return
    }
    if (this.leadTransferee !== null && !this.trk.isVoter(this.leadTransferee)) this.leadTransferee = null
    // the quorum changed: commit may advance; new members need the log
    this.maybeCommit()
    this.bcastAppend()
  }

  /** After the driver applied up to `applied`: leave a joint config automatically. */
  afterApplied(): void {
    const conf = this.trk.conf
    if (this.role === 'leader' && isJoint(conf) && conf.autoLeave && this.pendingConfIndex <= this.log.applied) {
      const leave: ConfChange = { changes: [], transition: 'auto' }
      this.appendEntries([{ term: 0, index: 0, type: 'conf', data: encodeConfChange(leave) }], true)
      this.pendingConfIndex = this.log.lastIndex()
      this.bcastAppend()
    }
  }

  // ---- local API ---------------------------------------------------------------

  propose(data: Uint8Array): void {
    switch (this.role) {
      case 'leader':
        if (this.leadTransferee !== null) throw new RaftError('TRANSFER_IN_PROGRESS', `handing over to ${this.leadTransferee}`)
        if (data.length > this.cfg.maxUncommittedEntriesSize) {
          throw new RaftError('UNCOMMITTED_TOO_LARGE', 'entry is larger than maxUncommittedEntriesSize')
        }
        if (!this.appendEntries([{ term: 0, index: 0, type: 'normal', data }], false)) {
          throw new RaftError('UNCOMMITTED_TOO_LARGE', `${this.uncommittedSize} bytes uncommitted`)
        }
        this.scheduleBcast()
        return
      case 'follower':
        if (this.lead === null) throw new RaftError('NO_LEADER')
        this.send('MsgProp', this.lead, 0, { entries: [{ term: 0, index: 0, type: 'normal', data }] })
        return
      default:
        throw new RaftError('NO_LEADER', `campaigning (${this.role})`)
    }
  }

  private acceptForwardedProposal(m: Message): void {
    if (this.leadTransferee !== null || m.entries.length === 0) return
    if (!this.trk.progress.has(m.from)) return
    // membership changes only through the leader's own proposeConfChange
    for (const e of m.entries) if (e.type !== 'normal' || !(e.data instanceof Uint8Array)) return
    if (this.appendEntries(m.entries, false)) this.scheduleBcast()
  }

  proposeConfChange(cc: ConfChange): void {
    if (this.role !== 'leader') throw new RaftError('NOT_LEADER')
    if (this.leadTransferee !== null) throw new RaftError('TRANSFER_IN_PROGRESS')
    if (this.pendingConfIndex > this.log.applied) {
      throw new RaftError('CONF_CHANGE_PENDING', `conf entry ${this.pendingConfIndex} is not applied yet`)
    }
    applyConfChange(this.trk.conf, cc) // throws INVALID_CONF_CHANGE
    const data = encodeConfChange(cc)
    if (!this.appendEntries([{ term: 0, index: 0, type: 'conf', data }], false)) {
      throw new RaftError('UNCOMMITTED_TOO_LARGE', `${this.uncommittedSize} bytes uncommitted`)
    }
    this.pendingConfIndex = this.log.lastIndex()
    this.bcastAppend()
  }

  readIndex(context: Uint8Array): void {
    if (this.role === 'leader') {
      this.reads.request(context, this.id)
      return
    }
    if (this.role !== 'follower' || this.lead === null) throw new RaftError('NO_LEADER')
    this.send('MsgReadIndex', this.lead, 0, { context })
  }

  private respondRead(index: number, context: Uint8Array, from: NodeId): void {
    if (from === this.id) this.readStates.push({ index, context })
    else this.send('MsgReadIndexResp', from, this.term, { index, context })
  }

  transferLeadership(to: NodeId): void {
    if (this.role === 'leader') this.handleTransferLeader(to)
    else if (this.lead !== null) this.send('MsgTransferLeader', this.lead, this.term, { context: textEncoder.encode(to) })
  }

  private handleTransferLeader(target: NodeId): void {
    if (target === this.id) return
    const pr = this.trk.progress.get(target)
    if (pr === undefined || !this.trk.isVoter(target)) return // learners cannot lead
    if (this.leadTransferee === target) return
    this.leadTransferee = target
    // the transfer must finish within an election timeout (see tickHeartbeat)
    this.electionElapsed = 0
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(target)
    else this.sendAppend(target)
  }

  /**
   * Leader about to go (its tab is closing and may run no more code after
   * this turn): hand leadership to `target` with no round trip to wait for.
   * Returns the messages to send at once, not queued behind a save in flight:
   * every entry of our log the target lacks, then MsgTimeoutNow. The whole
   * log, not only what is on our disk: the save in flight completes a few ms
   * later in a closing page and the Ready loop then sends its appends to the
   * others; a voter holding an entry the target lacks refuses it its vote (an
   * election timeout lost, seen in Chromium). Sending entries we have not
   * saved yet is Raft's parallel leader append (thesis §10.2.1): they count
   * as ours only once on our disk, and no proposal is taken while a transfer
   * is on, so our log stops growing here and the target ends up holding every
   * entry any voter can hold — it wins, and with our vote too (a two-voter
   * cluster needs it).
   * Empty when the target cannot be caught up in a few messages (it needs a
   * snapshot, or lags by more than `HAND_OVER_MAX_MSGS` messages): then the
   * others elect a leader the usual way.
   */
  handOverNow(target: NodeId): Message[] {
    if (this.role !== 'leader' || target === this.id) return []
    const pr = this.trk.progress.get(target)
    if (pr === undefined || !this.trk.isVoter(target)) return []
    const out: Message[] = []
    const last = this.log.lastIndex()
    for (let prev = pr.match; prev < last; ) {
      const prevTerm = this.log.term(prev)
      const ents = prevTerm === undefined ? [] : this.log.slice(prev + 1, last + 1, this.cfg.maxSizePerMsg)
      if (ents.length === 0 || out.length >= HAND_OVER_MAX_MSGS) return []
      out.push(newMessage('MsgApp', this.id, target, this.term, { index: prev, logTerm: prevTerm, entries: ents, commit: this.log.committed }))
      prev = ents[ents.length - 1]!.index
    }
    this.leadTransferee = target
    this.electionElapsed = 0
    out.push(newMessage('MsgTimeoutNow', this.id, target, this.term, {}))
    return out
  }

  /**
   * The app's explicit takeover when quorum is gone for good (etcd's
   * --force-new-cluster): every other voter is removed without its vote, and
   * our whole log counts as committed. A term of our own first, so no entry we
   * write matches another member's at the same (index, term). The removals
   * are single conf entries (a joint configuration is left first), committed
   * at once, taking effect as they are applied like any other; the driver
   * then campaigns as the only voter. Learners stay. Returns the last index
   * written. Unsafe by nature: entries others committed that we lack are
   * lost, and a member that had them finds its committed log contradicted
   * (committedConflictFrom) when it comes back.
   */
  forceSoleVoter(): number {
    if (!this.trk.conf.voters.includes(this.id)) throw new RaftError('INVALID_CONF_CHANGE', 'only a voter of the configuration can take it over')
    if (this.confReplay.hasCommittedNotInEffect(this.log)) throw new RaftError('CONF_CHANGE_PENDING', 'a committed conf entry is not applied yet')
    // the configuration once every conf entry in our log is in effect
    const conf = confAt(this.log, this.log.lastIndex())
    if (!conf.voters.includes(this.id)) throw new RaftError('INVALID_CONF_CHANGE', 'our log removes us: we cannot take the configuration over')
    const changes: ConfChange[] = []
    if (isJoint(conf)) changes.push({ changes: [], transition: 'auto' })
    for (const v of conf.voters) if (v !== this.id) changes.push({ changes: [{ type: 'remove', node: v }], transition: 'auto' })
    if (changes.length === 0) return this.log.lastIndex()
    this.becomeFollower(this.term + 1, null)
    this.vote = this.id
    let li = this.log.lastIndex()
    const ents = changes.map((cc): Entry => ({ term: this.term, index: ++li, type: 'conf', data: encodeConfChange(cc) }))
    this.log.append(ents)
    this.trk.progress.get(this.id)?.maybeUpdate(li)
    this.log.commitTo(li)
    return li
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send('MsgTimeoutNow', to, this.term)
  }

  /**
   * Campaign now, knowing that nobody leads (a reopening tab: its caretakers
   * just brought the freed voters back). A voter that answers with a newer
   * term (a term the others reached before every tab closed) makes us run
   * again at once in that term rather than after an election timeout. Once:
   * the retry is not renewed, so two members cannot keep it up forever.
   */
  campaignKnowingLeaderless(): void {
    this.campaignAgainIfStale = true
    this.hup('auto')
  }

  /**
   * A leaderless follower that knows the cluster lost its leader with every
   * other tab (a reopening tab runs the freed voters: every slot was free)
   * campaigns itself the first time it refuses a (pre)vote only because its
   * log is ahead of the candidate's, rather than waiting out an election
   * timeout (§5.4.1: the candidate it refuses can never win with our vote).
   * Once: the same rule as after a death certificate (reportPeerGone).
   */
  campaignIfRefusing(): void {
    if (this.role === 'follower' && this.lead === null) this.campaignIfRefused = true
  }

  /**
   * Leader: a link to `id` came up. It hears a heartbeat now rather than at
   * the next heartbeat tick, so a member that just (re)linked — a reloaded
   * tab's voter — learns its leader one round trip after linking (§5.2: a
   * heartbeat is only an empty AppendEntries; an extra one is always safe).
   */
  reportLinked(id: NodeId): void {
    if (this.role !== 'leader' || id === this.id || !this.trk.progress.has(id)) return
    this.sendHeartbeat(id, this.reads.lastContext())
  }

  reportUnreachable(id: NodeId): void {
    if (this.role !== 'leader') return
    const pr = this.trk.progress.get(id)
    if (pr?.state === 'replicate') pr.becomeProbe()
  }

  /**
   * `id` is gone for good (a death certificate). A follower it led forgets it
   * (which also lifts the lease, so we grant votes). The driver ranks the
   * survivors that hear the certificate (Roster.rankAfterDeath): rank 0
   * campaigns at once; two at once would split their votes and cost an
   * election timeout. Rank r > 0 campaigns after DEATH_STAGGER_TICKS * r
   * ticks if no leader came by then: the chosen one's PreVote is ignored by
   * a survivor that has not heard the certificate yet (its lease still
   * holds), and the survivors may disagree on whom they chose; either left
   * everyone waiting a full randomized election timeout.
   */
  reportPeerGone(id: NodeId, rank = 0): void {
    if (id === this.id) return
    if (this.role === 'leader') {
      const pr = this.trk.progress.get(id)
      if (pr === undefined) return
      pr.recentActive = false
      if (pr.state === 'replicate') pr.becomeProbe()
      return
    }
    if (this.role === 'follower' && this.lead === id) {
      // no need to wait out an election timeout for a leader we know is gone;
      // forgetting it also lifts our lease, so we grant (pre)votes to others
      this.goneLeader = { id, term: this.term, ticks: this.cfg.electionTick }
      this.lead = null
      if (rank === 0) {
        this.electionElapsed = 0
        this.hup('auto')
        return
      }
      this.campaignIfRefused = true
      // the election timer fires after the stagger (a leader heard first resets it)
      this.electionElapsed = Math.max(0, this.randomizedElectionTimeout - DEATH_STAGGER_TICKS * rank)
    }
  }

}

/** ticks between the campaigns of survivors of consecutive ranks after a
 *  death certificate (reportPeerGone): enough for a PreVote round trip and a
 *  vote between tabs of one browser, well below an election timeout */
const DEATH_STAGGER_TICKS = 2

/** a leader a death certificate took from us, in its term, for `ticks` more ticks */
interface GoneLeader {
  id: NodeId
  term: number
  ticks: number
}
// frozen: never counted down (ticks 0), only replaced
const NO_GONE_LEADER: GoneLeader = Object.freeze({ id: '', term: -1, ticks: 0 })

/** what only a leader sends: from a leader certified dead, dropped in its term */
const FROM_LEADER: ReadonlySet<string> = new Set(['MsgApp', 'MsgHeartbeat', 'MsgSnap', 'MsgTimeoutNow'])

/** how many MsgApps a closing leader sends to catch its successor up before giving up (handOverNow) */
const HAND_OVER_MAX_MSGS = 8

function decodeNodeId(ctx: Uint8Array | null): NodeId | null {
  if (ctx === null || ctx.length === 0 || ctx.length > 1024) return null
  try {
    return textDecoder.decode(ctx)
  } catch {
    return null
  }
}
