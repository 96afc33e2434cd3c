// Plain data of the znode tree: what a committed entry carries (Command), what
// applying it yields (ApplyOutcome), and what readers see (Stat). Names and
// meanings follow ZooKeeper so its users find every field where they expect it.

/** How a znode is created. Sequential modes append a 10-digit counter taken from the parent's cversion. */
export type CreateMode =
  | 'persistent'
  | 'ephemeral'
  | 'persistent-sequential'
  | 'ephemeral-sequential'
  | 'container'
  | 'ttl'
  | 'ttl-sequential'

/**
 * How a create makes its missing ancestors, in the same entry (Curator's
 * creatingParentContainersIfNeeded / creatingParentsIfNeeded): as containers
 * (reaped again once their last child goes) or as persistent nodes. Never
 * ephemeral: an ephemeral node can have no children.
 */
export type ParentsMode = 'container' | 'persistent'

/** ZooKeeper's Stat. Zxids are Raft log indexes; times are the leader-stamped command times (ms). */
export interface Stat {
  /** zxid of the entry that created the node */
  czxid: number
  /** zxid of the entry that last changed its data (its creation counts) */
  mzxid: number
  /** zxid of the entry that last created or deleted one of its children (its creation counts) */
  pzxid: number
  ctime: number
  mtime: number
  /** number of data changes */
  version: number
  /** number of child creations (as ZooKeeper's: deletions move pzxid, not cversion) */
  cversion: number
  /** the owning session of an ephemeral node, else null */
  ephemeralOwner: string | null
  dataLength: number
  numChildren: number
}

export type TreeErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'NO_CHILDREN_FOR_EPHEMERALS'
  | 'BAD_ARGUMENTS'
  | 'TOO_LARGE'
  | 'SESSION_EXPIRED'
  | 'FENCED'

/** One operation of a transaction. `version: -1` means any version. */
export type TxnOp =
  /** `parents`: make the missing ancestors too (empty, this entry's zxid); without it a missing parent is NO_NODE */
  | { op: 'create'; path: string; data: Uint8Array; mode: CreateMode; ttlMs?: number; parents?: ParentsMode }
  | { op: 'set'; path: string; data: Uint8Array; version: number }
  | { op: 'delete'; path: string; version: number }
  | { op: 'check'; path: string; version: number }
  /** FENCED unless the node at path exists and its czxid === token (a lock's fencing token) */
  | { op: 'fence'; path: string; token: number }

export type OpResult =
  | { op: 'create'; path: string; stat: Stat }
  | { op: 'set'; stat: Stat }
  | { op: 'delete' }
  | { op: 'check' }
  | { op: 'fence' }

export type TxnResult =
  | { ok: true; results: OpResult[] }
  | { ok: false; code: TreeErrorCode; path?: string; opIndex?: number; message: string }

/**
 * The payload of a committed entry. `time` is the leader's clock (ms) stamped
 * when it proposed the entry: the only clock the tree ever sees.
 */
export type Command =
  | { type: 'open-session'; session: string; timeoutMs: number; time: number }
  | { type: 'close-session'; session: string; time: number }
  /** proposed by the leader for sessions silent past their timeout */
  | { type: 'expire-sessions'; sessions: string[]; time: number }
  /**
   * A client write. `seq` numbers the session's writes; `ackedBelow`: the client
   * holds every result with seq < ackedBelow, so the dedup table may forget them.
   * `multi: false` carries exactly one op.
   */
  | { type: 'txn'; session: string; seq: number; ackedBelow: number; multi: boolean; ops: TxnOp[]; time: number }
  /** leader: delete expired TTL nodes and empty containers, each only if it still qualifies */
  | { type: 'reap'; nodes: { path: string; czxid: number }[]; time: number }
  | { type: 'noop'; time: number }

/** A change to the tree, in ZooKeeper's watch vocabulary. Every event of one entry carries its zxid. */
export interface ChangeEvent {
  type: 'created' | 'deleted' | 'data' | 'children'
  path: string
  zxid: number
}

/** What applying one committed entry did. */
export interface ApplyOutcome {
  /** read-only: a txn's result is the very object kept in the dedup table (replicated state) */
  result: TxnResult
  /** changes in the order they happened (all share the entry's zxid) */
  events: ChangeEvent[]
  /** a retried txn: the result is replayed from the dedup table and nothing changed */
  deduped: boolean
}

/** A session as the tree knows it. */
export interface SessionInfo {
  id: string
  timeoutMs: number
  /** paths of the ephemeral nodes it owns, sorted */
  ephemerals: string[]
}

/** Options of a tree; every replica must use the same. */
export interface TreeOptions {
  /** largest data of one znode, bytes; default 1 MiB (ZooKeeper's jute.maxbuffer) */
  maxDataBytes?: number
  /** planted bug (tests only): the linearizability workload must catch it; never set in production */
  bugs?: TreeBugs
}

/** planted bugs (tests only): each breaks a guarantee on purpose so a checker can prove it notices */
export interface TreeBugs {
  /** planted bug (tests only): a retried txn (same session and seq) runs again instead of replaying its recorded result */
  applyRetriesTwice?: boolean
}
