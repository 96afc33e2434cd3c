// The IndexedDB storage in Node, over fake-indexeddb (a spec-following
// in-memory IndexedDB). Each harness gets a fresh IDBFactory: a fresh browser
// profile. Real browsers are covered by the e2e suite and benchmarks.
import 'fake-indexeddb/auto'
import { IDBFactory, forceCloseDatabase } from 'fake-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import { IndexedDbStorageProvider, SCHEMA_VERSION, databaseName, slotDatabaseName } from '../../src/storage/indexeddb'
import { StorageError } from '../../src/storage/errors'
import { decodeRecord, encodeRun, type LogRecord } from '../../src/storage/log-runs'
import { entries, meta, snapshot, storageAcceptance, type InjectedFailure } from './acceptance'
import type { Entry, HardState, Snapshot } from '../../src/raft/types'

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

  /** Open a database by name (no version: as it is), for a test to look in. */
  function openRaw(name: string): Promise<IDBDatabase> {
    return new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
  }

  function getAll(db: IDBDatabase, store: string): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const req = db.transaction(store, 'readonly').objectStore(store).getAll()
      req.onsuccess = () => resolve(req.result as unknown[])
      req.onerror = () => reject(req.error)
    })
  }

  it('keeps each member slot in a database of its own, listed in the room\'s database "meshkeeper:<room>"', async () => {
    freshProfile()
    const provider = new IndexedDbStorageProvider()
    for (const m of ['a', 'b:c']) {
      const s = await provider.open('kitchen:x', m)
      await s.save({ meta: meta(m), hardState: { term: 1, vote: m, commit: 0 }, entries: entries(1, 2, 1) })
      await s.close()
    }
    const names = (await indexedDB.databases()).map((d) => [d.name, d.version]).sort()
    expect(names).toEqual([
      ['meshkeeper-slot:kitchen%3Ax:a', SCHEMA_VERSION],
      ['meshkeeper-slot:kitchen%3Ax:b%3Ac', SCHEMA_VERSION],
      [databaseName('kitchen:x'), SCHEMA_VERSION],
    ])
    expect(slotDatabaseName('kitchen:x', 'b:c')).toBe('meshkeeper-slot:kitchen%3Ax:b%3Ac')
    const room = await openRaw(databaseName('kitchen:x'))
    expect([...room.objectStoreNames].sort()).toEqual(['entries', 'hardStates', 'members', 'snapshots'])
    // the room holds the index of slots, and no Raft state
    expect(await getAll(room, 'members')).toEqual([meta('a'), meta('b:c')])
    for (const store of ['hardStates', 'snapshots', 'entries']) expect(await getAll(room, store)).toEqual([])
    room.close()
    const slot = await openRaw(slotDatabaseName('kitchen:x', 'a'))
    expect(await getAll(slot, 'members')).toEqual([meta('a')])
    expect(await getAll(slot, 'hardStates')).toEqual([{ term: 1, vote: 'a', commit: 0 }])
    // a save's entries are one record, a packed run (log-runs.ts)
    expect(await getAll(slot, 'entries')).toEqual([encodeRun(entries(1, 2, 1))])
    slot.close()
    expect((await provider.listMembers('kitchen:x')).map((m) => m.member)).toEqual(['a', 'b:c'])
  })

  function recordTransactions(): Array<{ db: string; stores: string[]; mode: IDBTransactionMode | undefined; durability: string | undefined }> {
    const seen: Array<{ db: string; stores: string[]; mode: IDBTransactionMode | undefined; durability: string | undefined }> = []
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
      seen.push({ db: this.name, stores: [stores].flat().sort(), mode, durability: options?.durability })
      return transaction.call(this, stores, mode, options)
    } as typeof transaction
    return seen
  }

  for (const durability of ['strict', 'relaxed'] as const) {
    it(`writes each save in ONE readwrite transaction of the slot's database with durability '${durability}' (and one of the room's index for a save with meta)`, async () => {
      freshProfile()
      const s = await new IndexedDbStorageProvider({ durability }).open('r', 'a')
      const seen = recordTransactions()
      await s.save({ meta: meta('a'), hardState: { term: 1, vote: 'a', commit: 0 }, entries: entries(1, 50, 1) })
      await s.save({ hardState: { term: 1, vote: 'a', commit: 50 }, entries: entries(51, 60, 1) })
      const slot = slotDatabaseName('r', 'a')
      expect(seen.map(({ db, mode, durability: d }) => ({ db, mode, durability: d }))).toEqual([
        { db: slot, mode: 'readwrite', durability },
        { db: databaseName('r'), mode: 'readwrite', durability },
        { db: slot, mode: 'readwrite', durability },
      ])
      expect(seen[1]!.stores).toEqual(['members'])
      await s.close()
    })
  }

  it("listing a room's slots leaves its database open a moment: the listings and the slot's open that follow at once reuse that connection", async () => {
    const profile = freshProfile()
    const provider = new IndexedDbStorageProvider()
    const seed = await provider.open('r', 'a')
    await seed.save({ meta: meta('a') })
    await seed.close()
    const roomOpens = (): number => profile.connections.filter((db) => db.name === databaseName('r')).length
    const before = roomOpens()
    // a joining tab: the list before the room lock, again under it, the check that its slot is still listed, then its slot
    for (let i = 0; i < 3; i++) expect((await provider.listMembers('r')).map((m) => m.member)).toEqual(['a'])
    const slot = await provider.open('r', 'a')
    expect(roomOpens() - before).toBe(1)
    await slot.close()
  })

  it('opening a slot and its first load read the slot once (a slot database the open created: not at all), and a later load reads it again', async () => {
    freshProfile()
    const slot = slotDatabaseName('r', 'a')
    const slotReads = (seen: ReturnType<typeof recordTransactions>): number => seen.filter((t) => t.db === slot && t.mode === 'readonly').length
    // a new slot: its database is created by the open, so there is nothing to read
    let seen = recordTransactions()
    const fresh = await new IndexedDbStorageProvider().open('r', 'a')
    expect(await fresh.load()).toBeNull()
    expect(slotReads(seen)).toBe(0)
    await fresh.save({ meta: meta('a'), hardState: { term: 2, vote: 'a', commit: 3 }, entries: entries(1, 3, 2) })
    await fresh.close()
    IDBDatabase.prototype.transaction = transaction
    // the slot again (a reload): one read serves the open and the first load
    seen = recordTransactions()
    const again = await new IndexedDbStorageProvider().open('r', 'a')
    const rec = (await again.load())!
    expect(rec.durable.hardState).toEqual({ term: 2, vote: 'a', commit: 3 })
    expect(rec.durable.entries.map((e) => e.index)).toEqual([1, 2, 3])
    expect(slotReads(seen)).toBe(1)
    // what is saved after the open is read from the disk, not answered from the open's read
    await again.save({ entries: entries(4, 4, 2) })
    expect((await again.load())!.durable.entries.map((e) => e.index)).toEqual([1, 2, 3, 4])
    expect(slotReads(seen)).toBe(2)
    await again.close()
  })

  it('opens a save\'s transaction over the stores the batch touches, and no other', async () => {
    freshProfile()
    const s = await new IndexedDbStorageProvider().open('r', 'a')
    const seen = recordTransactions()
    await s.save({ meta: meta('a') })
    await s.save({ hardState: { term: 1, vote: 'a', commit: 0 } })
    await s.save({ entries: entries(1, 3, 1) })
    await s.save({ hardState: { term: 1, vote: 'a', commit: 3 }, entries: entries(4, 4, 1) })
    expect(seen.filter((t) => t.db === slotDatabaseName('r', 'a')).map((t) => t.stores)).toEqual([['members'], ['hardStates'], ['entries'], ['entries', 'hardStates']])
    expect(seen.every((t) => t.mode === 'readwrite' && t.durability === 'strict')).toBe(true)
    await s.close()
  })

  /** Write a room the way schema 1 did: every slot's state in "meshkeeper:<room>". */
  /** Open (creating) a database with our four stores at `version`, as an older schema's code did. */
  function openWithStores(name: string, version: number): Promise<IDBDatabase> {
    return new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name, version)
      req.onupgradeneeded = () => {
        for (const store of ['members', 'hardStates', 'snapshots', 'entries']) req.result.createObjectStore(store)
      }
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
  }

  async function writeSchema1(room: string, slots: Record<string, { meta?: boolean; hardState?: HardState; snapshot?: Snapshot; entries?: Entry[] }>): Promise<void> {
    const db = await openWithStores(databaseName(room), 1)
    const tx = db.transaction(['members', 'hardStates', 'snapshots', 'entries'], 'readwrite')
    for (const [m, slot] of Object.entries(slots)) {
      if (slot.meta !== false) tx.objectStore('members').put(meta(m), m)
      if (slot.hardState !== undefined) tx.objectStore('hardStates').put(slot.hardState, m)
      if (slot.snapshot !== undefined) tx.objectStore('snapshots').put(slot.snapshot, m)
      for (const e of slot.entries ?? []) tx.objectStore('entries').put(e, [m, e.index])
    }
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
    db.close()
  }

  it('upgrades a room of schema 1: each slot opening moves its state into its own database, and every slot stays listed', async () => {
    freshProfile()
    await writeSchema1('old', {
      a: { hardState: { term: 3, vote: 'b', commit: 4 }, snapshot: snapshot(2, 1), entries: entries(3, 6, 3) },
      b: { hardState: { term: 3, vote: 'b', commit: 5 }, entries: entries(1, 6, 3) },
      c: {},
    })
    const provider = new IndexedDbStorageProvider()
    expect((await provider.listMembers('old')).map((m) => m.member)).toEqual(['a', 'b', 'c'])
    const a = await provider.open('old', 'a')
    const rec = (await a.load())!
    expect(rec.meta).toEqual(meta('a'))
    expect(rec.durable.hardState).toEqual({ term: 3, vote: 'b', commit: 4 })
    expect(rec.durable.snapshot).toEqual(snapshot(2, 1))
    expect(rec.durable.entries).toEqual(entries(3, 6, 3))
    // the room's copy of a's state is gone; b's has not moved yet; the index keeps all three
    const room = await openRaw(databaseName('old'))
    expect(await getAll(room, 'hardStates')).toEqual([{ term: 3, vote: 'b', commit: 5 }])
    expect(await getAll(room, 'snapshots')).toEqual([])
    expect(await getAll(room, 'entries')).toHaveLength(6)
    expect(await getAll(room, 'members')).toEqual([meta('a'), meta('b'), meta('c')])
    room.close()
    // the moved slot works on, and a reload reads it from its own database
    await a.save({ hardState: { term: 4, vote: 'a', commit: 6 }, entries: entries(7, 7, 4) })
    await a.close()
    const again = (await (await new IndexedDbStorageProvider().open('old', 'a')).load())!
    expect(again.durable.entries.map((e) => e.index)).toEqual([3, 4, 5, 6, 7])
    expect(again.durable.hardState).toEqual({ term: 4, vote: 'a', commit: 6 })
    // a slot of schema 1 with meta only loads as it did: meta and a zero hard state
    const c = (await (await provider.open('old', 'c')).load())!
    expect(c).toEqual({ meta: meta('c'), durable: { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] } })
  })

  it('a move cut short after its copy (a crash) keeps the slot database\'s state and deletes the room\'s leftovers at the next open', async () => {
    freshProfile()
    // what schema 1 held, not yet deleted (the crash) ...
    await writeSchema1('old', { a: { hardState: { term: 4, vote: 'b', commit: 1 }, entries: entries(1, 2, 4) } })
    // ... and the slot database with the moved state and a save after it
    const slot = await openWithStores(slotDatabaseName('old', 'a'), SCHEMA_VERSION)
    const tx = slot.transaction(['members', 'hardStates', 'entries'], 'readwrite')
    tx.objectStore('members').put(meta('a'), 'a')
    tx.objectStore('hardStates').put({ term: 5, vote: 'a', commit: 2 }, 'a')
    for (const e of entries(1, 3, 5)) tx.objectStore('entries').put(e, ['a', e.index])
    await new Promise((resolve) => (tx.oncomplete = resolve))
    slot.close()
    const rec = (await (await new IndexedDbStorageProvider().open('old', 'a')).load())!
    expect(rec.durable.hardState).toEqual({ term: 5, vote: 'a', commit: 2 })
    expect(rec.durable.entries).toEqual(entries(1, 3, 5))
    const room = await openRaw(databaseName('old'))
    for (const store of ['hardStates', 'snapshots', 'entries']) expect(await getAll(room, store)).toEqual([])
    room.close()
  })

  it('destroy unlists the slot and empties its database (with any schema-1 leftovers)', async () => {
    freshProfile()
    await writeSchema1('r', { a: { hardState: { term: 1, vote: 'a', commit: 0 } }, b: {} })
    const provider = new IndexedDbStorageProvider()
    const a = await provider.open('r', 'a')
    await a.destroy()
    expect((await provider.listMembers('r')).map((m) => m.member)).toEqual(['b'])
    const room = await openRaw(databaseName('r'))
    for (const store of ['hardStates', 'snapshots', 'entries']) expect(await getAll(room, store)).toEqual([])
    room.close()
    expect(await (await provider.open('r', 'a')).load()).toBeNull()
  })

  async function databaseNames(): Promise<string[]> {
    return (await indexedDB.databases()).map((d) => d.name!).sort()
  }

  it('destroy deletes the slot\'s database once it is closed, and leaves the room\'s and the other slots\'', async () => {
    freshProfile()
    const provider = new IndexedDbStorageProvider()
    const [a, b] = [await provider.open('r', 'a'), await provider.open('r', 'b')]
    await a.save({ meta: meta('a'), entries: entries(1, 3, 1) })
    await b.save({ meta: meta('b'), entries: entries(1, 3, 1) })
    await b.close()
    await a.destroy()
    expect(await databaseNames()).toEqual([slotDatabaseName('r', 'b'), databaseName('r')])
    // a member starting over in the same slot (a diverged one) gets a fresh database
    const again = await provider.open('r', 'a')
    expect(await again.load()).toBeNull()
    await again.save({ meta: meta('a'), entries: entries(1, 1, 1) })
    expect((await again.load())!.durable.entries).toEqual(entries(1, 1, 1))
    await again.close()
  })

  it('destroy does not wait for a delete blocked by another connection: the delete completes once that one closes, and a reopen waits behind it', async () => {
    freshProfile()
    const provider = new IndexedDbStorageProvider()
    const a = await provider.open('r', 'a')
    await a.save({ meta: meta('a'), entries: entries(1, 3, 1) })
    // a connection that does not give way on versionchange (ours close at once)
    const other = await openRaw(slotDatabaseName('r', 'a'))
    const heard: Array<number | null> = []
    other.onversionchange = (e) => heard.push(e.newVersion)
    await a.destroy()
    expect(heard).toEqual([null])
    expect(await databaseNames()).toContain(slotDatabaseName('r', 'a'))
    const reopening = provider.open('r', 'a')
    other.close()
    const again = await reopening
    // the reopen came after the delete: nothing of the old slot is left
    expect(await again.load()).toBeNull()
    await again.close()
    expect((await provider.listMembers('r')).map((m) => m.member)).toEqual([])
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

  /** The slot's log records as stored: [first index of the record, the indexes it holds]. */
  async function storedRecords(room: string, member: string): Promise<Array<[number, number[]]>> {
    const db = await openRaw(slotDatabaseName(room, member))
    const records = await getAll(db, 'entries')
    db.close()
    return records.map((r) => {
      const es = decodeRecord(r as LogRecord)
      return [es[0]!.index, es.map((e) => e.index)]
    })
  }

  it('writes the entries of a save as ONE record; a run cut by a later one is shadowed, never rewritten, and a snapshot deletes exactly the records it leaves nothing live in', async () => {
    freshProfile()
    let s = await new IndexedDbStorageProvider().open('r', 'a')
    await s.save({ meta: meta('a'), entries: entries(1, 4, 1) })
    await s.save({ entries: entries(5, 8, 1) })
    expect(await storedRecords('r', 'a')).toEqual([[1, [1, 2, 3, 4]], [5, [5, 6, 7, 8]]])
    // a conflicting suffix from 7: the run from 5 keeps its bytes, its 7 and 8 are shadowed
    await s.save({ entries: entries(7, 9, 2) })
    expect(await storedRecords('r', 'a')).toEqual([[1, [1, 2, 3, 4]], [5, [5, 6, 7, 8]], [7, [7, 8, 9]]])
    expect((await s.load())!.durable.entries.map((e) => `${e.index}:${e.term}`)).toEqual(['1:1', '2:1', '3:1', '4:1', '5:1', '6:1', '7:2', '8:2', '9:2'])
    // a cut from 3 deletes the records keyed from 3 on, shadows the run from 1
    await s.save({ entries: entries(3, 3, 3) })
    expect(await storedRecords('r', 'a')).toEqual([[1, [1, 2, 3, 4]], [3, [3]]])
    await s.save({ entries: entries(4, 6, 3) })
    // a snapshot at 3: the run from 1 (live 1-2: its 3 and 4 are shadowed)
    // and the run from 3 hold nothing after it and go; the run from 4 stays
    await s.save({ snapshot: snapshot(3, 3) })
    expect(await storedRecords('r', 'a')).toEqual([[4, [4, 5, 6]]])
    // the storage's model of its records survives a reload (read back from
    // the disk); a snapshot at 5 keeps the run it straddles (its 6 is live)
    await s.close()
    s = await new IndexedDbStorageProvider().open('r', 'a')
    await s.save({ snapshot: snapshot(5, 3) })
    expect(await storedRecords('r', 'a')).toEqual([[4, [4, 5, 6]]])
    expect((await s.load())!.durable.entries.map((e) => e.index)).toEqual([6])
    // a snapshot past the whole log deletes every record
    await s.save({ snapshot: snapshot(9, 3) })
    expect(await storedRecords('r', 'a')).toEqual([])
    expect((await s.load())!.durable.entries).toEqual([])
    await s.close()
  })

  it('reads a slot of schema 2 (a record per entry) as it was, and builds on it', async () => {
    freshProfile()
    // schema 2's layout: the same stores, one Entry object per key
    const s2 = await openWithStores(slotDatabaseName('r', 'a'), 2)
    const tx = s2.transaction(['members', 'hardStates', 'entries'], 'readwrite')
    tx.objectStore('members').put(meta('a'), 'a')
    tx.objectStore('hardStates').put({ term: 2, vote: 'a', commit: 3 }, 'a')
    for (const e of entries(1, 5, 2)) tx.objectStore('entries').put(e, ['a', e.index])
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
    s2.close()
    const s = await new IndexedDbStorageProvider().open('r', 'a')
    expect((await s.load())!.durable).toEqual({ hardState: { term: 2, vote: 'a', commit: 3 }, snapshot: null, entries: entries(1, 5, 2) })
    // a cut into schema 2's records, and a snapshot over them
    await s.save({ entries: entries(4, 6, 3) })
    await s.save({ snapshot: snapshot(2, 2) })
    expect(await storedRecords('r', 'a')).toEqual([[3, [3]], [4, [4, 5, 6]]])
    expect((await s.load())!.durable.entries.map((e) => `${e.index}:${e.term}`)).toEqual(['3:2', '4:3', '5:3', '6:3'])
    await s.close()
  })

  it('a log record that does not decode fails the open with STORAGE CORRUPT', async () => {
    freshProfile()
    const s = await new IndexedDbStorageProvider().open('r', 'a')
    await s.save({ meta: meta('a'), entries: entries(1, 2, 1) })
    await s.close()
    const db = await openRaw(slotDatabaseName('r', 'a'))
    const run = encodeRun(entries(3, 3, 1))
    const tx = db.transaction('entries', 'readwrite')
    // a run whose count promises more entries than its bytes hold
    tx.objectStore('entries').put(run.slice(0, run.length - 2), ['a', 3])
    await new Promise<void>((resolve) => (tx.oncomplete = () => resolve()))
    db.close()
    const err = await new IndexedDbStorageProvider().open('r', 'a').then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(StorageError)
    expect((err as StorageError).reason).toBe('CORRUPT')
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

  for (const which of ['room', 'slot'] as const) {
    it(`gives way to a newer schema of the ${which}'s database opened elsewhere: closes, and fails with VERSION_CHANGE`, async () => {
      freshProfile()
      const s = await new IndexedDbStorageProvider().open('r', 'a')
      await s.save({ meta: meta('a') })
      const heard = new Promise<StorageError>((resolve) => s.onFailure!(resolve))
      const upgraded = new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(which === 'room' ? databaseName('r') : slotDatabaseName('r', 'a'), SCHEMA_VERSION + 1)
        req.onsuccess = () => resolve(req.result)
        req.onerror = () => reject(req.error)
      })
      const err = await heard
      expect(err.reason).toBe('VERSION_CHANGE')
      // the newer connection was not blocked by ours
      ;(await upgraded).close()
      await expect(s.save({ entries: entries(1, 1, 1) })).rejects.toBe(err)
    })
  }

  for (const which of ['room', 'slot'] as const) {
    it(`gives way to a delete of the ${which}'s database elsewhere (a reset): closes, and fails with CONNECTION_LOST`, async () => {
      freshProfile()
      const s = await new IndexedDbStorageProvider().open('r', 'a')
      await s.save({ meta: meta('a') })
      const heard = new Promise<StorageError>((resolve) => s.onFailure!(resolve))
      const name = which === 'room' ? databaseName('r') : slotDatabaseName('r', 'a')
      const deleted = new Promise<void>((resolve, reject) => {
        const req = indexedDB.deleteDatabase(name)
        req.onsuccess = () => resolve()
        req.onerror = () => reject(req.error)
      })
      expect((await heard).reason).toBe('CONNECTION_LOST')
      await deleted
      expect((await indexedDB.databases()).map((d) => d.name)).not.toContain(name)
    })
  }

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
