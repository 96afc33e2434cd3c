// Issue 17, item 1: what a tab's join waits for on its way to the first write
// (src/browser/join.ts), step by step, in Node over fake Web Locks and
// fake-indexeddb: no step waits for another it does not need, and no slot is
// read twice. (The figures themselves are the bench's `lifecycle` part.)
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BROWSER_TAB, joinMesh } from '../../src/browser/join'
import type { BrowserTabInfo } from '../../src/browser/join'
import { acquireLock, bootstrapLockName, memberLockName, roomSlotsHintKey } from '../../src/browser/identity'
import { IndexedDbStorage } from '../../src/storage/idb-storage'
import { IndexedDbStorageProvider, slotDatabaseName } from '../../src/storage/indexeddb'
import { IndexedDbMemberKeyStore } from '../../src/browser/member-keys'
import type { Mesh } from '../../src/shared/types'
import { FakeBrowserLocks, MemoryWebStorage, withVisiblePage } from './fake-browser'

withVisiblePage()

const opened: Mesh[] = []
afterEach(async () => {
  for (const mesh of opened.splice(0)) await mesh.close()
  vi.restoreAllMocks()
  globalThis.indexedDB = new IDBFactory()
  delete (globalThis as { localStorage?: Storage }).localStorage
})

/** the browser's localStorage (Node has none: joinMesh then readies no member ahead) */
function withLocalStorage(): MemoryWebStorage {
  const store = new MemoryWebStorage()
  ;(globalThis as { localStorage?: Storage }).localStorage = store
  return store
}

/** the member ids whose keys were kept, in order */
function keptKeys(): string[] {
  const put = IndexedDbMemberKeyStore.prototype.put
  const ids: string[] = []
  vi.spyOn(IndexedDbMemberKeyStore.prototype, 'put').mockImplementation(function (this: IndexedDbMemberKeyStore, room, key) {
    ids.push(key.id)
    return put.call(this, room, key)
  })
  return ids
}

describe('joinMesh, step by step', () => {
  it('reads the slot once: the member starts on what the join read to decide whether to found', async () => {
    globalThis.indexedDB = new IDBFactory()
    const loads = vi.spyOn(IndexedDbStorage.prototype, 'load')
    const browser = new FakeBrowserLocks()
    const first = await joinMesh({ room: 'once', locks: browser.tab().locks })
    opened.push(first)
    await first.create('/a', 'x')
    expect(loads).toHaveBeenCalledTimes(1)
    // reopened (every tab closed): the slot, with its log, is read once too
    await first.close()
    opened.splice(0)
    const again = await joinMesh({ room: 'once', locks: browser.tab().locks })
    opened.push(again)
    expect(again.id).toBe(first.id)
    // its own write applies after the log it reopened with
    await again.create('/b', 'y')
    expect((await again.get('/a')).text()).toBe('x')
    expect(loads).toHaveBeenCalledTimes(2)
  })

  it("opens a new member's storage while its key is being written (awaited before the slot's first save)", async () => {
    globalThis.indexedDB = new IDBFactory()
    const put = IndexedDbMemberKeyStore.prototype.put
    let keyWritten!: () => void
    const written = new Promise<void>((r) => (keyWritten = r))
    vi.spyOn(IndexedDbMemberKeyStore.prototype, 'put').mockImplementation(async function (this: IndexedDbMemberKeyStore, ...args) {
      await written
      return put.apply(this, args)
    })
    const opens = vi.spyOn(IndexedDbStorageProvider.prototype, 'open')
    const saves = vi.spyOn(IndexedDbStorage.prototype, 'save')
    const joining = joinMesh({ room: 'key-beside', locks: new FakeBrowserLocks().tab().locks })
    await expect.poll(() => opens.mock.calls.length, { timeout: 2_000 }).toBe(1)
    // nothing is saved in the slot before its key is kept
    expect(saves).not.toHaveBeenCalled()
    keyWritten()
    const mesh = await joining
    opened.push(mesh)
    expect(saves).toHaveBeenCalled()
    await mesh.create('/c', 'z')
  })

  it("a new member's key that cannot be kept fails the join before the slot's first save, and frees the member's lock", async () => {
    globalThis.indexedDB = new IDBFactory()
    vi.spyOn(IndexedDbMemberKeyStore.prototype, 'put').mockRejectedValue(new Error('quota'))
    const saves = vi.spyOn(IndexedDbStorage.prototype, 'save')
    const browser = new FakeBrowserLocks()
    await expect(joinMesh({ room: 'key-fails', locks: browser.tab().locks })).rejects.toThrow('quota')
    expect(saves).not.toHaveBeenCalled()
    expect(browser.held()).toEqual([])
  })

  it('takes its slot while the browser id is still being decided (a fresh profile creates its database)', async () => {
    const real = new IDBFactory()
    // the browser id's database answers only when told to: its open fails then (the id falls back to a random one)
    let failBrowserDb: (() => void) | null = null
    const factory = Object.assign(Object.create(real) as IDBFactory, {
      open: (name: string, version?: number): IDBOpenDBRequest => {
        if (name !== 'meshkeeper-browser') return real.open(name, version)
        const held = { error: new Error('held by the test') } as unknown as IDBOpenDBRequest
        failBrowserDb = () => (held.onerror as (() => void) | null)?.()
        return held
      },
    })
    globalThis.indexedDB = factory
    const browser = new FakeBrowserLocks()
    const joining = joinMesh({ room: 'parallel', locks: browser.tab().locks })
    // the room lock is taken, the slot chosen and locked, before the browser id is known
    await expect.poll(() => browser.held().some((name) => name.startsWith('meshkeeper:parallel:member:')), { timeout: 2_000 }).toBe(true)
    expect(failBrowserDb).not.toBeNull()
    failBrowserDb!()
    const mesh = await joining
    opened.push(mesh)
    const info = (mesh as unknown as Record<symbol, BrowserTabInfo>)[BROWSER_TAB]!
    expect(info.browser).toMatch(/^b/)
    expect(browser.holder(memberLockName('parallel', mesh.id))).not.toBeNull()
    await mesh.create('/b', 'y')
  })

  it("readies a first tab's new member while another tab holds the room lock: its lock, its key and its slot, then runs it", async () => {
    globalThis.indexedDB = new IDBFactory()
    const browserStore = withLocalStorage()
    const kept = keptKeys()
    const opens = vi.spyOn(IndexedDbStorageProvider.prototype, 'open')
    const saves = vi.spyOn(IndexedDbStorage.prototype, 'save')
    const browser = new FakeBrowserLocks()
    const other = await acquireLock(browser.tab().locks, bootstrapLockName('ready'))
    const joining = joinMesh({ room: 'ready', locks: browser.tab().locks })
    await expect.poll(() => opens.mock.calls.length, { timeout: 2_000 }).toBe(1)
    await expect.poll(() => kept.length, { timeout: 2_000 }).toBe(1)
    const member = kept[0]!
    // all before the room lock: the member's lock held, nothing saved, nothing listed
    expect(browser.holder(memberLockName('ready', member))).not.toBeNull()
    expect(opens.mock.calls[0]).toEqual(['ready', member])
    expect(saves).not.toHaveBeenCalled()
    expect(await new IndexedDbStorageProvider().listMembers('ready')).toEqual([])
    other!.release()
    const mesh = await joining
    opened.push(mesh)
    expect(mesh.id).toBe(member)
    const info = (mesh as unknown as Record<symbol, BrowserTabInfo>)[BROWSER_TAB]!
    expect(info).toMatchObject({ source: 'new', founded: true })
    // the slot readied is the one the member runs: not opened again
    expect(opens).toHaveBeenCalledTimes(1)
    expect(browserStore.getItem(roomSlotsHintKey('ready'))).not.toBeNull()
    await mesh.create('/r', 'x')
  })

  it('a readied member the choice does not take (a slot of the room was free after all) is destroyed, never listed, and its lock let go', async () => {
    globalThis.indexedDB = new IDBFactory()
    withLocalStorage()
    const browser = new FakeBrowserLocks()
    const first = await joinMesh({ room: 'spare', locks: browser.tab().locks })
    await first.close()
    // a browser whose localStorage was cleared: nothing says the room has a slot here
    withLocalStorage()
    const kept = keptKeys()
    const destroys = vi.spyOn(IndexedDbStorage.prototype, 'destroy')
    const again = await joinMesh({ room: 'spare', locks: browser.tab().locks })
    opened.push(again)
    expect(again.id).toBe(first.id)
    expect((again as unknown as Record<symbol, BrowserTabInfo>)[BROWSER_TAB]!.source).toBe('free-slot')
    expect(kept).toHaveLength(1)
    const readied = kept[0]!
    await expect.poll(() => destroys.mock.calls.length, { timeout: 2_000 }).toBe(1)
    await expect.poll(() => browser.holder(memberLockName('spare', readied)), { timeout: 2_000 }).toBeNull()
    await expect.poll(async () => (await indexedDB.databases()).some((d) => d.name === slotDatabaseName('spare', readied)), { timeout: 2_000 }).toBe(false)
    expect((await new IndexedDbStorageProvider().listMembers('spare')).map((m) => m.member)).toEqual([first.id])
  })
})
