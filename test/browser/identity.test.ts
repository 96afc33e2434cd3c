// Which member a tab runs (src/browser/identity.ts, invariant 4), on a fake
// browser: its Web Locks, each tab's sessionStorage, and memory storage
// standing in for the browser's IndexedDB. Behaviour only — which slot a
// tab gets, and what a reload, a duplicated tab or a dead tab changes — not
// how ids are made.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryMemberKeyStore } from '../../src/driver/member-keys'
import { acquireLock, bootstrapLockName, chooseMember, keyedSlotLister, memberLockName, roomSlotsHintKey } from '../../src/browser/identity'
import type { ChosenMember } from '../../src/browser/identity'
import { openReclaimRequests } from '../../src/browser/reclaim'
import { mayBeNewMember, readyNewMember } from '../../src/browser/new-member'
import type { ReclaimRequests } from '../../src/browser/reclaim'
import { MemoryStorageProvider } from '../../src/storage/memory'
import type { StorageProvider } from '../../src/storage/types'
import { createMemberKey } from '../../src/wire/member-key'
import type { MemberKey } from '../../src/wire/member-key'
import { FakeBrowserLocks, MemoryWebStorage, settle } from './fake-browser'
import type { FakeTab } from './fake-browser'

const room = 'room'

/** The slot's first save, as the member's start makes it (under the bootstrap lock). */
async function recordSlot(provider: StorageProvider, member: string): Promise<void> {
  const storage = await provider.open(room, member)
  await storage.save({ meta: { member, clusterId: 'c1', createdAt: 0 } })
  await storage.close()
}

/** One browser's slot keys, beside its slots (member ids are keys' ids). */
const keyStores = new WeakMap<StorageProvider, MemoryMemberKeyStore>()
function keysOf(provider: StorageProvider): MemoryMemberKeyStore {
  let store = keyStores.get(provider)
  if (store === undefined) keyStores.set(provider, (store = new MemoryMemberKeyStore()))
  return store
}

interface OpenedTab {
  tab: FakeTab
  chosen: ChosenMember
  session: MemoryWebStorage
}

/** A tab opening the room as joinMesh does: choose and record its member under the room's bootstrap lock. */
async function openTab(
  browser: FakeBrowserLocks,
  provider: StorageProvider,
  opts: { session?: MemoryWebStorage; isReload?: boolean; reloadWaitMs?: number; reclaim?: ReclaimRequests; newKey?: Promise<MemberKey> } = {},
): Promise<OpenedTab> {
  const tab = browser.tab()
  const session = opts.session ?? new MemoryWebStorage()
  const bootstrap = await acquireLock(tab.locks, bootstrapLockName(room))
  try {
    const chosen = await chooseMember({
      room,
      locks: tab.locks,
      provider,
      keys: keysOf(provider),
      tabStore: session,
      isReload: opts.isReload ?? false,
      ...(opts.reloadWaitMs === undefined ? {} : { reloadWaitMs: opts.reloadWaitMs }),
      ...(opts.reclaim === undefined ? {} : { reclaim: opts.reclaim }),
      ...(opts.newKey === undefined ? {} : { newKey: opts.newKey }),
    })
    await recordSlot(provider, chosen.member)
    return { tab, chosen, session }
  } finally {
    bootstrap!.release()
  }
}

/** A tab's old page is gone, and a survivor of the browser runs its member as a caretaker (holds its lock). */
async function caretakenAfterReload() {
  const browser = new FakeBrowserLocks()
  const provider = new MemoryStorageProvider()
  const before = await openTab(browser, provider)
  before.tab.die()
  const caretaking = (await acquireLock(browser.tab().locks, memberLockName(room, before.chosen.member)))!
  return { browser, provider, before, caretaking }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('identity: which member a tab runs', () => {
  it('a first tab gets a new member and holds its lock while it lives', async () => {
    const browser = new FakeBrowserLocks()
    const a = await openTab(browser, new MemoryStorageProvider())
    expect(a.chosen.source).toBe('new')
    expect(a.chosen.others).toEqual([])
    expect(browser.holder(memberLockName(room, a.chosen.member))).toBe(a.tab.name)
  })

  it('a new member takes the key drawn while its tab waited for the room lock; a clash (its lock held) draws afresh; a taken-back slot leaves it unused', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const drawn = await createMemberKey()
    const a = await openTab(browser, provider, { newKey: Promise.resolve(drawn) })
    expect(a.chosen.source).toBe('new')
    expect(a.chosen.member).toBe(drawn.id)
    expect(a.chosen.key).toBe(drawn)
    // kept with the slot, as a key drawn under the lock is
    expect((await keysOf(provider).get(room, drawn.id))?.id).toBe(drawn.id)
    // the same key again: its member's lock is held (the astronomically unlikely clash)
    const b = await openTab(browser, provider, { newKey: Promise.resolve(drawn) })
    expect(b.chosen.source).toBe('new')
    expect(b.chosen.member).not.toBe(drawn.id)
    // a's tab dies; a tab that adopts its slot leaves the drawn key unused
    a.tab.die()
    const spare = await createMemberKey()
    const c = await openTab(browser, provider, { newKey: Promise.resolve(spare) })
    expect(c.chosen.source).toBe('free-slot')
    expect(c.chosen.member).toBe(drawn.id)
    expect(await keysOf(provider).get(room, spare.id)).toBeNull()
  })

  it('a new member is the one readied before the room lock (its lock held, its key kept); one whose lock another context holds is not taken', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const tab = browser.tab()
    const key = await createMemberKey()
    const readied = readyNewMember({ room, locks: tab.locks, provider, keys: keysOf(provider), key: Promise.resolve(key) })
    expect(await readied.lock).not.toBeNull()
    await readied.keyKept
    expect((await keysOf(provider).get(room, key.id))?.id).toBe(key.id)
    const chosen = await chooseMember({ room, locks: tab.locks, provider, keys: keysOf(provider), tabStore: null, readied })
    expect(chosen).toMatchObject({ member: key.id, source: 'new', lock: await readied.lock })
    // the same key readied again: its lock is held, so the choice draws another
    await recordSlot(provider, key.id)
    const clash = readyNewMember({ room, locks: browser.tab().locks, provider, keys: keysOf(provider), key: Promise.resolve(key) })
    expect(await clash.lock).toBeNull()
    expect(await clash.storage).toBeNull()
    // the clash opened the holder's slot beside its lock request: closed, never destroyed
    expect((await provider.listMembers(room)).map((m) => m.member)).toEqual([key.id])
    const other = await chooseMember({ room, locks: browser.tab().locks, provider, keys: keysOf(provider), tabStore: null, readied: clash })
    expect(other.source).toBe('new')
    expect(other.member).not.toBe(key.id)
  })

  it('a member is readied ahead only by a tab that ran none of the room before, in a browser where no tab chose a slot of it', async () => {
    const provider = new MemoryStorageProvider()
    const session = new MemoryWebStorage()
    const browserStore = new MemoryWebStorage()
    expect(mayBeNewMember(null, browserStore, room)).toBe(true)
    // no localStorage (a sandboxed page): nothing says, nothing is readied
    expect(mayBeNewMember(null, null, room)).toBe(false)
    const locks = new FakeBrowserLocks().tab().locks
    const chosen = await chooseMember({ room, locks, provider, keys: keysOf(provider), tabStore: session, browserStore })
    expect(browserStore.getItem(roomSlotsHintKey(room))).not.toBeNull()
    expect(mayBeNewMember(null, browserStore, room)).toBe(false)
    expect(mayBeNewMember(chosen.member, new MemoryWebStorage(), room)).toBe(false)
  })

  it('a second tab of the browser never gets the member a live tab runs', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const a = await openTab(browser, provider)
    const b = await openTab(browser, provider)
    expect(b.chosen.member).not.toBe(a.chosen.member)
    expect(b.chosen.source).toBe('new')
    expect(b.chosen.others).toEqual([a.chosen.member])
  })

  it("a tab opened after another died takes the dead tab's slot instead of making a new member", async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const a = await openTab(browser, provider)
    const b = await openTab(browser, provider)
    a.tab.die()
    const c = await openTab(browser, provider)
    expect(c.chosen).toMatchObject({ member: a.chosen.member, source: 'free-slot', others: [b.chosen.member] })
    expect(browser.holder(memberLockName(room, a.chosen.member))).toBe(c.tab.name)
    expect((await provider.listMembers(room)).map((m) => m.member).sort()).toEqual([a.chosen.member, b.chosen.member].sort())
  })

  it('a reloaded tab takes its own member back, waiting for its previous page to let go of it', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const before = await openTab(browser, provider)
    await openTab(browser, provider) // another live tab: its slot is not the reload's to take
    // the new page starts while the old one still holds the member's lock
    const reloading = openTab(browser, provider, { session: before.session, isReload: true })
    await settle()
    expect(browser.waiting(memberLockName(room, before.chosen.member))).toBe(1)
    before.tab.die()
    const after = await reloading
    expect(after.chosen).toMatchObject({ member: before.chosen.member, source: 'reload' })
  })

  it('a reload whose previous page never lets go gives up after reloadWaitMs and runs another member', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const stuck = await openTab(browser, provider)
    let done: OpenedTab | null = null
    void openTab(browser, provider, { session: stuck.session, isReload: true, reloadWaitMs: 1500 }).then((t) => (done = t))
    await vi.advanceTimersByTimeAsync(1499)
    expect(done).toBeNull()
    await vi.advanceTimersByTimeAsync(1)
    // a new member needs a new key: WebCrypto settles on real I/O turns, not on faked timers
    for (let i = 0; i < 1000 && done === null; i++) await new Promise<void>((r) => setImmediate(r))
    expect(done).not.toBeNull()
    expect(done!.chosen.member).not.toBe(stuck.chosen.member)
    expect(done!.chosen.source).toBe('new')
    // its wait is withdrawn: the stuck page's member is not handed to it later
    expect(browser.waiting(memberLockName(room, stuck.chosen.member))).toBe(0)
  })

  it('a reload slower than the grace, whose member a survivor now runs as a caretaker, asks for it back and gets it', async () => {
    const { browser, provider, before, caretaking } = await caretakenAfterReload()
    // the caretaker gives it back when asked (join.ts's caretaker does)
    const caretakerHears = openReclaimRequests(room)
    const asked: string[] = []
    caretakerHears.listen((member) => {
      asked.push(member)
      caretaking.release()
    })
    const asking = openReclaimRequests(room)
    try {
      const after = await openTab(browser, provider, { session: before.session, isReload: true, reclaim: asking })
      expect(after.chosen).toMatchObject({ member: before.chosen.member, source: 'reload' })
      expect(asked[0]).toBe(before.chosen.member)
      expect(browser.holder(memberLockName(room, before.chosen.member))).toBe(after.tab.name)
    } finally {
      caretakerHears.close()
      asking.close()
    }
  })

  it('a reload whose member was retired (its slot destroyed) while it waited runs another member, not the destroyed one', async () => {
    const { browser, provider, before, caretaking } = await caretakenAfterReload()
    // the caretaker retires it (destroys the slot) and then lets go of the lock
    const reloading = openTab(browser, provider, { session: before.session, isReload: true })
    await settle()
    expect(browser.waiting(memberLockName(room, before.chosen.member))).toBe(1)
    await (await provider.open(room, before.chosen.member)).destroy()
    caretaking.release()
    const after = await reloading
    expect(after.chosen.member).not.toBe(before.chosen.member)
    expect(after.chosen.source).toBe('new')
    expect(browser.holder(memberLockName(room, before.chosen.member))).toBeNull()
  })

  it('a duplicated tab (same sessionStorage, not a reload) does not wait for the live original and gets its own member', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const original = await openTab(browser, provider)
    const copy = new MemoryWebStorage()
    for (let i = 0; i < original.session.length; i++) copy.setItem(original.session.key(i)!, original.session.getItem(original.session.key(i)!)!)
    const duplicate = await openTab(browser, provider, { session: copy, isReload: false })
    expect(duplicate.chosen.member).not.toBe(original.chosen.member)
    expect(browser.holder(memberLockName(room, original.chosen.member))).toBe(original.tab.name)
    // and from now on it reloads into its own member, not the original's
    duplicate.tab.die()
    const reloaded = await openTab(browser, provider, { session: copy, isReload: true })
    expect(reloaded.chosen).toMatchObject({ member: duplicate.chosen.member, source: 'reload' })
  })

  it("a tab that remembers a member whose tab is gone takes it at once, even when it is not a reload", async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const first = await openTab(browser, provider)
    first.tab.die()
    const restored = await openTab(browser, provider, { session: first.session, isReload: false })
    expect(restored.chosen).toMatchObject({ member: first.chosen.member, source: 'reload' })
  })

  it('tabs opening at once get different members, and one dead slot goes to exactly one of them', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const dead = await openTab(browser, provider)
    dead.tab.die()
    const opened = await Promise.all([openTab(browser, provider), openTab(browser, provider), openTab(browser, provider)])
    const members = opened.map((t) => t.chosen.member)
    expect(new Set(members).size).toBe(3)
    expect(opened.filter((t) => t.chosen.member === dead.chosen.member)).toHaveLength(1)
    expect(opened.filter((t) => t.chosen.source === 'new')).toHaveLength(2)
  })

  it('never chooses a slot whose name is not a member id', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    await recordSlot(provider, 'not a member id!')
    const a = await openTab(browser, provider)
    expect(a.chosen.member).not.toBe('not a member id!')
    expect(a.chosen.source).toBe('new')
  })
})

describe('identity: Web Locks held for the life of a tab', () => {
  it('a held lock is refused to ifAvailable requests, and freed by release() or by the death of its tab', async () => {
    const browser = new FakeBrowserLocks()
    const [a, b] = [browser.tab(), browser.tab()]
    const first = await acquireLock(a.locks, 'x')
    expect(first).not.toBeNull()
    expect(await acquireLock(b.locks, 'x', { ifAvailable: true })).toBeNull()
    first!.release()
    first!.release() // idempotent
    await first!.released
    const second = await acquireLock(b.locks, 'x', { ifAvailable: true })
    expect(browser.holder('x')).toBe(b.name)
    expect(second).not.toBeNull()
    b.die() // nothing in a dead tab hears of it; the browser frees its locks
    expect(browser.holder('x')).toBeNull()
    expect(await acquireLock(a.locks, 'x', { ifAvailable: true })).not.toBeNull()
  })

  it('a wait that runs out resolves null and leaves the queue', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const browser = new FakeBrowserLocks()
    const holder = await acquireLock(browser.tab().locks, 'x')
    const waiting = acquireLock(browser.tab().locks, 'x', { waitMs: 100 })
    await settle()
    expect(browser.waiting('x')).toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(await waiting).toBeNull()
    expect(browser.waiting('x')).toBe(0)
    holder!.release()
    await holder!.released
    expect(browser.held()).toEqual([])
  })
})

describe('keyedSlotLister: the death watch lists the browser\'s keyed slots at every refresh', () => {
  it('reads a member\'s key until it was found once, never again; a slot without its key is left out', async () => {
    const browser = new FakeBrowserLocks()
    const provider = new MemoryStorageProvider()
    const a = await openTab(browser, provider)
    const b = await openTab(browser, provider)
    const keyless = 'slot-from-before-keyed-ids'
    await recordSlot(provider, keyless) // no key owns it: never listed, its key looked for at each refresh
    const keys = keysOf(provider)
    const reads: string[] = []
    const counting = {
      get: (r: string, member: string) => {
        reads.push(member)
        return keys.get(r, member)
      },
      put: (r: string, key: Parameters<typeof keys.put>[1]) => keys.put(r, key),
    }
    const list = keyedSlotLister(provider, counting, room)
    const both = [a.chosen.member, b.chosen.member].sort()
    const keyReads = () => reads.filter((m) => m !== keyless).sort()
    expect((await list()).sort()).toEqual(both)
    expect(keyReads()).toEqual(both)
    // refreshes read the slot list, not the keys found before (every tab did, every 2 s: n² reads)
    expect((await list()).sort()).toEqual(both)
    expect((await list()).sort()).toEqual(both)
    expect(keyReads()).toEqual(both)
    expect(reads.filter((m) => m === keyless)).toHaveLength(3)
    // a slot listed before its key is stored is read again until the key is there
    const c = await openTab(browser, provider)
    const cKey = await keys.get(room, c.chosen.member)
    const withoutKey = new MemoryMemberKeyStore()
    for (const id of [a.chosen.member, b.chosen.member]) await withoutKey.put(room, (await keys.get(room, id))!)
    const late = keyedSlotLister(provider, { get: (r, m) => (reads.push(m), withoutKey.get(r, m)), put: (r, k) => withoutKey.put(r, k) }, room)
    reads.length = 0
    expect((await late()).sort()).toEqual(both)
    await withoutKey.put(room, cKey!)
    expect((await late()).sort()).toEqual([...both, c.chosen.member].sort())
    expect(reads.filter((m) => m === c.chosen.member)).toHaveLength(2)
    expect(reads.filter((m) => m === a.chosen.member)).toHaveLength(1)
    // and the first lister reads only the new member's key
    reads.length = 0
    expect((await list()).sort()).toEqual([...both, c.chosen.member].sort())
    expect(reads.sort()).toEqual([c.chosen.member, keyless].sort())
  })
})
