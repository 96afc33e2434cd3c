// The Storage acceptance suite: the contract of src/storage/types.ts as tests.
// Every StorageProvider runs it (memory.test.ts, indexeddb.test.ts); an
// implementation is done when it passes all of it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Entry, HardState, Snapshot } from '../../src/raft/types'
import type { MemberMeta, Storage, StorageProvider } from '../../src/storage/types'
import { StorageError } from '../../src/storage/errors'

/** How a failure is injected into the next write of a storage. */
export type InjectedFailure =
  /** the write exceeds the (simulated) disk quota: QuotaExceededError */
  | 'quota'
  /** the transaction aborts (AbortError) after part of the batch was queued */
  | 'abort'

export interface StorageHarness {
  /** A provider over the harness's backing store. Each call is a new provider
   *  over the same disk: what a reloaded page would construct. */
  provider(): StorageProvider
  /** Make the next write fail the given way after the batch's first record
   *  was accepted, so a half-written batch would be visible. */
  failNextWrite(kind: InjectedFailure): void
  /** Close the storage's connection the way a browser does (storage cleared,
   *  disk gone); absent for implementations without a connection. */
  loseConnection?(storage: Storage): void
  cleanup?(): Promise<void> | void
}

const ROOM = 'acceptance'

export function meta(member: string, clusterId = 'c1'): MemberMeta {
  return { member, clusterId, createdAt: 1_700_000_000_000 }
}

export function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) }
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) out.push(entry(i, term))
  return out
}

export function snapshot(index: number, term: number, text = `snap@${index}`): Snapshot {
  return {
    meta: { index, term, conf: { voters: ['a', 'b', 'c'], learners: ['d'], votersOutgoing: [], learnersNext: [], autoLeave: false } },
    data: new TextEncoder().encode(text),
  }
}

const indexes = (es: Entry[]): number[] => es.map((e) => e.index)
const terms = (es: Entry[]): number[] => es.map((e) => e.term)

async function expectStorageError(p: Promise<unknown>, reason?: StorageError['reason']): Promise<StorageError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err, 'the promise should reject').toBeInstanceOf(StorageError)
  const se = err as StorageError
  expect(se.code).toBe('STORAGE')
  if (reason !== undefined) expect(se.reason).toBe(reason)
  return se
}

export function storageAcceptance(name: string, makeHarness: () => StorageHarness | Promise<StorageHarness>): void {
  describe(`Storage acceptance: ${name}`, () => {
    let harness: StorageHarness
    const opened: Storage[] = []

    beforeEach(async () => {
      harness = await makeHarness()
    })

    async function open(member: string, room = ROOM, provider?: StorageProvider): Promise<Storage> {
      const s = await (provider ?? harness.provider()).open(room, member)
      opened.push(s)
      return s
    }

    /** a new provider (a reload) opening the slot again, after closing `s` */
    async function reload(s: Storage | null, member: string, room = ROOM): Promise<Storage> {
      if (s !== null) await s.close()
      return open(member, room, harness.provider())
    }

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined)
      await harness.cleanup?.()
    })

    describe('a fresh slot', () => {
      it('loads as null and the room lists no members', async () => {
        const s = await open('a')
        expect(await s.load()).toBeNull()
        expect(await harness.provider().listMembers(ROOM)).toEqual([])
      })
    })

    describe('round trips', () => {
      it('returns the meta, hard state and entries that were saved', async () => {
        const s = await open('a')
        const hs: HardState = { term: 3, vote: 'b', commit: 2 }
        await s.save({ meta: meta('a') })
        await s.save({ hardState: hs, entries: entries(1, 3, 3) })
        const rec = await s.load()
        expect(rec?.meta).toEqual(meta('a'))
        expect(rec?.durable.hardState).toEqual(hs)
        expect(rec?.durable.snapshot).toBeNull()
        expect(rec?.durable.entries).toEqual(entries(1, 3, 3))
      })

      it('gives a zero hard state to a slot that has meta only', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a') })
        expect((await s.load())?.durable).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] })
      })

      it('keeps a null vote and replaces the hard state on each save', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), hardState: { term: 1, vote: 'a', commit: 0 } })
        await s.save({ hardState: { term: 2, vote: null, commit: 1 } })
        expect((await s.load())?.durable.hardState).toEqual({ term: 2, vote: null, commit: 1 })
      })

      it('orders entries by index numerically (9, 10, 11, not 10, 11, 9)', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 12, 1) })
        expect(indexes((await s.load())!.durable.entries)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
      })

      it('stores a copy: mutating the saved batch or a loaded record changes nothing stored', async () => {
        const s = await open('a')
        const batchEntries = entries(1, 2, 1)
        const hs = { term: 1, vote: 'a', commit: 0 }
        await s.save({ meta: meta('a'), hardState: hs, entries: batchEntries })
        batchEntries[0]!.data[0] = 0
        batchEntries.push(entry(3, 1))
        hs.term = 99
        const first = (await s.load())!
        first.durable.entries[1]!.data[0] = 0
        first.durable.hardState.commit = 42
        const again = (await s.load())!
        expect(again.durable.entries).toEqual(entries(1, 2, 1))
        expect(again.durable.hardState).toEqual({ term: 1, vote: 'a', commit: 0 })
      })

      it('stores only the bytes of a Uint8Array view, not its whole buffer', async () => {
        const s = await open('a')
        const buffer = new Uint8Array(1000).fill(7)
        const view = buffer.subarray(10, 14)
        await s.save({ meta: meta('a'), entries: [{ index: 1, term: 1, type: 'normal', data: view }] })
        const loaded = (await s.load())!.durable.entries[0]!.data
        expect(loaded.byteLength).toBe(4)
        expect([...loaded]).toEqual([7, 7, 7, 7])
      })

      it('a load issued right after a save that was not awaited sees that save', async () => {
        const s = await open('a')
        void s.save({ meta: meta('a'), hardState: { term: 4, vote: 'a', commit: 1 }, entries: entries(1, 2, 4) })
        const rec = await s.load()
        expect(rec?.durable.hardState.term).toBe(4)
        expect(indexes(rec!.durable.entries)).toEqual([1, 2])
      })

      it('completes saves issued back to back in call order', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a') })
        const first = s.save({ entries: entries(1, 5, 1), hardState: { term: 1, vote: 'a', commit: 0 } })
        const second = s.save({ entries: entries(3, 4, 2), hardState: { term: 2, vote: 'b', commit: 1 } })
        await Promise.all([first, second])
        const rec = (await s.load())!
        expect(indexes(rec.durable.entries)).toEqual([1, 2, 3, 4])
        expect(terms(rec.durable.entries)).toEqual([1, 1, 2, 2])
        expect(rec.durable.hardState).toEqual({ term: 2, vote: 'b', commit: 1 })
      })
    })

    describe('lazy saves (sync: false, a commit-index-only Ready)', () => {
      it('stores a sync: false batch like any other, in call order with the saves around it, and a reload sees it', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a') })
        const saves = [
          s.save({ sync: true, entries: entries(1, 3, 2), hardState: { term: 2, vote: 'a', commit: 0 } }),
          s.save({ sync: false, hardState: { term: 2, vote: 'a', commit: 2 } }),
          s.save({ sync: true, entries: entries(4, 4, 2), hardState: { term: 2, vote: 'a', commit: 2 } }),
          s.save({ sync: false, hardState: { term: 2, vote: 'a', commit: 4 } }),
        ]
        await Promise.all(saves)
        const rec = (await (await reload(s, 'a')).load())!
        expect(indexes(rec.durable.entries)).toEqual([1, 2, 3, 4])
        expect(rec.durable.hardState).toEqual({ term: 2, vote: 'a', commit: 4 })
      })
    })

    describe('log rules', () => {
      it('overwrites the stored suffix from entries[0].index (a conflicting tail is cut)', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 5, 1) })
        await s.save({ entries: entries(3, 4, 2) })
        const es = (await s.load())!.durable.entries
        expect(indexes(es)).toEqual([1, 2, 3, 4])
        expect(terms(es)).toEqual([1, 1, 2, 2])
        await s.save({ entries: entries(5, 6, 2) })
        expect(indexes((await s.load())!.durable.entries)).toEqual([1, 2, 3, 4, 5, 6])
      })

      it('keeps everything when entries are appended right after the last one', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 3, 1) })
        await s.save({ entries: entries(4, 4, 1) })
        expect(indexes((await s.load())!.durable.entries)).toEqual([1, 2, 3, 4])
      })

      it('drops entries at or below a saved snapshot and returns those after it', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 10, 1) })
        await s.save({ snapshot: snapshot(6, 1) })
        const rec = (await s.load())!
        expect(rec.durable.snapshot).toEqual(snapshot(6, 1))
        expect(indexes(rec.durable.entries)).toEqual([7, 8, 9, 10])
      })

      it('drops entries of a later batch at or below the stored snapshot, and still cuts the suffix', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 10, 1) })
        await s.save({ snapshot: snapshot(6, 1) })
        await s.save({ entries: entries(5, 8, 2) })
        const es = (await s.load())!.durable.entries
        expect(indexes(es)).toEqual([7, 8])
        expect(terms(es)).toEqual([2, 2])
      })

      it('takes a snapshot and entries in one batch (a follower installing a snapshot)', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 3, 1) })
        await s.save({ snapshot: snapshot(20, 4), entries: entries(19, 22, 4), hardState: { term: 4, vote: null, commit: 20 } })
        const rec = (await s.load())!
        expect(rec.durable.snapshot?.meta.index).toBe(20)
        expect(indexes(rec.durable.entries)).toEqual([21, 22])
        expect(rec.durable.hardState.commit).toBe(20)
      })

      it('replaces an older snapshot with a newer one', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), snapshot: snapshot(5, 1), entries: entries(6, 9, 1) })
        await s.save({ snapshot: snapshot(8, 1, 'newer') })
        const rec = (await s.load())!
        expect(rec.durable.snapshot).toEqual(snapshot(8, 1, 'newer'))
        expect(indexes(rec.durable.entries)).toEqual([9])
      })

      it('rejects a snapshot older than the stored one (INVALID_BATCH) and keeps working', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), snapshot: snapshot(8, 1) })
        await expectStorageError(s.save({ snapshot: snapshot(5, 1) }), 'INVALID_BATCH')
        await s.save({ entries: entries(9, 9, 1) })
        const rec = (await s.load())!
        expect(rec.durable.snapshot?.meta.index).toBe(8)
        expect(indexes(rec.durable.entries)).toEqual([9])
      })

      it('rejects entries that are not consecutive (INVALID_BATCH) and writes nothing of that batch', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 2, 1) })
        await expectStorageError(s.save({ hardState: { term: 5, vote: null, commit: 0 }, entries: [entry(3, 1), entry(5, 1)] }), 'INVALID_BATCH')
        const rec = (await s.load())!
        expect(indexes(rec.durable.entries)).toEqual([1, 2])
        expect(rec.durable.hardState.term).toBe(0)
      })

      it('rejects meta that names another member', async () => {
        const s = await open('a')
        await expectStorageError(s.save({ meta: meta('b') }), 'INVALID_BATCH')
        expect(await s.load()).toBeNull()
      })
    })

    describe('member slots', () => {
      it('keeps members of one room apart', async () => {
        const a = await open('a')
        const b = await open('b')
        await a.save({ meta: meta('a'), hardState: { term: 1, vote: 'a', commit: 0 }, entries: entries(1, 3, 1) })
        await b.save({ meta: meta('b'), hardState: { term: 2, vote: 'b', commit: 0 }, entries: entries(1, 1, 2) })
        await b.save({ snapshot: snapshot(1, 2) })
        const ra = (await a.load())!
        const rb = (await b.load())!
        expect(indexes(ra.durable.entries)).toEqual([1, 2, 3])
        expect(ra.durable.snapshot).toBeNull()
        expect(ra.durable.hardState.vote).toBe('a')
        expect(rb.durable.entries).toEqual([])
        expect(rb.durable.snapshot?.meta.index).toBe(1)
      })

      it('keeps one member id in two rooms apart', async () => {
        const one = await open('a', 'room-one')
        const two = await open('a', 'room-two')
        await one.save({ meta: meta('a', 'cluster-one'), entries: entries(1, 2, 1) })
        expect(await two.load()).toBeNull()
        expect((await one.load())!.meta.clusterId).toBe('cluster-one')
        expect(await harness.provider().listMembers('room-two')).toEqual([])
      })

      it('lists the members of a room (sorted by id) with their meta', async () => {
        for (const m of ['m3', 'm1', 'm2']) await (await open(m)).save({ meta: meta(m) })
        await (await open('no-meta-yet')).load()
        expect(await harness.provider().listMembers(ROOM)).toEqual([meta('m1'), meta('m2'), meta('m3')])
      })

      it('destroy forgets the slot, leaves its neighbours, and ends the storage', async () => {
        const a = await open('a')
        const b = await open('b')
        await a.save({ meta: meta('a'), hardState: { term: 1, vote: null, commit: 0 }, snapshot: snapshot(2, 1), entries: entries(3, 5, 1) })
        await b.save({ meta: meta('b'), entries: entries(1, 2, 1) })
        await a.destroy()
        expect(await harness.provider().listMembers(ROOM)).toEqual([meta('b')])
        await expectStorageError(a.save({ hardState: { term: 2, vote: null, commit: 0 } }), 'CLOSED')
        expect(await (await open('a')).load()).toBeNull()
        expect(indexes((await b.load())!.durable.entries)).toEqual([1, 2])
      })
    })

    describe('durability across reload', () => {
      it('a new provider sees everything saved before close', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a'), hardState: { term: 7, vote: 'c', commit: 4 }, snapshot: snapshot(3, 2), entries: entries(4, 9, 7) })
        await s.save({ entries: entries(8, 8, 8) })
        const reopened = await reload(s, 'a')
        const rec = (await reopened.load())!
        expect(rec.meta).toEqual(meta('a'))
        expect(rec.durable.hardState).toEqual({ term: 7, vote: 'c', commit: 4 })
        expect(rec.durable.snapshot).toEqual(snapshot(3, 2))
        expect(indexes(rec.durable.entries)).toEqual([4, 5, 6, 7, 8])
        expect(terms(rec.durable.entries)).toEqual([7, 7, 7, 7, 8])
        // the stored snapshot still governs saves after a reload
        await reopened.save({ entries: entries(2, 5, 9) })
        expect(indexes((await reopened.load())!.durable.entries)).toEqual([4, 5])
      })

      it('a slot closed and opened again at once by the same provider (a tab taking over) works', async () => {
        const provider = harness.provider()
        const s = await open('a', ROOM, provider)
        await s.save({ meta: meta('a'), entries: entries(1, 2, 1) })
        const closing = s.close()
        const again = await open('a', ROOM, provider)
        await closing
        await again.save({ entries: entries(3, 3, 1) })
        expect(indexes((await again.load())!.durable.entries)).toEqual([1, 2, 3])
        expect(await provider.listMembers(ROOM)).toEqual([meta('a')])
      })

      it('close and destroy are not failures: onFailure listeners are not called', async () => {
        const a = await open('a')
        const b = await open('b')
        const heard: StorageError[] = []
        a.onFailure?.((e) => heard.push(e))
        b.onFailure?.((e) => heard.push(e))
        await a.save({ meta: meta('a') })
        await b.save({ meta: meta('b') })
        await a.close()
        await b.destroy()
        await expectStorageError(a.load(), 'CLOSED')
        expect(heard).toEqual([])
      })

      it('saves issued before close complete; saves after close reject with CLOSED', async () => {
        const s = await open('a')
        await s.save({ meta: meta('a') })
        const pending = s.save({ entries: entries(1, 3, 1) })
        const closing = s.close()
        await expectStorageError(s.save({ entries: entries(4, 4, 1) }), 'CLOSED')
        await pending
        await closing
        const reopened = await reload(null, 'a')
        expect(indexes((await reopened.load())!.durable.entries)).toEqual([1, 2, 3])
      })
    })

    describe('failures', () => {
      for (const [kind, reason] of [
        ['quota', 'QUOTA_EXCEEDED'],
        ['abort', 'ABORTED'],
      ] as const) {
        it(`a write that fails (${kind}) rejects with STORAGE ${reason}, writes nothing of the batch, and ends the storage`, async () => {
          const s = await open('a')
          const heard: StorageError[] = []
          s.onFailure?.((e) => heard.push(e))
          await s.save({ meta: meta('a'), hardState: { term: 1, vote: 'a', commit: 0 }, entries: entries(1, 3, 1) })
          harness.failNextWrite(kind)
          const err = await expectStorageError(s.save({ hardState: { term: 2, vote: 'b', commit: 2 }, entries: entries(2, 6, 2) }), reason)
          expect(err.cause).toBeDefined()
          if (s.onFailure !== undefined) expect(heard).toEqual([err])
          // no silent partial state: every later save rejects with the same failure
          expect(await expectStorageError(s.save({ hardState: { term: 3, vote: null, commit: 0 } }))).toBe(err)
          const rec = (await (await reload(s, 'a')).load())!
          expect(rec.durable.hardState).toEqual({ term: 1, vote: 'a', commit: 0 })
          expect(indexes(rec.durable.entries)).toEqual([1, 2, 3])
          expect(terms(rec.durable.entries)).toEqual([1, 1, 1])
        })
      }

      it('a failure of one slot leaves the other slots of the room working', async () => {
        const a = await open('a')
        const b = await open('b')
        await a.save({ meta: meta('a') })
        await b.save({ meta: meta('b') })
        harness.failNextWrite('quota')
        await expectStorageError(a.save({ entries: entries(1, 2, 1) }), 'QUOTA_EXCEEDED')
        await b.save({ entries: entries(1, 2, 1) })
        expect(indexes((await b.load())!.durable.entries)).toEqual([1, 2])
      })

      it('a connection closed by the browser is heard through onFailure, with no save in flight', async (ctx) => {
        if (harness.loseConnection === undefined) ctx.skip()
        const s = await open('a')
        await s.save({ meta: meta('a'), entries: entries(1, 2, 1) })
        const heard = new Promise<StorageError>((resolve) => s.onFailure!(resolve))
        harness.loseConnection!(s)
        const err = await heard
        expect(err.reason).toBe('CONNECTION_LOST')
        expect(await expectStorageError(s.save({ entries: entries(3, 3, 1) }))).toBe(err)
        const rec = (await (await reload(null, 'a')).load())!
        expect(indexes(rec.durable.entries)).toEqual([1, 2])
      })
    })
  })
}
