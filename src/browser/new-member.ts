// A new member, readied while the tab waits for the room's bootstrap lock
// (issue 17: the first tab ever, joinMesh → first write ≤ 50 ms).
//
// A tab that will run a new member used to do three things one after the
// other once the room lock was granted and the slots listed: take the new
// key's member lock, keep the key, and create the slot's database. None of
// them depends on the choice: the member id is the fresh key's, which no
// other context can hold (identity.ts), so its lock, its key and its slot can
// be made ready beside the room lock and the room's database. The choice
// itself stays under the room lock (identity.ts): only there is the member
// picked, and only there does the tab decide whether it founds.
//
// Readied only when the tab is likely to run a new member: no member of the
// tab before (a reload takes its own back) and no slot of the room ever
// chosen in this browser (mayBeNewMember). A readied member the choice does
// not use (a slot of the room was free after all) is destroyed: it was never
// listed, so nobody ever saw it; its kept key names nothing (member-keys.ts).
//
// What stays true: a listed slot's database is opened only by the holder of
// its member lock (a fresh slot, listed by nobody, is opened beside its lock
// request: readyNewMember); the key is kept before the slot's
// first save (chooseMember's keyKept); the slot is listed in the room only by
// its first save, under the room lock.
import type { StorageProvider } from '../storage/types'
import type { MemberKey } from '../wire/member-key'
import type { MemberKeyStore } from '../driver/member-keys'
import { acquireLock, memberLockName, roomSlotsHintKey } from './identity'
import type { LockManagerLike, ReadiedMember } from './identity'

/**
 * Is a new member likely? Not when the tab ran a member of the room before
 * (sessionStorage: a reload, or a duplicated tab), nor when a tab of this
 * browser chose a slot of the room before (localStorage). A hint only: a
 * wrong guess costs a slot made and destroyed, or a member readied late (as
 * before), never a different choice.
 */
export function mayBeNewMember(rememberedMember: string | null, browserStore: Storage | null, room: string): boolean {
  if (rememberedMember !== null) return false
  try {
    return browserStore?.getItem(roomSlotsHintKey(room)) === null
  } catch {
    return false
  }
}

/**
 * Take `key`'s member lock, keep the key and open its slot, all three side by
 * side. The slot and the key do not wait for the lock: the id is a fresh
 * key's, which nobody else can know, let alone hold or open, until the slot's
 * first save lists it (under the room lock, after this lock is held). A page's
 * first Web Lock is granted only once the browser has connected the page to
 * its storage (10–30 ms in a fresh page, bench lifecycle): creating the slot's
 * database after it put the creation (3–15 ms) after that wait. Should the
 * lock not be had (a clash: the key is another context's, which only a broken
 * random source or a test can make), the slot is closed unused, not destroyed
 * (it is the holder's); opening it only read it.
 */
export function readyNewMember(o: { room: string; locks: LockManagerLike; provider: StorageProvider; keys: MemberKeyStore; key: Promise<MemberKey> }): ReadiedMember {
  const lock = o.key.then((key) => acquireLock(o.locks, memberLockName(o.room, key.id), { ifAvailable: true }))
  const keyKept = o.key.then((key) => o.keys.put(o.room, key))
  const opened = o.key.then((key) => o.provider.open(o.room, key.id))
  const storage = Promise.all([lock.catch(() => null), opened]).then(async ([l, s]) => {
    if (l !== null) return s
    // a clash: the slot is another context's (it holds the lock), never ours to destroy
    await s.close()
    return null
  })
  // each is awaited where it is used (the choice, the member's start) or by discardReadied
  for (const p of [lock, keyKept, opened, storage]) p.catch(() => undefined)
  return { key: o.key, lock, keyKept, storage }
}

/** Let go of a readied member the choice did not take: its slot destroyed (never listed), its lock released. */
export async function discardReadied(r: ReadiedMember): Promise<void> {
  const lock = await r.lock.catch(() => null)
  try {
    const storage = await r.storage.catch(() => null)
    if (storage !== null) await storage.destroy().catch(() => storage.close())
  } finally {
    lock?.release()
  }
}
