// The browser id (src/browser/browser-id.ts). fake-indexeddb stands in for
// the profile's IndexedDB (one IDBFactory per profile); each tab has its own
// copy of localStorage, as a renderer does before another tab's write reaches
// it. The race itself, in Chromium, is what recipes.spec's election test met.
// the auto import defines IDBRequest and friends, which idb's wrap() looks for
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it } from 'vitest'
import { browserId } from '../../src/browser/browser-id'
import { MemoryWebStorage } from './fake-browser'

describe('browserId', () => {
  it('gives tabs opening together in a fresh profile one id, though none saw the other write localStorage', async () => {
    const profile = new IDBFactory()
    const tabs = [new MemoryWebStorage(), new MemoryWebStorage(), new MemoryWebStorage()]
    const ids = await Promise.all(tabs.map((local) => browserId(local, profile)))
    expect(new Set(ids).size).toBe(1)
    // each tab cached it: the next call opens no database
    for (const local of tabs) expect(local.getItem('meshkeeper:browser')).toBe(ids[0])
  })

  it('is read from the cache when there, is another in another profile, and a damaged cache is replaced by the decided id', async () => {
    const profile = new IDBFactory()
    const first = await browserId(new MemoryWebStorage(), profile)
    expect(await browserId(new MemoryWebStorage(), new IDBFactory())).not.toBe(first)
    const damaged = new MemoryWebStorage()
    damaged.setItem('meshkeeper:browser', '<script>')
    expect(await browserId(damaged, profile)).toBe(first)
    expect(damaged.getItem('meshkeeper:browser')).toBe(first)
    // a valid cached id is taken as it is: localStorage is the profile's own
    const cached = new MemoryWebStorage()
    cached.setItem('meshkeeper:browser', 'bcached')
    expect(await browserId(cached, profile)).toBe('bcached')
  })

  it('without IndexedDB (blocked storage) still gives a valid id and keeps it', async () => {
    const local = new MemoryWebStorage()
    const id = await browserId(local, null)
    expect(id).toMatch(/^b/)
    expect(await browserId(local, null)).toBe(id)
    const broken = { open: () => { throw new Error('blocked') } } as unknown as IDBFactory
    expect(await browserId(new MemoryWebStorage(), broken)).toMatch(/^b/)
  })
})
