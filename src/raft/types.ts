// The vocabulary of the consensus core, after etcd raft's raftpb. Plain data
// only: these values cross the wire codec (src/wire), storage (src/storage)
// and the simulator, so every field here must stay serialisable.
//
// This file is a contract shared by src/raft, src/wire, src/storage, src/driver
// and test/sim. Change a shape only together with its codec and its users.

/** A member id: stable for the life of a member (its IndexedDB slot). */
export type NodeId = string

/** `normal` entries carry application data (empty data = the leader's no-op);
 *  `conf` entries carry an encoded ConfChange (see encodeConfChange). */
export type EntryType = 'normal' | 'conf'

export interface Entry {
  term: number
  index: number
  type: EntryType
  data: Uint8Array
}

/** What must be on disk before any message that vouches for it is sent. */
export interface HardState {
  term: number
  vote: NodeId | null
  commit: number
}

/** A configuration. In a joint configuration `votersOutgoing` is non-empty and
 *  decisions need a majority of both `voters` and `votersOutgoing`.
 *  `learnersNext` are voters of the outgoing config that become learners when
 *  the joint config is left (etcd's LearnersNext). */
export interface ConfState {
  voters: NodeId[]
  learners: NodeId[]
  votersOutgoing: NodeId[]
  learnersNext: NodeId[]
  /** leave the joint configuration automatically once it is committed */
  autoLeave: boolean
}

export interface SnapshotMeta {
  index: number
  term: number
  conf: ConfState
}

/** A snapshot of the application state (opaque bytes) at `meta.index`. */
export interface Snapshot {
  meta: SnapshotMeta
  data: Uint8Array
}

/** One piece of a snapshot in flight: bytes [offset, offset + data.length) of
 *  a snapshot of `total` bytes. The follower installs it when all arrived. */
export interface SnapshotChunk {
  meta: SnapshotMeta
  offset: number
  total: number
  data: Uint8Array
}

export type ConfChangeType = 'addVoter' | 'addLearner' | 'remove'

export interface ConfChangeSingle {
  type: ConfChangeType
  node: NodeId
}

/** A membership change (etcd's ConfChangeV2). An empty `changes` list while a
 *  joint configuration is active means "leave the joint configuration".
 *  `transition`: 'auto' (joint when more than one voter changes, left
 *  automatically), 'joint-implicit' (always joint, left automatically),
 *  'joint-explicit' (always joint, left by an empty ConfChange). */
export interface ConfChange {
  changes: ConfChangeSingle[]
  transition: 'auto' | 'joint-implicit' | 'joint-explicit'
}

export type MessageType =
  | 'MsgProp' //            follower/learner -> leader: forwarded proposals (entries)
  | 'MsgApp' //             leader -> follower: entries after (logTerm, index)
  | 'MsgAppResp' //         follower -> leader: index acknowledged, or reject with hint
  | 'MsgVote' //            candidate -> voters
  | 'MsgVoteResp'
  | 'MsgPreVote' //         pre-candidate -> voters, term = the term it would use
  | 'MsgPreVoteResp'
  | 'MsgHeartbeat' //       leader -> followers: commit, context (ReadIndex round)
  | 'MsgHeartbeatResp'
  | 'MsgSnap' //            leader -> follower: one snapshot chunk
  | 'MsgSnapResp' //        follower -> leader: chunk received (index = bytes so far) or reject
  | 'MsgTimeoutNow' //      leader -> transferee: campaign now, skipping PreVote
  | 'MsgTransferLeader' //  any -> leader: transfer leadership to the member named in context
  | 'MsgReadIndex' //       follower/learner -> leader: context = request id
  | 'MsgReadIndexResp' //   leader -> follower: index = read index, context echoed

/**
 * One flat message shape for every type, like etcd's raftpb.Message, so the
 * codec is one function. Fields a type does not use are 0 / empty / null.
 * - MsgApp: logTerm/index = the entry before `entries`; commit = leader commit.
 * - MsgAppResp: index = last index matched; on reject, rejectHint = a guess of
 *   the follower's last index and logTerm = the term at rejectHint (fast backtracking).
 * - MsgVote/MsgPreVote: logTerm/index = the candidate's last log term/index;
 *   context non-null = leadership transfer ("campaign forced").
 * - MsgVoteResp/MsgPreVoteResp with reject: commit = the voter's commit index,
 *   logTerm = the term of its entry there (a candidate holding that entry may
 *   mark it committed).
 * - MsgHeartbeat: commit = min(leader commit, follower match); context = ReadIndex round.
 *   MsgHeartbeatResp: context echoed.
 * - MsgSnap: snapshot = the chunk. MsgSnapResp: index = bytes received, reject = restart,
 *   rejectHint = the index of the snapshot it is about (answers about an older one are ignored).
 * - MsgReadIndex/MsgReadIndexResp: context = the caller's request id; index = read index.
 * - MsgTransferLeader: context = UTF-8 of the transferee's NodeId.
 */
export interface Message {
  type: MessageType
  from: NodeId
  to: NodeId
  term: number
  logTerm: number
  index: number
  entries: Entry[]
  commit: number
  reject: boolean
  rejectHint: number
  context: Uint8Array | null
  snapshot: SnapshotChunk | null
}

const NO_ENTRIES: Entry[] = []

/** A message with every field not given at its empty value. */
export function newMessage(type: MessageType, from: NodeId, to: NodeId, term: number, fields: Partial<Message>): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? NO_ENTRIES,
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? null,
    snapshot: fields.snapshot ?? null,
  }
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'learner'

export interface SoftState {
  lead: NodeId | null
  role: Role
}

/** The answer to a ReadIndex request: once `index` is applied locally, a read
 *  of local state is linearizable. `context` identifies the request. */
export interface ReadState {
  index: number
  context: Uint8Array
}

/**
 * The output of the core, drained by the driver. Ordering contract:
 *   1. persist `hardState`, `entries` (overwriting any suffix from
 *      entries[0].index) and `snapshot`, in one batch — durable before step 2
 *      when `mustSync` (a new term, a vote, entries or a snapshot); a change
 *      of the commit index alone may be written lazily (etcd does not sync it);
 *   2. then send `messages` — except that a leader's replication messages
 *      (MsgApp, MsgHeartbeat, MsgSnap, MsgTimeoutNow) whose term is already
 *      durable may leave before the save (Raft thesis §10.2.1): they vouch for
 *      nothing on this member's disk, and the leader counts its own
 *      acknowledgement only at `advance` after the save (selfAckStable);
 *   3. then apply `snapshot` (if any) and `committedEntries` in order;
 *   4. then call `advance(ready)`.
 * Several Readies may be in flight: saves then reach the disk in the order the
 * Readies were taken, and steps 2–4 of each run in that order too, each after
 * every earlier save that must be durable and its own.
 */
export interface Ready {
  softState: SoftState | null
  hardState: HardState | null
  entries: Entry[]
  snapshot: Snapshot | null
  committedEntries: Entry[]
  messages: Message[]
  readStates: ReadState[]
  mustSync: boolean
}

/** What a member has on disk when it starts (or restarts). */
export interface DurableState {
  hardState: HardState
  snapshot: Snapshot | null
  /** entries after the snapshot, contiguous */
  entries: Entry[]
}

/**
 * Bugs that a test can plant in the core to prove the simulator finds them.
 * Never set outside tests. Each flag names one deliberate protocol violation.
 */
export interface PlantedBugs {
  /** acknowledge appended entries before they are persisted (driver-side bug; core puts MsgAppResp in messages of the same Ready regardless) */
  ackBeforePersist?: boolean
  /** grant a vote even when already voted for another candidate in this term */
  voteTwice?: boolean
  /** commit an entry of an older term by counting replicas (§5.4.2 violation) */
  commitOldTermByCounting?: boolean
  /** a leader that never steps down when it sees a higher term or loses quorum */
  leaderNeverStepsDown?: boolean
  /** accept responses without checking their term */
  ignoreResponseTerm?: boolean
  /** apply a configuration change when it is appended instead of when committed... and ignore joint config for quorum */
  confChangeTooEarly?: boolean
  /** grant votes without the up-to-date log check (§5.4.1) */
  skipLogUpToDateCheck?: boolean
  /** do not truncate conflicting entries on append */
  noTruncateOnConflict?: boolean
  /** a leader counts its own acknowledgement of entries when it appends them, before its write completed (the pipelined path's bug: the commit may then rest on a disk that lacks the entry) */
  leaderAckBeforePersist?: boolean
}

/**
 * The largest term or log index the core accepts or creates: far below 2^53
 * (where JavaScript numbers stop being exact), so `term + 1` and
 * `index + 1` never overflow. The codec refuses anything above it on the
 * wire; the core refuses to campaign once its term has reached it.
 */
export const MAX_RAFT_NUMBER = 2 ** 48 - 1

/** A non-negative safe integer: what every term, index, offset and size in
 *  an untrusted message must be before it is compared or counted. */
export const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0

/**
 * How far beyond our term a message may be before we call it implausible and
 * drop it. Every term is one election (or one leadership hand-off), so a
 * member that slept through a million of them is long replaced; a peer that
 * claims such a term is broken or hostile. Without this bound one message
 * could push every member's term to the limit and stop elections for good.
 */
export const MAX_TERM_JUMP = 2 ** 20

export interface RaftConfig {
  id: NodeId
  /** ticks without hearing a leader before a follower campaigns; the actual
   *  timeout is randomized in [electionTick, 2 * electionTick) */
  electionTick: number
  /** ticks between leader heartbeats; must be < electionTick */
  heartbeatTick: number
  /** seeded PRNG, returns [0, 1). Never Math.random: the core is deterministic. */
  random: () => number
  preVote: boolean
  checkQuorum: boolean
  /** bytes of entries per MsgApp */
  maxSizePerMsg: number
  /** MsgApp in flight per follower in replicate state */
  maxInflightMsgs: number
  /** proposals are rejected once this many bytes are appended but uncommitted */
  maxUncommittedEntriesSize: number
  /** bytes per MsgSnap chunk */
  maxSnapshotChunkSize: number
  /** snapshot bytes sent to one follower per electionTick ticks (default
   *  16 chunks); a follower that makes us resend cannot make us send more */
  maxSnapshotBytesPerWindow?: number
  /** durable state to start from; empty log + zero hard state for a new member */
  durable: DurableState
  /** configuration for a brand-new cluster when `durable` holds none (the
   *  first member bootstraps with voters: [itself]); absent for a joiner,
   *  which waits to be added by a leader */
  bootstrap?: ConfState
  bugs?: PlantedBugs
}
