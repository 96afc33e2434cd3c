// Which member a tab runs (src/browser/identity.ts) now that a member id is the
// id of its key (issue 13): a new member gets a fresh key kept with its slot,
// a slot is taken back with its key, and a slot from before keyed ids (no
// key) is ignored — never chosen, not counted — and left on disk.
import { describe, expect, it } from 'vitest'
import { chooseMember } from '../../src/browser/identity'
import type { LockManagerLike } from '../../src/browser/identity'
import { MemoryMemberKeyStore } from '../../src/driver/member-keys'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { KEYED_MEMBER_ID, createMemberKey, deriveMemberId } from '../../src/wire/member-key'

/** Web Locks in one process: exclusive, ifAvailable, no waiting queue needed
 *  here; the callback runs on a later microtask, as the browser's does */
function fakeLocks(): LockManagerLike & { held: Set<string> } {
  const held = new Set<string>()
  const request = (async (name: string, options: LockOptions, callback: (lock: Lock | null) => unknown) => {
    await Promise.resolve()
    if (held.has(name)) {
      if (options.ifAvailable === true) return callback(null)
      throw new Error(`test locks do not queue (${name})`)
    }
    held.add(name)
    try {
      return await callback({ name, mode: 'exclusive' } as Lock)
    } finally {
      held.delete(name)
    }
  }) as LockManagerLike['request']
  return { request, held }
}

function memoryTabStore(): Storage {
  const m = new Map<string, string>()
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) } as Storage
}

async function slot(provider: MemoryStorageProvider, room: string, member: string): Promise<void> {
  const s = await provider.open(room, member)
  await s.save({ meta: { member, clusterId: 'c1', createdAt: 0 } })
  await s.close()
}

describe('chooseMember with member keys', () => {
  it('a new member: its id is its new key’s, and the key is kept with the slot', async () => {
    const provider = new MemoryStorageProvider()
    const keys = new MemoryMemberKeyStore()
    const chosen = await chooseMember({ room: 'r', locks: fakeLocks(), provider, keys, tabStore: memoryTabStore(), isReload: false })
    expect(chosen.source).toBe('new')
    expect(chosen.member).toBe(chosen.key.id)
    expect(chosen.member).toBe(deriveMemberId(chosen.key))
    expect(chosen.member).toMatch(KEYED_MEMBER_ID)
    expect(await keys.get('r', chosen.member)).toBe(chosen.key)
    chosen.lock.release()
  })

  it('a slot from before keyed ids (no key) is ignored: not chosen, not counted, left on disk', async () => {
    const provider = new MemoryStorageProvider()
    const keys = new MemoryMemberKeyStore()
    await slot(provider, 'r', 'mlegacy0123456789ab')
    const tabStore = memoryTabStore()
    // even a tab that ran it before a reload does not take it back
    tabStore.setItem('meshkeeper:r:member', 'mlegacy0123456789ab')
    const chosen = await chooseMember({ room: 'r', locks: fakeLocks(), provider, keys, tabStore, isReload: true })
    expect(chosen.source).toBe('new')
    expect(chosen.member).not.toBe('mlegacy0123456789ab')
    expect(chosen.others).toEqual([]) // a browser with only a legacy slot chooses as one with none
    expect((await provider.listMembers('r')).map((m) => m.member)).toContain('mlegacy0123456789ab')
    chosen.lock.release()
  })

  it('a keyed slot whose lock is free is taken with its key; a slot under another key is not', async () => {
    const provider = new MemoryStorageProvider()
    const keys = new MemoryMemberKeyStore()
    const key = await createMemberKey()
    await keys.put('r', key)
    await slot(provider, 'r', key.id)
    // a slot whose stored key is not its id's (tampered, or another slot's) counts as keyless
    const other = await createMemberKey()
    await slot(provider, 'r', 'kaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
    await keys.put('r', { ...other, id: 'kaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' })
    const locks = fakeLocks()
    const chosen = await chooseMember({ room: 'r', locks, provider, keys, tabStore: memoryTabStore(), isReload: false })
    expect(chosen.source).toBe('free-slot')
    expect(chosen.member).toBe(key.id)
    expect(chosen.key.id).toBe(key.id)
    expect(chosen.others).toEqual([])
    // a second tab finds the slot held and makes a member of its own
    const second = await chooseMember({ room: 'r', locks, provider, keys, tabStore: memoryTabStore(), isReload: false })
    expect(second.source).toBe('new')
    expect(second.others).toEqual([key.id])
    chosen.lock.release()
    second.lock.release()
  })

  it('a reloaded tab takes its keyed member back', async () => {
    const provider = new MemoryStorageProvider()
    const keys = new MemoryMemberKeyStore()
    const tabStore = memoryTabStore()
    const first = await chooseMember({ room: 'r', locks: fakeLocks(), provider, keys, tabStore, isReload: false })
    await slot(provider, 'r', first.member)
    first.lock.release()
    const again = await chooseMember({ room: 'r', locks: fakeLocks(), provider, keys, tabStore, isReload: true })
    expect(again.source).toBe('reload')
    expect(again.member).toBe(first.member)
    expect(again.key).toBe(first.key)
    again.lock.release()
  })
})
