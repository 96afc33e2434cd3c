import { describe, expect, it } from 'vitest'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { StorageError } from '../../src/storage/errors'
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
    void s.save({ entries: entries(3, 4, 1) })
    await settle()
    held[0]!.resolve()
    await settle()
    // the second save reached persist only after the first completed (call order)
    expect(held).toHaveLength(2)
    // crash: held[1] is never resolved, the old storage is abandoned
    const rec = (await (await provider.open('r', 'a')).load())!
    expect(rec.durable.entries.map((e) => e.index)).toEqual([1, 2])
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
