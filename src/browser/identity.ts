// Identity (invariant 4): a member is durable state plus an exclusive Web Lock.
//
// A member id names a slot in this browser's IndexedDB for the room. The tab
// that holds the member's lock (`meshkeeper:<room>:member:<id>`) runs it, for
// the life of the tab: the browser releases the lock when the tab dies, so no
// two live copies of a member can exist, and a free lock is a death
// certificate (invariant 5, see browser-death-watch.ts).
//
// Which member a tab runs, first match wins:
//   1. the member this tab ran before a reload (remembered in sessionStorage;
//      a caretaker that runs it meanwhile is asked to give it back, reclaim.ts);
//   2. a slot of this browser for the room whose lock is free (its tab died);
//   3. a new member: a fresh key pair, the id derived from its public key
//      (src/wire/member-key.ts), so it is never reused by another browser and
//      no one without the key can claim it.
// The key is kept with the slot (member-keys.ts) and taken with it. A slot
// without a key — made before member ids were keys (a random id) — cannot
// prove its id to any peer: it is ignored (never chosen, not counted as a slot
// of the room, never taken over) and left on disk untouched; a tab of such a
// browser makes a fresh keyed member and joins (or founds) as a browser with
// no slots would.
// The choice and the member's first save happen under the room-wide
// bootstrap lock, so two tabs opening at once neither pick the same slot nor
// both found a cluster.
import type { Storage as SlotStorage, StorageProvider } from '../storage/types'
import { MEMBER_ID_PATTERN } from '../wire/limits'
import { createMemberKey } from '../wire/member-key'
import type { MemberKey } from '../wire/member-key'
import type { MemberKeyStore } from '../driver/member-keys'
import { keepAsking } from './reclaim'
import type { ReclaimRequests } from './reclaim'

/** The part of `navigator.locks` we use (injectable for tests). */
export type LockManagerLike = Pick<LockManager, 'request'>

export const memberLockName = (room: string, member: string): string => `meshkeeper:${room}:member:${member}`
export const bootstrapLockName = (room: string): string => `meshkeeper:${room}:bootstrap`
const rememberedKey = (room: string): string => `meshkeeper:${room}:member`

/** The member this tab ran before (sessionStorage), if any. */
export function rememberedMember(tabStore: Storage | null, room: string): string | null {
  try {
    return tabStore?.getItem(rememberedKey(room)) ?? null
  } catch {
    return null
  }
}

/** A new member made ready before the choice (new-member.ts): its key, its lock held, its key kept, its slot open. */
export interface ReadiedMember {
  key: Promise<MemberKey>
  /** the key's member lock, held; null when another context holds it (a clash, astronomically unlikely) */
  lock: Promise<HeldLock | null>
  /** settles once the key is kept; rejects if it could not be (the join awaits it before the slot's first save) */
  keyKept: Promise<void>
  /** the slot's storage, opened (and created) beside the lock request; null without the lock (then destroyed) */
  storage: Promise<SlotStorage | null>
}

/** localStorage: a slot of `room` was chosen in this browser once (a hint only, see mayBeNewMember) */
export const roomSlotsHintKey = (room: string): string => `meshkeeper:${room}:slots`

/** A Web Lock this tab holds until `release()` (or until the tab dies). */
export interface HeldLock {
  readonly name: string
  /** give the lock back; idempotent */
  release(): void
  /** settles once the browser has released the lock (after release() or a steal) */
  readonly released: Promise<void>
}

export interface AcquireOptions {
  /** do not wait: resolve null at once when another context holds the lock */
  ifAvailable?: boolean
  /** give up waiting after this many ms (resolves null) */
  waitMs?: number
}

/**
 * Request an exclusive Web Lock and keep it until `release()`. Resolves null
 * when `ifAvailable` finds it held or `waitMs` runs out before it is granted.
 */
export function acquireLock(locks: LockManagerLike, name: string, opts: AcquireOptions = {}): Promise<HeldLock | null> {
  return new Promise<HeldLock | null>((resolve, reject) => {
    let release!: () => void
    const holding = new Promise<void>((r) => (release = r))
    const controller = opts.waitMs === undefined ? null : new AbortController()
    const timer = controller === null ? null : setTimeout(() => controller.abort(), opts.waitMs)
    let granted = false
    const request = locks.request(
      name,
      { mode: 'exclusive', ...(opts.ifAvailable === true ? { ifAvailable: true } : {}), ...(controller === null ? {} : { signal: controller.signal }) },
      (lock) => {
        if (timer !== null) clearTimeout(timer)
        if (lock === null) {
          resolve(null)
          return undefined
        }
        granted = true
        resolve({ name, release, released: request.then(() => undefined, () => undefined) })
        // the lock is ours while this promise is pending
        return holding
      },
    )
    request.catch((err: unknown) => {
      if (timer !== null) clearTimeout(timer)
      // an abort before the grant is the wait running out; anything else is a real failure
      if (granted) return
      if (controller?.signal.aborted === true) resolve(null)
      else reject(err)
    })
  })
}

export interface ChosenMember {
  member: string
  /** the key the member id derives from: it signs the member's hellos */
  key: MemberKey
  lock: HeldLock
  /** how it was chosen (diagnostics and tests) */
  source: 'reload' | 'free-slot' | 'new'
  /** keyed slots of the room in this browser other than ours, at the time of the choice */
  others: string[]
  /** settles once a new member's key is kept (at once for a slot that had one): await it before the slot's first save */
  keyKept: Promise<void>
}

export interface ChooseMemberOptions {
  room: string
  locks: LockManagerLike
  provider: StorageProvider
  /** where the slots' keys are kept */
  keys: MemberKeyStore
  /** sessionStorage: survives a reload of this tab, not shared with other tabs */
  tabStore: Storage | null
  /** how long a reloaded tab waits for its previous page (or a caretaker it asked) to let go of its lock (default 3000 ms) */
  reloadWaitMs?: number
  /** where a reloaded tab asks a caretaker of its member to give it back (reclaim.ts); default: nowhere */
  reclaim?: Pick<ReclaimRequests, 'ask'>
  /** is this page a reload (default: the Navigation Timing entry says so). A
   *  remembered member that is not a reload (a duplicated tab copies
   *  sessionStorage) is taken only if its lock is free at once. */
  isReload?: boolean
  /** a new member's key is written while the caller goes on (ChosenMember.keyKept; the caller then owns the lock on failure) instead of before the choice resolves */
  keepKeyLater?: boolean
  /** a key drawn before the room lock was granted (joinMesh draws it while it
   *  waits): a new member takes it rather than drawing one under the lock */
  newKey?: Promise<MemberKey>
  /** a new member readied before the room lock was granted (new-member.ts): a
   *  new member is this one, with its lock and its kept key, unless its lock
   *  could not be had */
  readied?: ReadiedMember
  /** localStorage: where the tab notes that a slot of the room was chosen in this browser (new-member.ts) */
  browserStore?: Storage | null
}

function navigationIsReload(): boolean {
  try {
    // a runtime without the Navigation Timing API throws here: not a reload
    const nav = globalThis.performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined
    return nav?.type === 'reload'
  } catch {
    return false
  }
}

/** the member ids of `room`'s slots in this browser (ids that can be keys) */
async function slotIds(provider: StorageProvider, room: string): Promise<string[]> {
  return (await provider.listMembers(room)).map((meta) => meta.member).filter((id) => MEMBER_ID_PATTERN.test(id))
}

/** The slots of `room` in this browser that have their key, with it. A slot
 *  without one (from before keyed ids) is left out: no one can run it. */
export async function keyedSlots(provider: StorageProvider, keys: MemberKeyStore, room: string): Promise<Map<string, MemberKey>> {
  const out = new Map<string, MemberKey>()
  const ids = await slotIds(provider, room)
  // read side by side (each a request of its own), kept in the list's order
  const found = await Promise.all(ids.map((id) => keys.get(room, id)))
  ids.forEach((id, i) => {
    const key = found[i]
    if (key !== undefined && key !== null) out.set(id, key)
  })
  return out
}

/**
 * The ids of `room`'s keyed slots, read again and again (the death watch's
 * list, every refresh): the slot list each time, but a member's key only
 * until it was found once. A member's id derives from its key, so a slot
 * that had its key keeps it; reading every key at every refresh made each
 * tab read one IndexedDB record per slot every 2 s, n² reads in a browser's
 * n tabs (nine idle tabs: 3 to 6 transactions a second each).
 */
export function keyedSlotLister(provider: StorageProvider, keys: MemberKeyStore, room: string): () => Promise<string[]> {
  const keyed = new Set<string>()
  return async () => {
    const ids = await slotIds(provider, room)
    const unknown = ids.filter((id) => !keyed.has(id))
    const found = await Promise.all(unknown.map((id) => keys.get(room, id)))
    unknown.forEach((id, i) => {
      if (found[i] !== null && found[i] !== undefined) keyed.add(id)
    })
    return ids.filter((id) => keyed.has(id))
  }
}

/**
 * Is `member`'s slot still in the room, now that we hold its lock? The list
 * was read before: a caretaker may have retired the member meanwhile (it
 * destroys the slot, then lets go of the lock), and a retired member is never
 * run again. If it is gone, the lock is let go.
 */
async function stillListed(provider: StorageProvider, room: string, member: string, lock: HeldLock): Promise<boolean> {
  let listed = false
  try {
    listed = (await provider.listMembers(room)).some((meta) => meta.member === member)
  } finally {
    if (!listed) lock.release()
  }
  return listed
}

/** Pick and lock the member this tab runs. Call under the room's bootstrap lock. */
export async function chooseMember(opts: ChooseMemberOptions): Promise<ChosenMember> {
  const { room, locks } = opts
  const keys = await keyedSlots(opts.provider, opts.keys, room)
  const slots = [...keys.keys()]
  const othersThan = (member: string): string[] => slots.filter((id) => id !== member)
  const remember = (member: string): void => {
    try {
      opts.tabStore?.setItem(rememberedKey(room), member)
      opts.browserStore?.setItem(roomSlotsHintKey(room), '1')
    } catch {
      // sessionStorage may be full or disabled: we only lose reload affinity
    }
  }

  const previous = rememberedMember(opts.tabStore, room)
  const previousKey = previous === null ? undefined : keys.get(previous)
  if (previous !== null && previousKey !== undefined) {
    // the previous page of this tab may still be letting go; a duplicated
    // tab (same sessionStorage) finds it held by a live tab and moves on
    const reload = opts.isReload ?? navigationIsReload()
    // a survivor may run it as a caretaker already (our page loaded slower than its grace): ask for it back
    const stopAsking = reload && opts.reclaim !== undefined ? keepAsking(opts.reclaim, previous) : () => undefined
    const lock = await acquireLock(locks, memberLockName(room, previous), reload ? { waitMs: opts.reloadWaitMs ?? 3000 } : { ifAvailable: true }).finally(stopAsking)
    if (lock !== null && (await stillListed(opts.provider, room, previous, lock))) {
      remember(previous)
      return { member: previous, key: previousKey, lock, source: 'reload', others: othersThan(previous), keyKept: Promise.resolve() }
    }
  }
  for (const [member, key] of keys) {
    if (member === previous) continue
    const lock = await acquireLock(locks, memberLockName(room, member), { ifAvailable: true })
    if (lock === null || !(await stillListed(opts.provider, room, member, lock))) continue
    remember(member)
    return { member, key, lock, source: 'free-slot', others: othersThan(member), keyKept: Promise.resolve() }
  }
  const readied = opts.readied === undefined ? null : await takeReadied(opts.readied, opts.keepKeyLater === true)
  if (readied !== null) {
    remember(readied.key.id)
    return { member: readied.key.id, key: readied.key, lock: readied.lock, source: 'new', others: slots, keyKept: readied.keyKept }
  }
  // the key drawn beforehand serves the first try; a clash (below) draws afresh
  let drawn = opts.readied === undefined ? opts.newKey : undefined
  for (;;) {
    const key = await (drawn ?? createMemberKey())
    drawn = undefined
    const lock = await acquireLock(locks, memberLockName(room, key.id), { ifAvailable: true })
    if (lock === null) continue // astronomically unlikely: another tab drew the same key
    // kept before the slot's first save, so no keyed slot is ever without its key
    const keyKept = opts.keys.put(room, key)
    if (opts.keepKeyLater === true) {
      // the caller awaits it before the first save, and releases the lock if it fails
      keyKept.catch(() => undefined)
    } else {
      try {
        await keyKept
      } catch (err) {
        lock.release()
        throw err
      }
    }
    remember(key.id)
    return { member: key.id, key, lock, source: 'new', others: slots, keyKept }
  }
}

/** A readied new member's key and held lock, its key kept (awaited here
 *  unless `keepKeyLater`); null when its lock could not be had. */
async function takeReadied(r: ReadiedMember, keepKeyLater: boolean): Promise<{ key: MemberKey; lock: HeldLock; keyKept: Promise<void> } | null> {
  const [key, lock] = await Promise.all([r.key, r.lock])
  if (lock === null) return null
  if (!keepKeyLater) {
    try {
      await r.keyKept
    } catch (err) {
      lock.release()
      throw err
    }
  }
  return { key, lock, keyKept: r.keyKept }
}
