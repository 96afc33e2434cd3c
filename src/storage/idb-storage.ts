// IndexedDbStorage: one member slot, in a database of its own, listed in its
// room's index (idb-schema.ts).
//
// The idb trap: a transaction commits as soon as the event loop finds it with
// no pending request, so awaiting anything that is not one of its requests
// (a timer, a fetch, another transaction) in the middle closes it. `write`
// therefore queues every request of a batch synchronously, then awaits only
// the transaction's completion (`tx.done`): the batch is one transaction, all
// or nothing. Its writes go on the native object stores, with no promise per
// request (idb-raw.ts): a failed request fails the transaction, and tx.done
// rejects with the transaction's error.
//
// What a save costs: its transaction spans only the stores the batch touches
// (storesOf), a plain append puts its entries without a range delete (only a
// conflicting suffix is deleted, log-rules truncatesStored), and saves made
// while one is on the disk are merged into one transaction (group-commit.ts).
// Durability stays what the provider was given ('strict' by default) for every
// transaction, so each acknowledged save is on the disk.
//
// A save with meta also writes the meta into the room's index, in a
// transaction of the room database alongside the slot's, and resolves once
// both are durable. The two are not atomic: the slot's own copy (written with
// its Raft state) is the truth; the index only says which slots to list. A
// crash between them leaves either an index entry whose slot holds nothing (it
// loads as a fresh slot, and an opening slot copies the meta over, as from
// schema 1) or a slot not listed (unused: its member never ran).
//
// Failures end a storage for good (FailureLatch), whichever of its two
// connections they come from.
import { deleteDB } from 'idb'
import type { MemberRecord, SaveBatch, Storage } from './types'
import { FailureLatch, StorageError, reasonOfPlatformError, type StorageFailureListener } from './errors'
import { GroupCommit } from './group-commit'
import type { Connection } from './idb-connections'
import { EMPTY_SLOT, forget, isEmpty, moveLegacySlot, readSlot, type StoredSlot } from './idb-legacy'
import { ALL_STORES, memberRange, slotDatabaseName, storesOf } from './idb-schema'
import { abortQuietly, rawStore } from './idb-raw'
import { contiguousAfter, entriesToStore, lastStoredAfter, snapshotIndexAfter, truncatesStored } from './log-rules'
import { encodeRun, StoredRuns } from './log-runs'

export class IndexedDbStorage implements Storage {
  readonly slotName: string
  private readonly latch = new FailureLatch()
  /** an upper bound of the last entry index stored once the saves written so
   *  far complete (read from the disk at init) */
  private lastStored = 0
  /** the snapshot index once the saves written so far complete: entries at or
   *  below it are dropped from a later batch */
  private writtenSnapshotIndex = 0
  /** the log records once the saves written so far complete (log-runs.ts) */
  private runs = new StoredRuns([])
  private released = false
  /** the slot as init read it, until the first load or anything else issued on the slot */
  private opened: StoredSlot | null = null
  private readonly queue: GroupCommit

  constructor(
    readonly room: string,
    readonly member: string,
    /** the slot's own database */
    private readonly conn: Connection,
    /** the room's database: its index of slots, and schema 1's state */
    private readonly roomConn: Connection,
    private readonly durability: 'strict' | 'relaxed',
    private readonly releaseConnections: () => void,
  ) {
    this.slotName = `${room}/${member}`
    this.queue = new GroupCommit({ latch: this.latch, member, slotName: this.slotName }, (batch) => this.write(batch))
  }

  /** Move a slot of schema 1 out of the room database (idb-legacy.ts), and
   *  read the slot: what a save needs to know up front (the stored snapshot
   *  index, the last stored entry index) and what the first load answers.
   *  The slot's and the room's reads are one transaction each, side by side;
   *  a slot database this open just created is known empty and not read. */
  async init(slotCreated = false): Promise<void> {
    await this.issue(async () => {
      const [first, inRoom] = await Promise.all([slotCreated ? EMPTY_SLOT : readSlot(this.conn.db, this.member), readSlot(this.roomConn.db, this.member)])
      let slot = first
      // (the usual case, a slot of schema 2, finds only its meta in the room: nothing to do)
      if (await moveLegacySlot(this.roomConn.db, this.conn.db, this.member, isEmpty(slot), inRoom, this.durability)) slot = await readSlot(this.conn.db, this.member)
      this.writtenSnapshotIndex = slot.snapshot?.meta.index ?? 0
      this.queue.startAt(this.writtenSnapshotIndex)
      // the slot's log is read in key order: its last entry has the highest index
      this.lastStored = slot.entries.at(-1)?.index ?? 0
      this.runs = new StoredRuns(slot.runs)
      this.opened = slot
    }, 'opening the slot failed')
  }

  onFailure(fn: StorageFailureListener): () => void {
    return this.latch.on(fn)
  }

  fail(err: StorageError): StorageError {
    return this.latch.fail(err)
  }

  load(): Promise<MemberRecord | null> {
    // the first load answers what init read, unless anything was issued since
    // (only the tab holding the member's Web Lock opens its slot, invariant 4:
    // nobody else writes it meanwhile); later loads read the slot
    const opened = this.opened
    this.opened = null
    return this.issue(async () => {
      const { meta, hardState, snapshot, entries } = opened ?? (await readSlot(this.conn.db, this.member))
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
    this.opened = null
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
      const tx = this.conn.db.transaction(stores, 'readwrite', { durability: batch.sync === false ? 'relaxed' : this.durability })
      try {
        const m = this.member
        if (batch.meta !== undefined) rawStore(tx, 'members').put(batch.meta, m)
        if (batch.hardState !== undefined) rawStore(tx, 'hardStates').put(batch.hardState, m)
        if (batch.snapshot !== undefined) rawStore(tx, 'snapshots').put(batch.snapshot, m)
        const entries = batch.entries ?? []
        if (batch.snapshot !== undefined || entries.length > 0) {
          const log = rawStore(tx, 'entries')
          // overwrite a conflicting suffix: nothing stored at or after the first new index survives
          if (entries.length > 0) this.runs.cut(entries[0]!.index)
          if (truncate) log.delete(memberRange(m, entries[0]!.index))
          // the records a snapshot leaves nothing live in (log-runs.ts)
          if (batch.snapshot !== undefined) log.delete(memberRange(m, -Infinity, this.runs.dropThrough(snapIndex), true))
          // entries at or below the slot's snapshot (stored, or this batch's)
          // are dropped; the rest go as ONE record (log-runs.ts: why)
          const kept = entriesToStore(batch, snapIndex)
          if (kept.length > 0) {
            log.put(encodeRun(kept), [m, kept[0]!.index])
            this.runs.add(kept[0]!.index, kept[kept.length - 1]!.index)
          }
        }
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
        abortQuietly(tx)
        throw err
      }
      // the room's index lists the slot (in parallel: a database of its own)
      const listed = batch.meta === undefined ? null : this.index(batch.meta)
      try {
        // a failed request fails the transaction: tx.done rejects with its error (idb-raw.ts)
        await tx.done
      } catch (err) {
        void listed?.catch(() => undefined)
        throw err
      }
      await listed
    } catch (err) {
      throw this.failWith(err, 'saving failed')
    }
  }

  /** Write the meta into the room's index of slots. */
  private async index(meta: NonNullable<SaveBatch['meta']>): Promise<void> {
    const tx = this.roomConn.db.transaction('members', 'readwrite', { durability: this.durability })
    try {
      rawStore(tx, 'members').put(meta, this.member)
      tx.commit()
    } catch (err) {
      abortQuietly(tx)
      throw err
    }
    await tx.done
  }

  /** Unlist the slot first, then empty its database: a crash in between
   *  leaves a slot nobody lists, never a listed slot brought back empty. Once
   *  the storage is closed its database is deleted too (a retired member would
   *  leave an empty one behind for ever), without waiting on anyone: see
   *  deleteSlotDatabase. */
  destroy(): Promise<void> {
    this.opened = null
    return this.issue(async () => {
      const m = this.member
      // with schema 1's state too, should a move have been cut short
      await forget(this.roomConn.db, m, this.durability, true)
      const tx = this.conn.db.transaction(ALL_STORES, 'readwrite', { durability: this.durability })
      await Promise.all([...ALL_STORES.map((name) => tx.objectStore(name).clear()), tx.done])
      this.latch.fail(new StorageError('CLOSED', this.slotName, 'the member slot was destroyed'), false)
    }, 'destroying the slot failed')
      .then(() => this.close())
      .then(() => deleteSlotDatabase(slotDatabaseName(this.room, this.member)))
  }

  async close(): Promise<void> {
    this.opened = null
    this.latch.fail(new StorageError('CLOSED', this.slotName, 'the storage is closed'), false)
    // operations already issued complete before the connection closes
    await this.queue.settled()
    if (this.released) return
    this.released = true
    this.conn.storages.delete(this)
    this.roomConn.storages.delete(this)
    this.releaseConnections()
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
    const reason = this.conn.dead || this.roomConn.dead ? (this.latch.error?.reason ?? 'CONNECTION_LOST') : reasonOfPlatformError(err)
    return this.latch.fail(new StorageError(reason, this.slotName, what, err))
  }
}

/**
 * Delete a destroyed slot's database (already emptied and unlisted), waiting
 * for the delete to succeed, fail or be blocked, never longer. Blocked:
 * another connection to it is open (ours close when they hear the delete:
 * idb-connections.ts gives way with CONNECTION_LOST). The browser keeps the
 * request and deletes the database once the last of them closes; an open of
 * the same database meanwhile (a diverged member reopening its slot) is queued
 * behind the delete and finds a fresh database. A failed delete leaves the
 * empty database as it was; the slot is gone either way, so neither fails
 * destroy.
 */
function deleteSlotDatabase(name: string): Promise<void> {
  return new Promise<void>((resolve) => {
    deleteDB(name, { blocked: () => resolve() }).then(resolve, () => resolve())
  })
}
