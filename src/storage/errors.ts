// StorageError: the one error the storage layer raises. Its `code` is always
// 'STORAGE' (a MeshError code, so `toMeshError` passes it through); `reason`
// says what went wrong and `cause` keeps the platform error untouched (idb's
// lesson: pass platform errors through, do not rename them into mush).

/** Why a storage failed. Every reason except INVALID_BATCH leaves the storage
 *  failed for good: further saves reject, so a member never builds on a state
 *  it could not persist. */
export type StorageFailureReason =
  /** the browser refused the write: out of disk quota */
  | 'QUOTA_EXCEEDED'
  /** a transaction aborted (the platform error is the cause) */
  | 'ABORTED'
  /** the browser closed the connection (storage cleared, disk gone) */
  | 'CONNECTION_LOST'
  /** a newer schema version wants the database (this connection gave way), or
   *  the database on disk is already newer than this code */
  | 'VERSION_CHANGE'
  /** opening waited too long for older connections to close */
  | 'BLOCKED'
  /** what is on disk breaks an invariant (e.g. Raft state without meta) */
  | 'CORRUPT'
  /** the caller passed a batch that breaks the contract (not a disk failure) */
  | 'INVALID_BATCH'
  /** the storage was closed or destroyed by its owner */
  | 'CLOSED'
  /** the persist hook of a memory storage rejected (simulated disk failure) */
  | 'FAILED'

export class StorageError extends Error {
  readonly code = 'STORAGE' as const
  readonly reason: StorageFailureReason
  /** which member slot (room/member) failed, for the app's diagnostics */
  readonly slot: string

  constructor(reason: StorageFailureReason, slot: string, message: string, cause?: unknown) {
    super(`${reason}: ${message} (${slot})`, cause === undefined ? undefined : { cause })
    this.name = 'StorageError'
    this.reason = reason
    this.slot = slot
  }
}

/** A listener for the failure that ends a storage's life. */
export type StorageFailureListener = (err: StorageError) => void

/** Map a platform error from IndexedDB (a DOMException, usually) to a reason;
 *  `fallback` for errors that name none we know. (InvalidStateError is not
 *  mapped: it means a closed connection only when the connection is known to
 *  be gone, which the caller knows and this function does not.) */
export function reasonOfPlatformError(err: unknown, fallback: StorageFailureReason = 'ABORTED'): StorageFailureReason {
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined
  if (name === 'QuotaExceededError') return 'QUOTA_EXCEEDED'
  if (name === 'AbortError') return 'ABORTED'
  // the database on disk has a newer schema than this code (an older tab after an update)
  if (name === 'VersionError') return 'VERSION_CHANGE'
  return fallback
}

/** Keeps the failure listeners of one storage and fires them at most once. */
export class FailureLatch {
  private failure: StorageError | null = null
  private readonly listeners = new Set<StorageFailureListener>()

  /** the failure that ended this storage, or null while it works */
  get error(): StorageError | null {
    return this.failure
  }

  on(fn: StorageFailureListener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Record the first failure and tell every listener; later calls are ignored.
   *  A listener that throws must not keep the others from hearing. */
  fail(err: StorageError, notify = true): StorageError {
    if (this.failure !== null) return this.failure
    this.failure = err
    if (notify) {
      for (const fn of [...this.listeners]) {
        try {
          fn(err)
        } catch (listenerErr) {
          queueMicrotask(() => {
            throw listenerErr
          })
        }
      }
    }
    this.listeners.clear()
    return err
  }

  /** throw the recorded failure or closing, if any: for operations being issued */
  check(): void {
    if (this.failure !== null) throw this.failure
  }

  /** throw the recorded failure, ignoring a close: for operations issued
   *  before the close, which still complete */
  checkFailed(): void {
    if (this.failure !== null && this.failure.reason !== 'CLOSED') throw this.failure
  }
}
