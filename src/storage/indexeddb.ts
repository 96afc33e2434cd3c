// IndexedDbStorageProvider: member slots in IndexedDB, through idb.
//
// Layout: one database per room ("meshkeeper:<room>"), shared by every member
// slot of that room in this browser profile, with four object stores keyed by
// member id (out-of-line keys):
//   members    member            -> MemberMeta
//   hardStates member            -> HardState
//   snapshots  member            -> Snapshot
//   entries    [member, index]   -> Entry
// so one member's log is the key range [member, -Inf]..[member, +Inf], and a
// slot is isolated from its neighbours by its key prefix.
//
// The idb trap: a transaction commits as soon as the event loop finds it with
// no pending request, so awaiting anything that is not one of its requests
// (a timer, a fetch, another transaction) in the middle closes it. `save`
// therefore queues every request of a batch synchronously, then awaits them
// all together with `tx.done`: the batch is one transaction, all or nothing.
//
// Failures end a storage for good (FailureLatch): a rejected save, the browser
// closing the connection (idb `terminated`), or a newer schema in another tab
// (`blocking`, we close and give way). The node hears it through onFailure and
// stops voting rather than vouch for state it could not write.
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb'
import type { Entry, HardState, Snapshot } from '../raft/types'
import type { MemberMeta, MemberRecord, SaveBatch, Storage, StorageProvider } from './types'
import { FailureLatch, StorageError, reasonOfPlatformError, type StorageFailureListener, type StorageFailureReason } from './errors'
import { contiguousAfter, copyEntry, copySnapshot, snapshotIndexAfter, validateBatch } from './log-rules'

/** Bump together with a new branch in `upgrade`. */
export const SCHEMA_VERSION = 1

export interface MeshkeeperDb extends DBSchema {
  members: { key: string; value: MemberMeta }
  hardStates: { key: string; value: HardState }
  snapshots: { key: string; value: Snapshot }
  entries: { key: [string, number]; value: Entry }
}

type StoreName = StoreNames<MeshkeeperDb>
const ALL_STORES: StoreName[] = ['members', 'hardStates', 'snapshots', 'entries']

export interface IndexedDbStorageOptions {
  /** IndexedDB commit durability: 'strict' waits for the disk (default),
   *  'relaxed' for the OS buffers (faster; a power cut may lose the tail). */
  durability?: 'strict' | 'relaxed'
  /** how long opening waits for older connections (another tab on an older
   *  schema) to give way before it fails with BLOCKED; default 10 s */
  blockedTimeoutMs?: number
}

/** The database name of a room. */
export function databaseName(room: string): string {
  return `meshkeeper:${room}`
}

/** One open connection to a room's database, shared by its storages. */
interface Connection {
  db: IDBPDatabase<MeshkeeperDb>
  /** storages and listMembers calls using it; closed when this reaches zero */
  refs: number
  storages: Set<IndexedDbStorage>
  /** set once the connection is gone (closed by us or by the browser) */
  dead: boolean
}

export class IndexedDbStorageProvider implements StorageProvider {
  private readonly durability: 'strict' | 'relaxed'
  private readonly blockedTimeoutMs: number
  /** room -> connection being opened or open (per instance: no module state) */
  private readonly connections = new Map<string, Promise<Connection>>()

  constructor(options: IndexedDbStorageOptions = {}) {
    this.durability = options.durability ?? 'strict'
    this.blockedTimeoutMs = options.blockedTimeoutMs ?? 10_000
  }

  async listMembers(room: string): Promise<MemberMeta[]> {
    const conn = await this.acquire(room)
    try {
      const metas = await conn.db.getAll('members')
      return metas.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
    } catch (err) {
      throw new StorageError(reasonOfPlatformError(err), databaseName(room), 'listing members failed', err)
    } finally {
      this.release(room, conn)
    }
  }

  async open(room: string, member: string): Promise<Storage> {
    const conn = await this.acquire(room)
    const storage = new IndexedDbStorage(room, member, conn, this.durability, () => this.release(room, conn))
    conn.storages.add(storage)
    try {
      await storage.init()
    } catch (err) {
      await storage.close()
      throw err
    }
    return storage
  }

  /** The room's connection, opened on first use; counts one more user. A
   *  connection that died (closed by its last user, or by the browser) while
   *  still in the map is replaced, never handed out. */
  private async acquire(room: string): Promise<Connection> {
    for (;;) {
      let pending = this.connections.get(room)
      if (pending === undefined) {
        const opening = this.connect(room)
        pending = opening
        this.connections.set(room, opening)
        opening.catch(() => {
          if (this.connections.get(room) === opening) this.connections.delete(room)
        })
      }
      const conn = await pending
      if (!conn.dead) {
        conn.refs++
        return conn
      }
      if (this.connections.get(room) === pending) this.connections.delete(room)
    }
  }

  private release(room: string, conn: Connection): void {
    conn.refs--
    if (conn.refs > 0) return
    this.forget(room, conn)
    if (!conn.dead) {
      conn.dead = true
      conn.db.close()
    }
  }

  /** Drop a connection that is going away from the map (acquire would skip it anyway). */
  private forget(room: string, conn: Connection): void {
    const current = this.connections.get(room)
    if (current === undefined) return
    void current.then(
      (c) => {
        if (c === conn && this.connections.get(room) === current) this.connections.delete(room)
      },
      () => undefined,
    )
  }

  /** The connection's end, not chosen by us: every storage on it fails. */
  private lose(room: string, conn: Connection, reason: StorageFailureReason, message: string): void {
    if (conn.dead) return
    conn.dead = true
    this.forget(room, conn)
    // giving way to another connection's upgrade or delete: close ours so it is not blocked
    if (reason === 'VERSION_CHANGE' || reason === 'CONNECTION_LOST') conn.db.close()
    for (const s of conn.storages) s.fail(new StorageError(reason, `${room}/${s.member}`, message))
  }

  private connect(room: string): Promise<Connection> {
    const name = databaseName(room)
    let conn: Connection | null = null
    let gaveUp = false
    let blockedTimer: ReturnType<typeof setTimeout> | undefined
    return new Promise<Connection>((resolve, reject) => {
      openDB<MeshkeeperDb>(name, SCHEMA_VERSION, {
        upgrade(db, oldVersion) {
          // one branch per version step; each must work from the one before
          if (oldVersion < 1) {
            db.createObjectStore('members')
            db.createObjectStore('hardStates')
            db.createObjectStore('snapshots')
            db.createObjectStore('entries')
          }
        },
        blocked: () => {
          // older connections (another tab on an older schema) hold the
          // database; they close when they hear `blocking`. Wait, but not forever.
          blockedTimer ??= setTimeout(() => {
            gaveUp = true
            reject(new StorageError('BLOCKED', name, `other connections did not close within ${this.blockedTimeoutMs} ms`))
          }, this.blockedTimeoutMs)
        },
        blocking: (_current, next) => {
          if (conn === null) return
          // next === null: another tab deletes the database (e.g. a reset); give way too
          if (next === null) this.lose(room, conn, 'CONNECTION_LOST', 'the database is being deleted elsewhere')
          else this.lose(room, conn, 'VERSION_CHANGE', `schema version ${next} opened the database elsewhere`)
        },
        terminated: () => {
          if (conn !== null) this.lose(room, conn, 'CONNECTION_LOST', 'the browser closed the database connection')
        },
      }).then(
        (db) => {
          clearTimeout(blockedTimer)
          if (gaveUp) {
            db.close()
            return
          }
          conn = { db, refs: 0, storages: new Set(), dead: false }
          resolve(conn)
        },
        (err: unknown) => {
          clearTimeout(blockedTimer)
          reject(err instanceof StorageError ? err : new StorageError(reasonOfPlatformError(err), name, 'opening the database failed', err))
        },
      )
    })
  }
}

type ReadWriteTx = IDBPTransaction<MeshkeeperDb, StoreName[], 'readwrite'>

class IndexedDbStorage implements Storage {
  private readonly slotName: string
  private readonly latch = new FailureLatch()
  /** the snapshot index as of the last save issued (not yet completed): a save
   *  that fails fails the storage, so building on it is safe */
  private issuedSnapshotIndex = 0
  private released = false
  private inFlight = new Set<Promise<unknown>>()

  constructor(
    readonly room: string,
    readonly member: string,
    private readonly conn: Connection,
    private readonly durability: 'strict' | 'relaxed',
    private readonly releaseConnection: () => void,
  ) {
    this.slotName = `${room}/${member}`
  }

  /** Read what a save needs to know up front: the stored snapshot index. */
  async init(): Promise<void> {
    const snap = await this.run(() => this.conn.db.get('snapshots', this.member), 'reading the snapshot failed')
    this.issuedSnapshotIndex = snap?.meta.index ?? 0
  }

  onFailure(fn: StorageFailureListener): () => void {
    return this.latch.on(fn)
  }

  fail(err: StorageError): StorageError {
    return this.latch.fail(err)
  }

  load(): Promise<MemberRecord | null> {
    return this.run(async () => {
      const tx = this.conn.db.transaction(ALL_STORES, 'readonly')
      const range = memberRange(this.member, -Infinity)
      const [meta, hardState, snapshot, entries] = await Promise.all([
        tx.objectStore('members').get(this.member),
        tx.objectStore('hardStates').get(this.member),
        tx.objectStore('snapshots').get(this.member),
        tx.objectStore('entries').getAll(range),
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
    try {
      this.latch.check()
      validateBatch(batch, this.member, this.issuedSnapshotIndex, this.slotName)
    } catch (err) {
      return Promise.reject(err)
    }
    const snapIndex = snapshotIndexAfter(batch, this.issuedSnapshotIndex)
    this.issuedSnapshotIndex = snapIndex
    return this.track(this.run(() => this.write(batch, snapIndex), 'saving failed'))
  }

  /** One readwrite transaction; every request is queued before the first await. */
  private async write(batch: SaveBatch, snapIndex: number): Promise<void> {
    const tx: ReadWriteTx = this.conn.db.transaction(ALL_STORES, 'readwrite', { durability: this.durability })
    const requests: Promise<unknown>[] = []
    try {
      const m = this.member
      if (batch.meta !== undefined) requests.push(tx.objectStore('members').put({ ...batch.meta }, m))
      if (batch.hardState !== undefined) requests.push(tx.objectStore('hardStates').put({ ...batch.hardState }, m))
      if (batch.snapshot !== undefined) {
        requests.push(tx.objectStore('snapshots').put(copySnapshot(batch.snapshot), m))
        requests.push(tx.objectStore('entries').delete(IDBKeyRange.bound([m, -Infinity], [m, snapIndex])))
      }
      const entries = batch.entries ?? []
      if (entries.length > 0) {
        // overwrite the suffix: nothing stored at or after the first new index survives
        requests.push(tx.objectStore('entries').delete(memberRange(m, entries[0]!.index)))
        for (const e of entries) {
          // copy: a Uint8Array view would otherwise store its whole underlying buffer
          if (e.index > snapIndex) requests.push(tx.objectStore('entries').put(copyEntry(e), [m, e.index]))
        }
      }
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
  }

  destroy(): Promise<void> {
    return this.run(async () => {
      const tx = this.conn.db.transaction(ALL_STORES, 'readwrite', { durability: this.durability })
      const m = this.member
      await Promise.all([
        tx.objectStore('members').delete(m),
        tx.objectStore('hardStates').delete(m),
        tx.objectStore('snapshots').delete(m),
        tx.objectStore('entries').delete(memberRange(m, -Infinity)),
        tx.done,
      ])
      await this.close()
    }, 'destroying the slot failed')
  }

  async close(): Promise<void> {
    this.latch.fail(new StorageError('CLOSED', this.slotName, 'the storage is closed'), false)
    // transactions already issued complete before the connection closes
    await Promise.allSettled([...this.inFlight])
    if (this.released) return
    this.released = true
    this.conn.storages.delete(this)
    this.releaseConnection()
  }

  /** Run an operation on a working storage; any failure becomes a StorageError
   *  and ends the storage (closing or destroying it is not a failure). */
  private async run<T>(op: () => Promise<T>, what: string): Promise<T> {
    this.latch.check()
    try {
      return await op()
    } catch (err) {
      if (err instanceof StorageError) throw err
      const reason = this.conn.dead ? (this.latch.error?.reason ?? 'CONNECTION_LOST') : reasonOfPlatformError(err)
      throw this.latch.fail(new StorageError(reason, this.slotName, what, err))
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p)
    const done = (): void => {
      this.inFlight.delete(p)
    }
    p.then(done, done)
    return p
  }
}

/** The keys of one member's log from `from` on. */
function memberRange(member: string, from: number): IDBKeyRange {
  return IDBKeyRange.bound([member, from], [member, Infinity])
}

function abortQuietly(tx: ReadWriteTx, requests: Promise<unknown>[]): void {
  void Promise.allSettled([...requests, tx.done])
  try {
    tx.abort()
  } catch {
    // already finished or aborted by the platform: nothing was committed either way
  }
}
