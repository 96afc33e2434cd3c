// Every public type of shared/api.md. Names and shapes here are the contract
// apps, the demo, recipes and outside tests are written against: add freely,
// rename or drop nothing.
//
// A Lease is AsyncDisposable (`await using`): the directive below keeps that
// lib in the published .d.ts (preserve), so an app whose own `lib` lacks it
// still type-checks them with skipLibCheck off.
/// <reference lib="esnext.disposable" preserve="true" />
import type { MeshError } from './errors'

export type { MeshError, MeshErrorCode } from './errors'
// Stat and CreateMode are the tree's own, exactly as shared/api.md has them
// (ZooKeeper's Stat; zxids are Raft indexes, times the leader's stamps);
// ParentsMode too: what a create makes its missing ancestors as (an addition)
import type { CreateMode, ParentsMode, Stat } from '../tree/types'
export type { CreateMode, ParentsMode, Stat }

/** Strings are stored as UTF-8. */
export type Data = Uint8Array | string

export interface WatchEvent {
  type: 'created' | 'deleted' | 'data' | 'children'
  path: string
  zxid: number
}

/** `watch` is one-shot (ZooKeeper's semantics); `linearizable` reads through ReadIndex. */
export interface ReadOpts {
  watch?: (e: WatchEvent) => void
  linearizable?: boolean
}

export interface NodeData {
  data: Uint8Array
  stat: Stat
  text(): string
  // public API (shared/api.md): the caller names the type it expects, as with a fetch Response's json()
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  json<T = unknown>(): T
}

export type Op =
  /** `parents`: as CreateOpts' (an addition to shared/api.md) */
  | { op: 'create'; path: string; data?: Data; mode?: CreateMode; parents?: ParentsMode }
  | { op: 'set'; path: string; data: Data; version?: number }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'check'; path: string; version?: number }

/** a create's `stat` is the new node's (an addition to shared/api.md: its czxid is known without a read) */
export type OpResult = { op: 'create'; path: string; stat: Stat } | { op: 'set'; stat: Stat } | { op: 'delete' } | { op: 'check' }

export type MeshState = 'connecting' | 'connected' | 'suspended' | 'lost' | 'closed'

export type MemberRole = 'leader' | 'follower' | 'candidate' | 'learner'

export interface MemberInfo {
  id: string
  role: MemberRole
  voter: boolean
  browser: string
  visible: boolean
  self: boolean
}

export interface LeaderEvent {
  leader: string | null
  term: number
}

export interface CreateOpts {
  mode?: CreateMode
  /** for 'ttl' and 'ttl-sequential': the node is reaped once unmodified and childless this long */
  ttlMs?: number
  /**
   * Make the missing ancestors too, in the same commit, as 'container' (reaped
   * once their last child goes) or 'persistent' nodes; without it a missing
   * parent is NO_NODE (an addition to shared/api.md)
   */
  parents?: ParentsMode
}

export interface WriteOpts {
  version?: number
  /** the write only applies while `fence` is the current holder of its lock */
  fence?: Lease
}

export interface WatchOpts {
  recursive?: boolean
}

/** One znode of a tree handed to the app as plain data (see DivergedEvent). */
export type { ExportedNode as DivergedNode, NodeKind } from '../tree/export'
import type { ExportedNode as DivergedNode } from '../tree/export'
import type { ExportedNode } from '../tree/export'

/**
 * This member's cluster lost a meet with another cluster of the room (README,
 * "Clusters that meet"): its slot was wiped and it rejoins the winner as a
 * newcomer. The tree it had is here, readable, for the app to keep or restore
 * (`restoreDiverged`).
 */
export interface DivergedEvent {
  /** the cluster that lost (ours, until now) */
  clusterId: string
  /** the cluster we rejoin */
  winner: string
  /** zxid of the last entry applied to the lost tree */
  lastZxid: number
  /** every znode of the lost tree but the root, parents first */
  nodes: ExportedNode[]
  /** the same tree in the internal snapshot format (kept for tools that stored it) */
  snapshot: Uint8Array
  /** true when no meet was lost: another member took the cluster over
   *  (`forceNewCluster`) without writes this member had committed; `winner`
   *  is then our own cluster id, and `nodes` has what we had, theirs included */
  forced?: boolean
}

export interface MeshEvents {
  leader: (e: LeaderEvent) => void
  state: (state: MeshState) => void
  members: (members: MemberInfo[]) => void
  error: (err: MeshError) => void
  diverged: (e: DivergedEvent) => void
}

/**
 * The znode part of the Mesh: everything except the recipes. Recipes are
 * built on exactly this surface, and `createSimulatedCluster` meshes implement
 * at least this.
 */
export interface MeshCore {
  /** this tab's member id */
  readonly id: string
  /** this tab's session (owner of its ephemerals); a new one after an
   *  expiry (`lost`, e.g. a tab frozen longer than its session timeout) and
   *  after a restore from the back/forward cache */
  readonly sessionId: string
  /** member id of the current leader */
  readonly leader: string | null
  readonly isLeader: boolean
  readonly term: number
  /** the highest log index (zxid) this member knows to be committed (an addition to shared/api.md) */
  readonly commitIndex: number
  /** the highest log index (zxid) applied to this tab's tree: local reads see exactly this (an addition) */
  readonly appliedIndex: number
  /** in a browser a page restored from the back/forward cache joins again
   *  into the same Mesh: `closed` (as the page went) → `connecting` → `connected` */
  readonly state: MeshState
  members(): MemberInfo[]
  on<E extends keyof MeshEvents>(event: E, fn: MeshEvents[E]): () => void

  /** resolves with the actual path (sequential modes append a counter) after commit and apply */
  create(path: string, data?: Data, opts?: CreateOpts): Promise<string>
  get(path: string, opts?: ReadOpts): Promise<NodeData>
  set(path: string, data: Data, opts?: WriteOpts): Promise<Stat>
  delete(path: string, opts?: WriteOpts): Promise<void>
  exists(path: string, opts?: ReadOpts): Promise<Stat | null>
  /** sorted child names */
  children(path: string, opts?: ReadOpts): Promise<string[]>
  /** atomic, all or nothing; a failure is a MeshError with `opIndex` */
  multi(ops: Op[]): Promise<OpResult[]>
  /** the local view catches up to the leader's commit */
  sync(path?: string): Promise<void>
  /** persistent watch; returns its removal */
  watch(path: string, fn: (e: WatchEvent) => void, opts?: WatchOpts): () => void
  /** after a lost meet: re-create the lost tree's persistent nodes this
   *  cluster lacks, parent first, reporting conflicts instead of overwriting
   *  (an addition to shared/api.md; also `restoreDiverged(mesh, diverged)`) */
  restoreDiverged(diverged: Pick<DivergedEvent, 'nodes'>, opts?: RestoreOptions): Promise<RestoreReport>
  /** what this member recorded of each log entry's commit, oldest first, when
   *  started with `timeline: true`; empty otherwise (an addition: see CommitTimelineRecord) */
  commitTimeline(): CommitTimelineRecord[]
  /** leave gracefully: ephemerals go, leadership moves */
  close(): Promise<void>
  /** quorum is gone for good (a crashed device of two): make this member the
   *  only voter, without the others' votes (etcd's --force-new-cluster).
   *  Writes others committed that this member lacks are lost; a member that
   *  had them rejoins with a `diverged` event (`forced: true`). An addition
   *  to shared/api.md; see README, "Two devices". */
  forceNewCluster(): Promise<void>
}


export interface Mesh extends MeshCore {
  lock(path: string): Mutex
  readWriteLock(path: string): { read: Mutex; write: Mutex }
  semaphore(path: string, permits: number): Mutex
  election(path: string): Election
  barrier(path: string): Barrier
  doubleBarrier(path: string, count: number): DoubleBarrier
  queue(path: string): Queue
  counter(path: string): Counter
}

// ---- recipes (Curator's vocabulary) ----

export interface AcquireOpts {
  signal?: AbortSignal
  timeoutMs?: number
}

export interface Mutex {
  acquire(opts?: AcquireOpts): Promise<Lease>
  tryAcquire(): Promise<Lease | null>
}

export type LeaseState = 'held' | 'suspended' | 'lost'

/** Also AsyncDisposable: `await using lease = await lock.acquire()`. */
export interface Lease extends AsyncDisposable {
  readonly path: string
  /** fencing token: strictly increases across holders of this lock (the lock node's czxid) */
  readonly token: number
  readonly state: LeaseState
  on(event: 'suspended' | 'lost', fn: () => void): () => void
  release(): Promise<void>
}

export interface ElectionLeader {
  id: string
  value?: string
}

export interface Election {
  campaign(opts?: { signal?: AbortSignal; value?: string }): Promise<Lease>
  leader(): Promise<ElectionLeader | null>
  observe(fn: (leader: ElectionLeader | null) => void): () => void
}

export interface Barrier {
  set(): Promise<void>
  remove(): Promise<void>
  wait(opts?: { signal?: AbortSignal }): Promise<void>
}

export interface DoubleBarrier {
  enter(opts?: { signal?: AbortSignal }): Promise<void>
  leave(opts?: { signal?: AbortSignal }): Promise<void>
}

export interface Queue {
  put(data: Data): Promise<string>
  take(opts?: { signal?: AbortSignal }): Promise<NodeData>
  size(): Promise<number>
}

export interface Counter {
  get(): Promise<number>
  add(delta: number): Promise<number>
}

/**
 * The stages of a write's way to commit (issue 16), in the order they happen:
 * - submitted: the app called the write (requester);
 * - forwarded: a follower handed the write to its link to the leader (requester; none for a leader's write);
 * - proposed: the leader put it in its log (leader);
 * - leaderPersisted: the leader's save holding the entry completed (leader);
 * - appSent: the leader sent the first MsgApp carrying the entry (leader);
 * - followerPersisted: a follower's save holding the entry completed (each follower);
 * - acknowledged: the leader got the first follower's acknowledgement covering the entry (leader);
 * - committed: this member's Ready loop took the entry as committed (each member);
 * - applied: this member applied it to its tree (each member);
 * - resolved: the write's promise settled, just before the app's code after `await` (requester).
 */
export type CommitStage =
  | 'submitted' | 'forwarded' | 'proposed' | 'leaderPersisted' | 'appSent' | 'followerPersisted' | 'acknowledged' | 'committed' | 'applied' | 'resolved'
  // each hop of a write split where it happens: when the message reached
  // the member (before decoding), when it was decoded (before the core
  // stepped it), when the Ready holding its effect was taken, when a save
  // completed (the Ready loop then goes on in order), when the answer left
  | 'forwardArrived' | 'appArrived' | 'appHeard' | 'appTaken' | 'saved' | 'ackSent' | 'ackArrived' | 'commitSent' | 'commitArrived' | 'commitHeard'

/**
 * What ONE member saw of one log entry (`mesh.commitTimeline()`, with the
 * option `timeline: true`). Each stage is measured where it happens, so a
 * write's whole timeline is the join of the records of every member for the
 * same (index, term): the requester's record carries `write`, the leader's
 * `proposed`. Instants are ms since the epoch (`performance.timeOrigin +
 * performance.now()` where the platform has it): comparable between tabs of
 * one machine, not between machines.
 */
export interface CommitTimelineRecord {
  /** the member that recorded it */
  member: string
  /** the entry's log index and term; 0 for a write of ours not (yet) applied */
  index: number
  term: number
  /** set when the entry is a write of this member's tab (the requester) */
  write?: { session: string; seq: number }
  /** the instant of each stage this member saw */
  stages: Partial<Record<CommitStage, number>>
}

export interface JoinOptions {
  /** members of one room form one cluster */
  room: string
  /** authenticates (and encrypts) all traffic */
  secret?: string
  /** without it only same-browser tabs meet */
  signaling?: string | string[]
  storage?: 'indexeddb' | 'memory'
  durability?: 'strict' | 'relaxed'
  sessionTimeoutMs?: number
  maxVoters?: number
  iceServers?: RTCIceServer[]
  /** what writes do while this member cannot reach a quorum (default 'fail'): see WhenNoQuorum */
  whenNoQuorum?: WhenNoQuorum
  /** record each entry's commit stages for `mesh.commitTimeline()` (default false: nothing is recorded) */
  timeline?: boolean
}

/**
 * While this member cannot reach a quorum (`state` is `suspended`, or `lost`
 * with no leader in reach):
 * - 'fail' (default): new writes, `sync` and linearizable reads fail at once
 *   with NO_QUORUM; writes already waiting fail too — with `outcome:
 *   'unknown'` if handed to a leader (it may still commit), without it if
 *   never sent (surely not applied);
 * - 'wait': they wait and are retried until the quorum is back or the request
 *   timeout passes (TIMEOUT; NO_QUORUM when still no leader), as before.
 * Local reads work either way.
 */
export type WhenNoQuorum = 'fail' | 'wait'

// restoreDiverged (src/client/restore-diverged.ts): what it takes and reports
export type RestoreConflictReason =
  /** the winner has a node at this path, with other data: the winner's stays */
  | 'exists-with-other-data'
  /** the winner has no parent for this node (nor could it be restored) */
  | 'parent-missing'
  /** the create failed otherwise (`error` says why: an ephemeral parent, no quorum, …) */
  | 'failed'

export interface RestoreConflict {
  path: string
  reason: RestoreConflictReason
  /** the lost node, as the diverged event had it */
  node: DivergedNode
  error?: MeshError
}

export interface RestoreReport {
  /** re-created on the winning side, in the order they were created */
  created: string[]
  /** already on the winning side with the same data */
  unchanged: string[]
  /** not restored by design: not persistent (ephemeral, container, ttl) */
  skipped: { path: string; kind: DivergedNode['kind'] }[]
  conflicts: RestoreConflict[]
}

export interface RestoreOptions {
  /** restore only the nodes this returns true for (default: every persistent node) */
  filter?: (node: DivergedNode) => boolean
}
