// The Storage contract: what a member keeps on disk. Implementations:
// IndexedDB (idb) for browsers, memory for tests and the simulator. Every
// implementation passes the shared acceptance suite in test/storage.
//
// Invariant 2 (persist before send) rests on `save`: when its promise
// resolves, everything in the batch is durable (per `durability`, unless the
// batch says `sync: false`), and a batch is all-or-nothing — one transaction.
// The saves of one storage take effect in the order they were called, so the
// driver may issue the next save before the last one resolved (pipelining).
import type { DurableState, Entry, HardState, Snapshot } from '../raft/types'
import type { StorageFailureListener } from './errors'

/** Facts about a member slot that are not Raft state. */
export interface MemberMeta {
  /** the member id (also the slot's key) */
  member: string
  /** the cluster this member belongs to, born with the cluster's first member */
  clusterId: string
  /** creation time (ms since epoch), for the app's diagnostics only */
  createdAt: number
}

export interface MemberRecord {
  meta: MemberMeta
  durable: DurableState
}

/** One ready batch, written in one transaction. */
export interface SaveBatch {
  /** false: the batch need not be durable when the save resolves — a Ready
   *  whose only change is the commit index (not `mustSync`; etcd does not
   *  fsync it either: a lost commit index is learnt again from the leader).
   *  IndexedDB then commits with durability 'relaxed'. Absent or true: durable
   *  per the storage's `durability`. Saves still take effect in call order. */
  sync?: boolean
  hardState?: HardState
  /** appended after truncating any stored entries with index >= entries[0].index */
  entries?: Entry[]
  /** a snapshot to store; entries with index <= snapshot.meta.index are dropped */
  snapshot?: Snapshot
  /** set once, when the slot is created or joins a cluster */
  meta?: MemberMeta
}

export interface Storage {
  /** what is stored for this member, or null for a fresh slot */
  load(): Promise<MemberRecord | null>
  /** all-or-nothing; rejects with a StorageError (code STORAGE) on failure.
   *  After any failure every later save rejects too: no silent partial state. */
  save(batch: SaveBatch): Promise<void>
  /** Hear the failure that ends this storage (quota, connection closed by the
   *  browser, aborted transaction, schema upgrade elsewhere) even when no save
   *  is in flight, so the node can raise `error` STORAGE and stop voting.
   *  Fires at most once; not on close() or destroy(). Returns an unsubscribe.
   *  Optional so that wrappers (the simulator's disk) may leave it out. */
  onFailure?(fn: StorageFailureListener): () => void
  /** forget this member's slot entirely (a retired member) */
  destroy(): Promise<void>
  close(): Promise<void>
}

/** The member slots of one room in one browser (one IndexedDB database). A
 *  surviving tab lists them to take over a dead tab's member. */
export interface StorageProvider {
  listMembers(room: string): Promise<MemberMeta[]>
  open(room: string, member: string): Promise<Storage>
}
