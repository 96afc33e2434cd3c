// The IndexedDB storage in Node, over fake-indexeddb (a spec-following
// in-memory IndexedDB). Each harness gets a fresh IDBFactory: a fresh browser
// profile. Real browsers are covered by the e2e suite and benchmarks.
import 'fake-indexeddb/auto'
import { IDBFactory, forceCloseDatabase } from 'fake-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import { IndexedDbStorageProvider, SCHEMA_VERSION, databaseName } from '../../src/storage/indexeddb'
import { StorageError } from '../../src/storage/errors'
import { entries, meta, storageAcceptance, type InjectedFailure } from './acceptance'

/** A fresh fake browser profile; records every connection opened on it. */
interface Profile {
  connections: IDBDatabase[]
  /** added to the version of every versioned open: "the code ships a newer schema" */
  versionBump: number
}

function freshProfile(): Profile {
  const factory = new IDBFactory()
  const profile: Profile = { connections: [], versionBump: 0 }
  const open = factory.open.bind(factory)
  factory.open = (name: string, version?: number) => {
    const req = version === undefined ? open(name) : open(name, version + profile.versionBump)
    req.addEventListener('success', () => profile.connections.push(req.result))
    return req
  }
  globalThis.indexedDB = factory
  return profile
}

/** Make the next put into the entries store fail the given way. Requests of
 *  the batch queued before it (meta, hard state) are then in the transaction,
 *  so a test sees whether the abort undid them. */
function failNextEntryPut(kind: InjectedFailure): void {
  const proto = IDBObjectStore.prototype
  const original = proto.put
  proto.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    if (this.name !== 'entries') return original.apply(this, args)
    proto.put = original
    // a browser reports quota at commit; a synchronous throw from put is the
    // other path the spec allows, and the harder one to clean up after
    if (kind === 'quota') throw new DOMException('simulated quota exceeded', 'QuotaExceededError')
    // the platform aborts a transaction after it was queued, never in the
    // middle of the caller's synchronous code
    const req = original.apply(this, args)
    const tx = this.transaction
    // the platform may abort it even after the caller asked it to commit (a
    // disk error while committing); fake-indexeddb lets nothing abort a
    // transaction once commit() was called, so that call is dropped here
    tx.commit = () => undefined
    queueMicrotask(() => tx.abort())
    return req
  }
}

storageAcceptance('IndexedDB (fake-indexeddb)', () => {
  const profile = freshProfile()
  return {
    provider: () => new IndexedDbStorageProvider({ durability: 'strict' }),
    failNextWrite: failNextEntryPut,
    loseConnection: () => {
      for (const db of profile.connections) forceCloseDatabase(db as unknown as Parameters<typeof forceCloseDatabase>[0])
      profile.connections.length = 0
    },
  }
})

describe('IndexedDbStorageProvider specifics', () => {
  const transaction = IDBDatabase.prototype.transaction
  afterEach(() => {
    IDBDatabase.prototype.transaction = transaction
  })

  it('keeps a room in the database "meshkeeper:<room>" with the four stores of the schema', async () => {
    freshProfile()
    const s = await new IndexedDbStorageProvider().open('kitchen', 'a')
    await s.save({ meta: meta('a') })
    await s.close()
    const names = (await indexedDB.databases()).map((d) => [d.name, d.version])
    expect(names).toEqual([[databaseName('kitchen'), SCHEMA_VERSION]])
    const db = await new Promise<IDBDatabase>((resolve) => {
      const req = indexedDB.open('meshkeeper:kitchen')
      req.onsuccess = () => resolve(req.result)
    })
    expect([...db.objectStoreNames].sort()).toEqual(['entries', 'hardStates', 'members', 'snapshots'])
    db.close()
  })

  for (const durability of ['strict', 'relaxed'] as const) {
    it(`writes each save in ONE readwrite transaction with durability '${durability}'`, async () => {
      freshProfile()
      const seen: Array<{ mode: IDBTransactionMode | undefined; durability: string | undefined }> = []
      IDBDatabase.prototype.transaction = function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
        seen.push({ mode, durability: options?.durability })
        return transaction.call(this, stores, mode, options)
      } as typeof transaction
      const s = await new IndexedDbStorageProvider({ durability }).open('r', 'a')
      seen.length = 0
      await s.save({ meta: meta('a'), hardState: { term: 1, vote: 'a', commit: 0 }, entries: entries(1, 50, 1) })
      expect(seen).toEqual([{ mode: 'readwrite', durability }])
      await s.close()
    })
  }

  function recordTransactions(): Array<{ stores: string[]; mode: IDBTransactionMode | undefined; durability: string | undefined }> {
    const seen: Array<{ stores: string[]; mode: IDBTransactionMode | undefined; durability: string | undefined }> = []
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
      seen.push({ stores: [stores].flat().sort(), mode, durability: options?.durability })
      return transaction.call(this, stores, mode, options)
    } as typeof transaction
    return seen
  }

  it('opens a save\'s transaction over the stores the batch touches, and no other', async () => {
    freshProfile()
    const s = await new IndexedDbStorageProvider().open('r', 'a')
    const seen = recordTransactions()
    await s.save({ meta: meta('a') })
    await s.save({ hardState: { term: 1, vote: 'a', commit: 0 } })
    await s.save({ entries: entries(1, 3, 1) })
    await s.save({ hardState: { term: 1, vote: 'a', commit: 3 }, entries: entries(4, 4, 1) })
    expect(seen.map((t) => t.stores)).toEqual([['members'], ['hardStates'], ['entries'], ['entries', 'hardStates']])
    expect(seen.every((t) => t.mode === 'readwrite' && t.durability === 'strict')).toBe(true)
    await s.close()
  })

  it('appends without a range delete; deletes only to cut a conflicting suffix (also one stored before a reload)', async () => {
    freshProfile()
    const deletes: string[] = []
    const del = IDBObjectStore.prototype.delete
    IDBObjectStore.prototype.delete = function (this: IDBObjectStore, key: IDBValidKey | IDBKeyRange) {
      deletes.push(this.name)
      return del.call(this, key)
    }
    try {
      let s = await new IndexedDbStorageProvider().open('r', 'a')
      await s.save({ meta: meta('a'), entries: entries(1, 3, 1) })
      await s.save({ entries: entries(4, 6, 1) })
      expect(deletes).toEqual([])
      await s.save({ entries: entries(5, 5, 2) })
      expect(deletes).toEqual(['entries'])
      expect((await s.load())!.durable.entries.map((e) => e.term)).toEqual([1, 1, 1, 1, 2])
      // a reload learns the last stored index from the disk
      await s.close()
      s = await new IndexedDbStorageProvider().open('r', 'a')
      await s.save({ entries: entries(6, 6, 2) })
      expect(deletes).toEqual(['entries'])
      await s.save({ entries: entries(4, 4, 3) })
      expect(deletes).toEqual(['entries', 'entries'])
      expect((await s.load())!.durable.entries.map((e) => e.term)).toEqual([1, 1, 1, 3])
      await s.close()
    } finally {
      IDBObjectStore.prototype.delete = del
    }
  })

  it('group commit: saves made while one is on the disk share ONE transaction, and each resolves after it', async () => {
    freshProfile()
    const s = await new IndexedDbStorageProvider().open('r', 'a')
    await s.save({ meta: meta('a') })
    const seen = recordTransactions()
    const saves = [
      s.save({ entries: entries(1, 2, 1) }),
      s.save({ entries: entries(3, 4, 1), hardState: { term: 1, vote: 'a', commit: 1 } }),
      s.save({ entries: entries(4, 5, 2), hardState: { term: 2, vote: null, commit: 2 } }),
      s.save({ hardState: { term: 2, vote: null, commit: 3 } }),
    ]
    await Promise.all(saves)
    expect(seen).toHaveLength(1)
    const rec = (await s.load())!
    expect(rec.durable.entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 1], [4, 2], [5, 2]])
    expect(rec.durable.hardState).toEqual({ term: 2, vote: null, commit: 3 })
    await s.close()
  })

  it('gives way to a newer schema opened elsewhere: closes, and fails with VERSION_CHANGE', async () => {
    freshProfile()
    const s = await new IndexedDbStorageProvider().open('r', 'a')
    await s.save({ meta: meta('a') })
    const heard = new Promise<StorageError>((resolve) => s.onFailure!(resolve))
    const upgraded = new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(databaseName('r'), SCHEMA_VERSION + 1)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    const err = await heard
    expect(err.reason).toBe('VERSION_CHANGE')
    // the newer connection was not blocked by ours
    ;(await upgraded).close()
    await expect(s.save({ entries: entries(1, 1, 1) })).rejects.toBe(err)
  })

  it('gives way to a delete of the database elsewhere (a reset): closes, and fails with CONNECTION_LOST', async () => {
    freshProfile()
    const s = await new IndexedDbStorageProvider().open('r', 'a')
    await s.save({ meta: meta('a') })
    const heard = new Promise<StorageError>((resolve) => s.onFailure!(resolve))
    const deleted = new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(databaseName('r'))
      req.onsuccess = () => resolve()
      req.onerror = () => reject(req.error)
    })
    expect((await heard).reason).toBe('CONNECTION_LOST')
    await deleted
    expect(await indexedDB.databases()).toEqual([])
  })

  it('refuses to open a database a newer version of the code already upgraded (VERSION_CHANGE)', async () => {
    const profile = freshProfile()
    profile.versionBump = 1
    await (await new IndexedDbStorageProvider().open('r', 'a')).close()
    profile.versionBump = 0
    const err = await new IndexedDbStorageProvider().open('r', 'a').then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(StorageError)
    expect((err as StorageError).reason).toBe('VERSION_CHANGE')
    expect((err as StorageError).cause).toMatchObject({ name: 'VersionError' })
  })

  it('waits for an older connection to give way, and fails with BLOCKED when it never does', async () => {
    const profile = freshProfile()
    // a tab on the current schema that ignores versionchange (not meshkeeper code)
    const old = await new IndexedDbStorageProvider().open('r', 'a')
    await old.close()
    const stubborn = await new Promise<IDBDatabase>((resolve) => {
      const req = indexedDB.open(databaseName('r'))
      req.onsuccess = () => resolve(req.result)
    })
    // this provider's code ships the next schema version
    profile.versionBump = 1
    const err = await new IndexedDbStorageProvider({ blockedTimeoutMs: 20 }).open('r', 'a').then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(StorageError)
    expect((err as StorageError).reason).toBe('BLOCKED')
    // once the stubborn tab goes, a newer provider opens (the late connection
    // of the abandoned attempt was closed, so it does not block this one)
    stubborn.close()
    const s = await new IndexedDbStorageProvider({ blockedTimeoutMs: 5_000 }).open('r', 'a')
    await s.save({ meta: meta('a') })
    expect(await s.load()).not.toBeNull()
    await s.close()
  })
})
