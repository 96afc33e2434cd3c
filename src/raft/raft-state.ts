// The state of one Raft member, as the files of the algorithm see it
// (roles.ts, elections.ts, leader.ts, candidate.ts, follower.ts,
// replication.ts, commit.ts, proposals.ts, membership.ts,
// leadership-transfer.ts). Raft (raft.ts) implements it and is the only
// thing that creates it; the driver never sees this type, only RawNode.
//
// An interface rather than the Raft class itself so that those files import
// no file that imports them: the folder has no import cycle (layers.test.ts),
// and each file's imports say which other concepts it calls.
import type { ConfReplay } from './conf-replay'
import type { RaftLog } from './log'
import type { LeaderReads } from './read-index'
import type { SnapshotReceipt } from './snapshot-receipt'
import type { ProgressTracker } from './tracker'
import type { Message, MessageType, NodeId, PlantedBugs, RaftConfig, ReadState, Role } from './types'

export type RaftRole = Exclude<Role, 'learner'>

/** a leader a death certificate took from us, in its term, for `ticks` more ticks */
export interface GoneLeader {
  id: NodeId
  term: number
  ticks: number
}

export interface RaftState {
  readonly id: NodeId
  term: number
  vote: NodeId | null
  lead: NodeId | null
  role: RaftRole
  readonly log: RaftLog
  readonly trk: ProgressTracker
  /** the outbox: what the next Ready sends (see send) */
  msgs: Message[]
  readStates: ReadState[]

  electionElapsed: number
  heartbeatElapsed: number
  /** ticks between a leader's heartbeats now: cfg.heartbeatTick unless the driver changed it (setHeartbeatTicks) */
  heartbeatTicks: number
  randomizedElectionTimeout: number
  leadTransferee: NodeId | null
  /** a leader of our term or later sent entries that contradict our committed
   *  log (only a forced cluster can: forceSoleVoter); the driver diverges */
  committedConflictFrom: NodeId | null
  /** our dead leader's successor was left to another survivor: campaign if we must refuse it (reportPeerGone) */
  campaignIfRefused: boolean
  /** campaign once more when a voter answers our campaign with a newer term (campaignKnowingLeaderless) */
  campaignAgainIfStale: boolean
  /** the context of our latest campaign's vote requests (a transfer's passes the leases), asked again by askAgain */
  campaignContext: Uint8Array | null
  /** the leader a death certificate took from us (reportPeerGone), in its
   *  term, for one election timeout of ticks (a certificate is the driver's
   *  word: should the leader be alive after all, we follow it again) */
  goneLeader: GoneLeader
  /** index of the latest conf entry the leader appended; one change at a time */
  pendingConfIndex: number
  /** bytes of this leader's entries that are not committed yet */
  uncommittedSize: number
  /** which conf entries are reflected in trk.conf */
  readonly confReplay: ConfReplay
  /** a broadcast is due before the next Ready (scheduleBcast) */
  bcastPending: boolean
  /** the leader's ReadIndex bookkeeping */
  readonly reads: LeaderReads
  /** a follower's chunked snapshot being received */
  readonly snapshotReceipt: SnapshotReceipt
  readonly cfg: RaftConfig
  /** test-only faults, read only under PLANTED_BUGS */
  readonly bugs: PlantedBugs

  /** Queue a message for the next Ready: the core's only way out. */
  send(type: MessageType, to: NodeId, term: number, fields?: Partial<Message>): void
  /** May this member campaign? (a voter, not in the middle of a snapshot) */
  promotable(): boolean
}
