import { describe, expect, it } from 'vitest'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { StorageError } from '../../src/storage/errors'
import type { SaveBatch } from '../../src/storage/types'
import { entries, meta, storageAcceptance, type InjectedFailure } from './acceptance'

storageAcceptance('memory', () => {
  let failNext: InjectedFailure | null = null
  const provider = new MemoryStorageProvider({
    persist: () => {
      const kind = failNext
      failNext = null
      if (kind === 'quota') throw new DOMException('simulated quota', 'QuotaExceededError')
      if (kind === 'abort') throw new DOMException('simulated abort', 'AbortError')
    },
  })
  return {
    // one provider is one browser's memory: a "reload" opens it again
    provider: () => provider,
    failNextWrite: (kind) => {
      failNext = kind
    },
  }
})

describe('MemoryStorageProvider: the persist hook models a disk with latency', () => {
  function heldDisk(): { provider: MemoryStorageProvider; held: Array<{ resolve: () => void; reject: (e: unknown) => void }> } {
    const held: Array<{ resolve: () => void; reject: (e: unknown) => void }> = []
    const provider = new MemoryStorageProvider({
      persist: () => new Promise<void>((resolve, reject) => held.push({ resolve, reject })),
    })
    return { provider, held }
  }
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

  it('a save is durable (visible to a new storage) only once its persist resolves', async () => {
    const { provider, held } = heldDisk()
    const s = await provider.open('r', 'a')
    let done = false
    const saving = s.save({ meta: meta('a'), entries: entries(1, 2, 1) }).then(() => (done = true))
    await settle()
    expect(held).toHaveLength(1)
    expect(done).toBe(false)
    expect(await (await provider.open('r', 'a')).load()).toBeNull()
    held[0]!.resolve()
    await saving
    expect((await (await provider.open('r', 'a')).load())!.durable.entries).toHaveLength(2)
  })

  it('a crash (persists never resolved, storage dropped) loses exactly the saves not yet durable', async () => {
    const { provider, held } = heldDisk()
    const s = await provider.open('r', 'a')
    void s.save({ meta: meta('a'), entries: entries(1, 2, 1) })
    await settle()
    void s.save({ entries: entries(3, 4, 1) })
    await settle()
    expect(held).toHaveLength(1)
    held[0]!.resolve()
    await settle()
    // the second save reached persist only after the first completed (call order)
    expect(held).toHaveLength(2)
    // crash: held[1] is never resolved, the old storage is abandoned
    const rec = (await (await provider.open('r', 'a')).load())!
    expect(rec.durable.entries.map((e) => e.index)).toEqual([1, 2])
  })

  it('group commit: saves made while one is held reach persist as ONE merged batch, each resolving once it is durable', async () => {
    const seen: SaveBatch[] = []
    const held: Array<() => void> = []
    const provider = new MemoryStorageProvider({
      persist: ({ batch }) => {
        seen.push(batch)
        return new Promise<void>((resolve) => held.push(resolve))
      },
    })
    const s = await provider.open('r', 'a')
    const done: number[] = []
    const first = s.save({ meta: meta('a'), entries: entries(1, 3, 1) }).then(() => done.push(1))
    await settle()
    // on the disk: the first. Behind it: an append, a conflicting suffix, a hard state
    const rest = [
      s.save({ entries: entries(4, 5, 1) }).then(() => done.push(2)),
      s.save({ entries: entries(5, 6, 2), hardState: { term: 2, vote: 'b', commit: 3 } }).then(() => done.push(3)),
      s.save({ hardState: { term: 2, vote: 'b', commit: 4 } }).then(() => done.push(4)),
    ]
    await settle()
    expect(seen).toHaveLength(1)
    held[0]!()
    await first
    await settle()
    expect(seen).toHaveLength(2)
    expect(seen[1]!.entries!.map((e) => [e.index, e.term])).toEqual([[4, 1], [5, 2], [6, 2]])
    expect(seen[1]!.hardState).toEqual({ term: 2, vote: 'b', commit: 4 })
    // not durable yet: none of the merged saves has resolved
    expect(done).toEqual([1])
    held[1]!()
    await Promise.all(rest)
    expect(done).toEqual([1, 2, 3, 4])
    const rec = (await (await provider.open('r', 'a')).load())!
    expect(rec.durable.entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 1], [4, 1], [5, 2], [6, 2]])
  })

  it('group commit keeps a save behind a gap in a transaction of its own (no merged batch has its effect)', async () => {
    const seen: SaveBatch[] = []
    const provider = new MemoryStorageProvider({ persist: ({ batch }) => void seen.push(batch) })
    const s = await provider.open('r', 'a')
    await s.save({ meta: meta('a'), entries: entries(1, 6, 1) })
    seen.length = 0
    void s.save({ entries: entries(2, 2, 2) })
    await s.save({ entries: entries(5, 5, 2) })
    expect(seen.map((b) => b.entries!.map((e) => e.index))).toEqual([[2], [5]])
    // saved one by one: 2 cut 3..6, so 5 stands behind a gap and load stops at 2
    expect((await s.load())!.durable.entries.map((e) => e.index)).toEqual([1, 2])
  })

  it('a persist that rejects with a plain error fails the storage with FAILED and tells onFailure', async () => {
    const { provider, held } = heldDisk()
    const s = await provider.open('r', 'a')
    const heard: StorageError[] = []
    s.onFailure!((e) => heard.push(e))
    const saving = s.save({ meta: meta('a') })
    await settle()
    const cause = new Error('disk on fire')
    held[0]!.reject(cause)
    const err = await saving.then(
      () => null,
      (e: unknown) => e as StorageError,
    )
    expect(err).toBeInstanceOf(StorageError)
    expect(err!.reason).toBe('FAILED')
    expect(err!.cause).toBe(cause)
    expect(heard).toEqual([err])
    expect(await (await provider.open('r', 'a')).load()).toBeNull()
  })

  it('two providers are two browsers: nothing is shared between them', async () => {
    const one = new MemoryStorageProvider()
    const two = new MemoryStorageProvider()
    await (await one.open('r', 'a')).save({ meta: meta('a') })
    expect(await two.listMembers('r')).toEqual([])
    expect(await one.listMembers('r')).toEqual([meta('a')])
  })
})
