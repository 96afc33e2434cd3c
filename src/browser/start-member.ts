// One run's first step (join.ts): under the room's bootstrap Web Lock, choose
// and lock this tab's member (identity.ts), open its storage and its
// transport, decide whether it founds the room's cluster (founding.ts), and
// start it through the one Mesh assembler (client/assemble.ts); in a reopen
// (every other slot of the room free) the vacant slots' storage and transport
// open meanwhile, for the caretakers join.ts starts next. The member's
// first save records its slot before the room lock is let go, so two tabs
// opening at once neither pick the same slot nor both found.
import { assembleMesh } from '../client/assemble'
import type { AssembledMesh } from '../client/assemble'
import { holdTransportErrors } from '../client/transport-errors'
import type { Member } from '../driver/member'
import type { MemberOptions } from '../driver/options'
import type { MemberKeyStore } from '../driver/member-keys'
import { loadedOnce } from '../storage/loaded-once'
import type { StorageProvider } from '../storage/types'
import type { MeshTransport } from '../transport/mesh-transport'
import type { PeerHello } from '../transport/types'
import type { MemberKey } from '../wire/member-key'
import { discardPrepared, prepareSlot, reopenableSlot } from './caretaker'
import type { PreparedSlot } from './caretaker'
import { randomId } from '../shared/random-id'
import { listenBeforeFounding } from './founding'
import { acquireLock, chooseMember, memberLockName } from './identity'
import type { ChosenMember, HeldLock, LockManagerLike, ReadiedMember } from './identity'
import type { JoinMarker } from './join-marks'
import type { ReclaimRequests } from './reclaim'
import { discardReadied } from './new-member'

/** How long a tab with no slot of the room in its storage listens for peers before founding a cluster. */
const DISCOVERY_MS = 2_000

/** the member settings a tab's members share: its own, and those it runs for dead tabs */
export type MemberSettings = Omit<MemberOptions, 'hello' | 'storage' | 'transport' | 'visible' | 'bootstrap' | 'scheduler' | 'random'>

export interface StartedMember {
  mesh: AssembledMesh
  member: Member
  transport: MeshTransport
  founded: boolean
  source: ChosenMember['source']
  /** the other slots of the room with their locks, held, when every one of them was free as we chose ours (a reopen); else empty */
  vacantAtStart: Map<string, HeldLock>
  /** those slots' storage and transport, opened while our member started, for their caretakers (tab-caretaking.ts) */
  prepared: Map<string, Promise<PreparedSlot | null>>
}

/**
 * The other slots with their locks, if every one's lock is free now (we hold
 * the room's bootstrap lock: nobody is choosing meanwhile). The locks are
 * kept, for the death watch to act on at once (death-watch.ts): let go and
 * asked for again, they cost the reopen a read of the slot list and a round
 * of lock requests before its caretakers started, and a tab opening in
 * between could take a slot this tab was about to run.
 */
async function allFree(locks: LockManagerLike, room: string, others: readonly string[]): Promise<Map<string, HeldLock>> {
  // probed side by side: each is one round trip to the browser's lock manager
  const probes = await Promise.all(others.map((id) => acquireLock(locks, memberLockName(room, id), { ifAvailable: true })))
  if (probes.every((p) => p !== null)) return new Map(others.map((id, i) => [id, probes[i]!]))
  for (const probe of probes) probe?.release()
  return new Map()
}

/** Choose, lock and open this tab's member, and start its Mesh. Runs under the room's bootstrap lock. */
export async function startMember(o: {
  room: string
  locks: LockManagerLike
  provider: StorageProvider
  keys: MemberKeyStore
  openTransport: (hello: PeerHello, key: MemberKey) => MeshTransport
  /** listen for peers before founding a cluster (signaling given, or tab-private memory storage) */
  listenFirst: boolean
  /** where a reload asks a caretaker of its member to give it back */
  reclaim: ReclaimRequests
  mark: JoinMarker
  /** the browser id for the member's hello (awaited once the slot is chosen) */
  browser: Promise<string>
  /** a key drawn while the tab waited for the room lock, for a new member (identity.ts) */
  newKey?: Promise<MemberKey>
  /** a new member readied while the tab waited for the room lock (new-member.ts); ours from here: used or discarded */
  readied?: ReadiedMember
  member: MemberSettings & Pick<MemberOptions, 'hello' | 'visible'>
  /** runs when the Mesh closes, before the transport, the storage and the member's Web Lock are released */
  beforeRelease: () => void
  /** a closed Mesh to run again (restored from the bfcache) */
  into?: AssembledMesh
}): Promise<StartedMember> {
  // a new member's key is written while its storage and transport open (awaited before its first save)
  const { readied } = o
  let chosen: ChosenMember
  try {
    chosen = await chooseMember({
      room: o.room,
      locks: o.locks,
      provider: o.provider,
      keys: o.keys,
      tabStore: safeStorage(() => globalThis.sessionStorage),
      browserStore: safeStorage(() => globalThis.localStorage),
      keepKeyLater: true,
      reclaim: o.reclaim,
      ...(o.newKey === undefined ? {} : { newKey: o.newKey }),
      ...(readied === undefined ? {} : { readied }),
    })
  } catch (err) {
    if (readied !== undefined) await discardReadied(readied)
    throw err
  }
  o.mark('slot-lock')
  // the readied member's slot is open already when it is the one chosen; else it goes (never listed)
  const fromReadied = readied !== undefined && (await readied.lock.catch(() => null)) === chosen.lock
  if (readied !== undefined && !fromReadied) void discardReadied(readied)
  const cleanup: (() => Promise<void> | void)[] = [() => chosen.lock.release()]
  try {
    // a reopen (every other slot free): their caretakers' slots and transports
    // open beside our member's, so that their links to it form while it
    // starts (bench lifecycle, reopen: caretaker started -> first link
    // +40 ms when they opened after our member had started)
    const vacantAtStart = await allFree(o.locks, o.room, chosen.others)
    o.mark('slots-probed')
    cleanup.unshift(() => {
      for (const lock of vacantAtStart.values()) lock.release()
    })
    const prepared = new Map([...vacantAtStart.keys()].map((id) => [id, prepareSlot({ provider: o.provider, room: o.room, key: o.keys.get(o.room, id), hello: { member: id, tab: randomId('t'), browser: '' }, openTransport: o.openTransport, browser: o.browser })]))
    cleanup.unshift(async () => {
      for (const opening of prepared.values()) await discardPrepared(opening)
    })
    const storage = (fromReadied ? await readied.storage : null) ?? (await o.provider.open(o.room, chosen.member))
    o.mark('storage-open')
    cleanup.unshift(() => storage.close())
    const hello: PeerHello = { ...o.member.hello, member: chosen.member, browser: await o.browser }
    const transport = o.openTransport(hello, chosen.key)
    o.mark('transport-open')
    const offFirstLink = transport.onLink(() => {
      offFirstLink()
      o.mark('first-link')
    })
    // held from the moment the transport opens: a wrong secret shows while we listen for peers
    const heldErrors = holdTransportErrors(transport)
    cleanup.unshift(() => transport.close(), () => heldErrors.drop())
    let founded = false
    const loaded = await storage.load()
    o.mark('storage-load')
    if (loaded === null && chosen.others.length === 0) {
      // nobody of this room in our storage: found the cluster, unless a peer
      // (another browser through signaling, or another tab when our storage
      // is memory and so private to the tab) claims one, or is listening
      // like us with a lower id (founding.ts)
      founded = !o.listenFirst || (await listenBeforeFounding(transport, chosen.member, DISCOVERY_MS))
      o.mark('discovery')
    }
    const slot = reopenableSlot(o.provider, o.room, chosen.member, storage)
    const release = async (): Promise<void> => {
      o.beforeRelease()
      await transport.close()
      await slot.close()
      chosen.lock.release()
    }
    await chosen.keyKept
    // the member's start reads what we just read (we hold its lock since before): not the slot again
    const parts = { ...o.member, hello, storage: loadedOnce(storage, loaded), reopenStorage: slot.reopen, transport, bootstrap: founded, release }
    const { mesh, member } = await assembleMesh(parts, { heldErrors, ...(o.into === undefined ? {} : { into: o.into }) })
    o.mark('member-started')
    return { mesh, member, transport, founded, source: chosen.source, vacantAtStart, prepared }
  } catch (err) {
    for (const undo of cleanup) await undo()
    throw err
  }
}

/** a Web Storage or IndexedDB global, or null where reading it throws */
export function safeStorage<T>(get: () => T | undefined): T | null {
  try {
    return get() ?? null
  } catch {
    return null // storage disabled (privacy settings, sandboxed frame)
  }
}
