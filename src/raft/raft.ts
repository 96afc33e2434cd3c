// The Raft state machine (after etcd raft's raft.go). Pure and synchronous:
// input is a tick, a message or a local call; output is appended to `msgs`,
// `readStates` and the log, which RawNode hands to the driver as a Ready.
//
// This class holds the state and is the core's entry point: its constructor,
// the term checks every message passes (step), and the dispatch of ticks and
// messages to the role that runs them. Roles differ by the step and tick they
// run, not by subclass. The algorithm lives beside it, one concept a file, as
// functions over this state:
//   raft-state.ts          the state those files see (RaftState, implemented here)
//   roles.ts               what a change of term or role resets
//   elections.ts           campaigns, (pre)votes, a new leader, the election tick
//   leader.ts              the leader's tick and step (its followers' answers)
//   candidate.ts           the (pre-)candidate's step: counting votes
//   follower.ts            the follower's step: entries, snapshot chunks, heartbeats
//   replication.ts         the leader's sending: MsgApp, snapshot chunks, heartbeats
//   proposals.ts           new entries in the leader's log (data and conf changes)
//   commit.ts              the commit index: quorum, own term, own disk
//   membership.ts          bootstrap, a conf entry taking effect, forceSoleVoter
//   leadership-transfer.ts transferLeadership, handOverNow
// and the smaller collaborators: conf-replay.ts (which conf entries are in
// effect), read-index.ts (the leader's ReadIndex bookkeeping) and
// snapshot-receipt.ts (a follower assembling a chunked snapshot).
//
// Fields marked "shared" are the algorithm's state (RaftState), read and
// written by those files; they are not for the driver, which goes through
// RawNode.
import { stepCandidate } from './candidate'
import { selfAckStable } from './commit'
import { cloneConfState, emptyConfState } from './confchange'
import { ConfReplay } from './conf-replay'
import {
  campaignIfRefusing,
  campaignKnowingLeaderless,
  handleVoteRequest,
  hup,
  NO_GONE_LEADER,
  reportPeerGone,
  tickElection,
} from './elections'
import { RaftError } from './errors'
import { stepFollower } from './follower'
import { reportLinked, reportUnreachable, stepLeader, tickHeartbeat } from './leader'
import { handOverNow, transferLeadership } from './leadership-transfer'
import { RaftLog } from './log'
import { applyConfEntry, bootstrap, forceSoleVoter } from './membership'
import { PLANTED_BUGS } from './planted-bugs'
import { afterApplied, propose, proposeConfChange } from './proposals'
import type { GoneLeader, RaftRole, RaftState } from './raft-state'
import { LeaderReads } from './read-index'
import { bcastAppend, bcastHeartbeat } from './replication'
import { becomeFollower } from './roles'
import { SnapshotReceipt } from './snapshot-receipt'
import { ProgressTracker } from './tracker'
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
} from './types'
import { MAX_RAFT_NUMBER, MAX_TERM_JUMP, isCount, newMessage } from './types'

const RESPONSES: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgAppResp',
  'MsgVoteResp',
  'MsgPreVoteResp',
  'MsgHeartbeatResp',
  'MsgSnapResp',
])

/** what only a leader sends: from a leader certified dead, dropped in its term */
const FROM_LEADER: ReadonlySet<string> = new Set(['MsgApp', 'MsgHeartbeat', 'MsgSnap', 'MsgTimeoutNow'])

export class Raft implements RaftState {
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
  heartbeatTicks: number
  randomizedElectionTimeout = 0
  leadTransferee: NodeId | null = null
  /** a leader of our term or later sent entries that contradict our committed
   *  log (only a forced cluster can: forceSoleVoter); the driver diverges */
  committedConflictFrom: NodeId | null = null
  /** shared: our dead leader's successor was left to another survivor: campaign if we must refuse it (reportPeerGone) */
  campaignIfRefused = false
  /** shared: campaign once more when a voter answers our campaign with a newer term (campaignKnowingLeaderless) */
  campaignAgainIfStale = false
  /** shared: the context of our latest campaign's requests (elections.ts askAgain) */
  campaignContext: Uint8Array | null = null
  /** shared: the leader a death certificate took from us (reportPeerGone), in
   *  its term, for one election timeout of ticks (a certificate is the
   *  driver's word: should the leader be alive after all, we follow it again) */
  goneLeader: GoneLeader = NO_GONE_LEADER
  /** the latest (pre)vote we ignored under the lease of `lead`: answered
   *  after all if a death certificate takes `lead` from us (reportPeerGone) */
  private ignoredInLease: { m: Message; lead: NodeId } | null = null
  /** index of the latest conf entry the leader appended; one change at a time */
  pendingConfIndex = 0
  /** bytes of this leader's entries that are not committed yet */
  uncommittedSize = 0
  /** shared: which conf entries are reflected in trk.conf */
  readonly confReplay: ConfReplay

  /** shared: a broadcast is due before the next Ready (scheduleBcast) */
  bcastPending = false
  /** shared: the leader's ReadIndex bookkeeping */
  readonly reads: LeaderReads
  /** shared: a follower's chunked snapshot being received */
  readonly snapshotReceipt = new SnapshotReceipt()

  /** shared */
  readonly cfg: RaftConfig
  /** shared: test-only faults, read only under PLANTED_BUGS */
  readonly bugs: PlantedBugs

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
    this.heartbeatTicks = cfg.heartbeatTick
    this.id = cfg.id
    this.reads = new LeaderReads({
      id: this.id,
      isSingleton: () => this.trk.isSingleton(),
      commitIndex: () => this.log.committed,
      committedInTerm: () => this.log.term(this.log.committed) === this.term,
      quorumAcked: (acks) => this.trk.voteResult(acks) === 'won',
      answer: (index, context, from) => this.respondRead(index, context, from),
      heartbeat: (context) => bcastHeartbeat(this, context),
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
    if (isNew && cfg.bootstrap !== undefined) bootstrap(this, cfg.bootstrap)
    // the configuration as of the commit index: replay committed conf entries
    for (const e of this.confReplay.takeUpTo(this.log, this.log.committed)) applyConfEntry(this, e)
    this.trk.setConf(this.trk.conf, this.log.lastIndex() + 1)
    this.becomeFollower(this.term, null)
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

  // ---- output ---------------------------------------------------------------

  /** shared: queue a message for the next Ready (the core's only way out) */
  send(type: MessageType, to: NodeId, term: number, fields: Partial<Message> = {}): void {
    this.msgs.push(newMessage(type, this.id, to, term, fields))
  }

  /** Called by RawNode before it looks for a Ready: sends a broadcast scheduleBcast deferred. */
  flush(): void {
    if (this.bcastPending && this.role === 'leader') bcastAppend(this)
    this.bcastPending = false
  }

  becomeFollower(term: number, lead: NodeId | null): void {
    becomeFollower(this, term, lead)
  }

  // ---- tick and step ------------------------------------------------------------

  tick(): void {
    if (this.goneLeader.ticks > 0 && --this.goneLeader.ticks === 0) this.goneLeader = NO_GONE_LEADER
    if (this.role === 'leader') tickHeartbeat(this)
    else tickElection(this)
  }

  /**
   * Heartbeat every `ticks` ticks from now on (0 < ticks < electionTick, as
   * cfg.heartbeatTick). Only how often an idle leader says it is there: the
   * election timeout, counted in ticks by the followers, stays.
   */
  setHeartbeatTicks(ticks: number): void {
    if (!Number.isInteger(ticks) || ticks <= 0 || ticks >= this.cfg.electionTick) {
      throw new RaftError('BAD_CONFIG', 'need 0 < heartbeat ticks < electionTick')
    }
    this.heartbeatTicks = ticks
  }

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
        if (!forced && inLease) {
          this.ignoredInLease = { m, lead: this.lead! }
          return
        }
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
          hup(this, 'auto')
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
      handleVoteRequest(this, m)
      return
    }
    switch (this.role) {
      case 'leader':
        stepLeader(this, m)
        return
      case 'candidate':
      case 'pre-candidate':
        stepCandidate(this, m)
        return
      case 'follower':
        stepFollower(this, m)
        return
    }
  }

  // ---- local API (RawNode's calls; each documented where it is implemented) ---

  /** Start an election now (the driver's campaign(), an election timeout, a gone leader). */
  hup(kind: 'auto' | 'transfer'): void {
    hup(this, kind)
  }

  propose(data: Uint8Array): void {
    propose(this, data)
  }

  proposeConfChange(cc: ConfChange): void {
    proposeConfChange(this, cc)
  }

  /** Conf entries take effect as they are handed out for application. */
  onCommittedHandedOut(ents: readonly Entry[]): void {
    for (const e of this.confReplay.takeHandedOut(ents)) applyConfEntry(this, e)
  }

  /** After the driver applied up to `applied`: leave a joint config automatically. */
  afterApplied(): void {
    afterApplied(this)
  }

  /** The driver persisted up to log.stableIndex: a leader acknowledges its own entries (proposals.ts). */
  selfAckStable(): void {
    selfAckStable(this)
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
    transferLeadership(this, to)
  }

  handOverNow(target: NodeId): Message[] {
    return handOverNow(this, target)
  }

  forceSoleVoter(): number {
    return forceSoleVoter(this)
  }

  campaignKnowingLeaderless(): void {
    campaignKnowingLeaderless(this)
  }

  campaignIfRefusing(): void {
    campaignIfRefusing(this)
  }

  reportLinked(id: NodeId): void {
    reportLinked(this, id)
  }

  reportUnreachable(id: NodeId): void {
    reportUnreachable(this, id)
  }

  reportPeerGone(id: NodeId, rank = 0): void {
    const ignored = this.ignoredInLease
    this.ignoredInLease = null
    reportPeerGone(this, id, rank)
    // The (pre)vote of a survivor that heard the certificate before us was
    // ignored under the dead leader's lease; that candidate would now wait
    // for its election timeout (and, with the longer log, refuse our own
    // campaign after the stagger: both waited, 2 s in the bench). We answer
    // it now, as if it had been delayed on the wire (Raft allows any delay),
    // under the term checks of step, with our lease on the dead leader gone.
    // Not when we campaign ourselves (rank 0): granting another campaign of
    // the same future term would split the votes; ours reaches that
    // candidate, which grants it.
    if (ignored !== null && ignored.lead === id && this.role === 'follower' && this.lead === null && ignored.m.term > this.term) this.step(ignored.m)
  }
}
