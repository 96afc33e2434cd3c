// GroupCommit: the operation queue of one storage, with group commit.
//
// Operations (saves, loads, destroy) run one after another in call order, as
// the transactions of one IndexedDB connection over the same stores do. A save
// does not get a transaction of its own when it can be merged: every save made
// while the queue is busy (a transaction on the disk, or just issued in this
// turn) joins the newest waiting group if mergeBatches allows, and the whole
// group is written in ONE transaction when its turn comes. Each save's promise
// settles with its group's transaction, so an acknowledged save is as durable
// as before (invariant 2): merging changes how many commits reach the disk,
// never what is durable when a promise resolves.
//
// A load or destroy closes the waiting group: a save made after it must not be
// written before it.
//
// `save` is also the front end every storage shares: it refuses a batch on a
// failed or closed storage, validates it against the snapshot index queued so
// far, and copies it (the caller may reuse its arrays as soon as save returns,
// and the write may come later, merged with the saves behind it).
import type { SaveBatch } from './types'
import type { FailureLatch } from './errors'
import { copyBatch, mergeBatches, snapshotIndexAfter, validateBatch } from './log-rules'

/** What the front end checks a batch against. */
export interface SaveSlot {
  readonly latch: FailureLatch
  readonly member: string
  /** `room/member`, for errors */
  readonly slotName: string
}

interface Group {
  batch: SaveBatch
  done: Promise<void>
}

export class GroupCommit {
  private tail: Promise<unknown> = Promise.resolve()
  /** the newest group not yet handed to `write`; saves merge into it */
  private waiting: Group | null = null

  /** the snapshot index as of the last save queued (not yet written): a save
   *  that fails fails the storage (the latch), so building on it is safe */
  private queuedSnapshotIndex = 0

  /** @param write makes one (merged) batch durable, all or nothing */
  constructor(
    private readonly slot: SaveSlot,
    private readonly write: (batch: SaveBatch) => Promise<void>,
  ) {}

  /** The snapshot index on the disk when the storage opened. */
  startAt(snapshotIndex: number): void {
    this.queuedSnapshotIndex = snapshotIndex
  }

  /** Check, copy and queue a save. */
  save(batch: SaveBatch): Promise<void> {
    const { latch, member, slotName } = this.slot
    try {
      latch.check()
      validateBatch(batch, member, this.queuedSnapshotIndex, slotName)
    } catch (err) {
      return Promise.reject(err)
    }
    const copy = copyBatch(batch)
    this.queuedSnapshotIndex = snapshotIndexAfter(copy, this.queuedSnapshotIndex)
    return this.enqueue(copy)
  }

  /** Queue a private copy: the group may merge into it. */
  private enqueue(batch: SaveBatch): Promise<void> {
    const open = this.waiting
    if (open !== null) {
      const merged = mergeBatches(open.batch, batch)
      if (merged !== null) {
        open.batch = merged
        return open.done
      }
    }
    const group: Group = { batch, done: Promise.resolve() }
    group.done = this.chain(() => {
      // from here on the group is the one being written: later saves start another
      if (this.waiting === group) this.waiting = null
      return this.write(group.batch)
    })
    this.waiting = group
    return group.done
  }

  /** Queue any other operation, after every save made before it. */
  run<T>(op: () => Promise<T>): Promise<T> {
    this.waiting = null
    return this.chain(op)
  }

  /** Settles when everything queued so far has (successfully or not). */
  settled(): Promise<void> {
    return this.tail.then(() => undefined)
  }

  private chain<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op)
    this.tail = result.catch(() => undefined)
    return result
  }
}
