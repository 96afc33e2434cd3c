// IndexedDbStorage: one member slot in its room's database (idb-schema.ts).
//
// The idb trap: a transaction commits as soon as the event loop finds it with
// no pending request, so awaiting anything that is not one of its requests
// (a timer, a fetch, another transaction) in the middle closes it. `write`
// therefore queues every request of a batch synchronously, then awaits them
// all together with `tx.done`: the batch is one transaction, all or nothing.
//
// What a save costs: its transaction spans only the stores the batch touches
// (storesOf), a plain append puts its entries without a range delete (only a
// conflicting suffix is deleted, log-rules truncatesStored), and saves made
// while one is on the disk are merged into one transaction (group-commit.ts).
// Durability stays what the provider was given ('strict' by default) for every
// transaction, so each acknowledged save is on the disk.
//
// Failures end a storage for good (FailureLatch).
import type { IDBPTransaction } from 'idb'
import type { MemberRecord, SaveBatch, Storage } from './types'
import { FailureLatch, StorageError, reasonOfPlatformError, type StorageFailureListener } from './errors'
import { GroupCommit } from './group-commit'
import type { Connection } from './idb-connections'
import { ALL_STORES, memberRange, storesOf, type MeshkeeperDb, type StoreName } from './idb-schema'
import { contiguousAfter, lastStoredAfter, snapshotIndexAfter, truncatesStored } from './log-rules'

type ReadWriteTx = IDBPTransaction<MeshkeeperDb, StoreName[], 'readwrite'>

export class IndexedDbStorage implements Storage {
  private readonly slotName: string
  private readonly latch = new FailureLatch()
  /** an upper bound of the last entry index stored once the saves written so
   *  far complete (read from the disk at init) */
  private lastStored = 0
  /** the snapshot index once the saves written so far complete: entries at or
   *  below it are dropped from a later batch */
  private writtenSnapshotIndex = 0
  private released = false
  private readonly queue: GroupCommit

  constructor(
    readonly room: string,
    readonly member: string,
    private readonly conn: Connection,
    private readonly durability: 'strict' | 'relaxed',
    private readonly releaseConnection: () => void,
  ) {
    this.slotName = `${room}/${member}`
    this.queue = new GroupCommit({ latch: this.latch, member, slotName: this.slotName }, (batch) => this.write(batch))
  }

  /** Read what a save needs to know up front: the stored snapshot index and
   *  the last stored entry index (the highest key of the slot's log). */
  async init(): Promise<void> {
    await this.issue(async () => {
      const tx = this.conn.db.transaction(['snapshots', 'entries'], 'readonly')
      const [snap, cursor] = await Promise.all([
        tx.objectStore('snapshots').get(this.member),
        tx.objectStore('entries').openKeyCursor(memberRange(this.member, -Infinity), 'prev'),
      ])
      this.writtenSnapshotIndex = snap?.meta.index ?? 0
      this.queue.startAt(this.writtenSnapshotIndex)
      this.lastStored = cursor === null ? 0 : cursor.key[1]
      await tx.done
    }, 'reading the snapshot failed')
  }

  onFailure(fn: StorageFailureListener): () => void {
    return this.latch.on(fn)
  }

  fail(err: StorageError): StorageError {
    return this.latch.fail(err)
  }

  load(): Promise<MemberRecord | null> {
    return this.issue(async () => {
      const tx = this.conn.db.transaction(ALL_STORES, 'readonly')
      const [meta, hardState, snapshot, entries] = await Promise.all([
        tx.objectStore('members').get(this.member),
        tx.objectStore('hardStates').get(this.member),
        tx.objectStore('snapshots').get(this.member),
        tx.objectStore('entries').getAll(memberRange(this.member, -Infinity)),
        tx.done,
      ])
      if (meta === undefined) {
        if (hardState === undefined && snapshot === undefined && entries.length === 0) return null
        throw this.latch.fail(new StorageError('CORRUPT', this.slotName, 'Raft state without member meta'))
      }
      return {
        meta,
        durable: {
          hardState: hardState ?? { term: 0, vote: null, commit: 0 },
          snapshot: snapshot ?? null,
          entries: contiguousAfter(entries, snapshot ?? null),
        },
      }
    }, 'loading failed')
  }

  save(batch: SaveBatch): Promise<void> {
    return this.queue.save(batch)
  }

  /** One readwrite transaction over the stores the (merged) batch touches;
   *  every request is queued before the first await. */
  private async write(batch: SaveBatch): Promise<void> {
    this.latch.checkFailed()
    const stores = storesOf(batch)
    if (stores.length === 0) return
    const snapIndex = snapshotIndexAfter(batch, this.writtenSnapshotIndex)
    this.writtenSnapshotIndex = snapIndex
    const truncate = truncatesStored(batch, this.lastStored)
    this.lastStored = lastStoredAfter(batch, this.lastStored)
    try {
      // a commit-index-only batch (sync: false) need not wait for the disk
      const tx: ReadWriteTx = this.conn.db.transaction(stores, 'readwrite', { durability: batch.sync === false ? 'relaxed' : this.durability })
      const requests: Promise<unknown>[] = []
      try {
        const m = this.member
        if (batch.meta !== undefined) requests.push(tx.objectStore('members').put(batch.meta, m))
        if (batch.hardState !== undefined) requests.push(tx.objectStore('hardStates').put(batch.hardState, m))
        if (batch.snapshot !== undefined) {
          requests.push(tx.objectStore('snapshots').put(batch.snapshot, m))
          requests.push(tx.objectStore('entries').delete(memberRange(m, -Infinity, snapIndex)))
        }
        const entries = batch.entries ?? []
        // overwrite a conflicting suffix: nothing stored at or after the first new index survives
        if (truncate) requests.push(tx.objectStore('entries').delete(memberRange(m, entries[0]!.index)))
        // entries at or below the slot's snapshot (stored, or this batch's) are dropped
        for (const e of entries) if (e.index > snapIndex) requests.push(tx.objectStore('entries').put(e, [m, e.index]))
        // Commit now, not once this page has run every request's callback
        // (IndexedDB's auto-commit): every tab of a room writes one database,
        // and a readwrite transaction waits for any earlier one over the same
        // stores, so a page that runs no more tasks (being closed, after
        // pagehide) held the other tabs' saves back until it was torn down.
        // Bench, flight records: after a close the successor's MsgVote (sent
        // once its vote is saved) went out only as the closed tab's Web Lock
        // was freed, 50-250 ms after the hand-off reached it.
        tx.commit()
      } catch (err) {
        // a request threw synchronously (quota, clone error): undo the queued ones
        abortQuietly(tx, requests)
        throw err
      }
      try {
        await Promise.all([...requests, tx.done])
      } catch (err) {
        throw tx.error ?? err
      }
    } catch (err) {
      throw this.failWith(err, 'saving failed')
    }
  }

  destroy(): Promise<void> {
    return this.issue(async () => {
      const tx = this.conn.db.transaction(ALL_STORES, 'readwrite', { durability: this.durability })
      const m = this.member
      await Promise.all([
        tx.objectStore('members').delete(m),
        tx.objectStore('hardStates').delete(m),
        tx.objectStore('snapshots').delete(m),
        tx.objectStore('entries').delete(memberRange(m, -Infinity)),
        tx.done,
      ])
      this.latch.fail(new StorageError('CLOSED', this.slotName, 'the member slot was destroyed'), false)
    }, 'destroying the slot failed').then(() => this.close())
  }

  async close(): Promise<void> {
    this.latch.fail(new StorageError('CLOSED', this.slotName, 'the storage is closed'), false)
    // operations already issued complete before the connection closes
    await this.queue.settled()
    if (this.released) return
    this.released = true
    this.conn.storages.delete(this)
    this.releaseConnection()
  }

  /** Queue an operation on a working storage, after every save before it (a
   *  load sees them); any failure becomes a StorageError and ends the storage
   *  (closing or destroying it is not a failure). */
  private issue<T>(op: () => Promise<T>, what: string): Promise<T> {
    try {
      this.latch.check()
    } catch (err) {
      return Promise.reject(err)
    }
    return this.queue.run(async () => {
      this.latch.checkFailed()
      try {
        return await op()
      } catch (err) {
        throw this.failWith(err, what)
      }
    })
  }

  private failWith(err: unknown, what: string): StorageError {
    if (err instanceof StorageError) return err
    const reason = this.conn.dead ? (this.latch.error?.reason ?? 'CONNECTION_LOST') : reasonOfPlatformError(err)
    return this.latch.fail(new StorageError(reason, this.slotName, what, err))
  }
}

function abortQuietly(tx: ReadWriteTx, requests: Promise<unknown>[]): void {
  void Promise.allSettled([...requests, tx.done])
  try {
    tx.abort()
  } catch {
    // already finished or aborted by the platform: nothing was committed either way
  }
}
