// joinMesh (shared/api.md): the member this tab runs, in a browser.
//
// Composition, in order:
//   1. under the room-wide bootstrap Web Lock (so two tabs opening at once do
//      not both found a cluster, nor pick the same slot): choose and lock the
//      member (identity.ts: the member of this tab before a reload, else a free
//      slot of this browser, else a new member whose id is its new key's),
//      open its storage and its transport (which signs every hello with the key),
//      decide whether it founds the cluster, and hand them to the one Mesh
//      assembler (client/assemble.ts), which starts the member (its first save
//      records the slot before the lock is released) and builds the Mesh;
//   2. watch the locks of the other members of this browser (death
//      certificates, browser-death-watch.ts) and the page's lifecycle
//      (visibility.ts): a hidden or freezing leader hands off, `pagehide`
//      closes gracefully;
//   3. hand back the Mesh. Steps 1 and 2 are one run (runTab); a page
//      restored from the back/forward cache runs them again into the same Mesh.
//
// The member's Web Lock is held for the life of the tab (released by close()).
import { MeshError, toMeshError } from '../shared/errors'
import { assembleMesh, memberSettings, seededRandom } from '../client/assemble'
import type { AssembledMesh } from '../client/assemble'
import { holdTransportErrors } from '../client/transport-errors'
import type { JoinOptions, Mesh } from '../shared/types'
import type { Member } from '../driver/member'
import type { MemberOptions } from '../driver/options'
import { MEMBER_SETTING_RULES, ROOM_RULES, checkOptions, duration, object, oneOf } from '../driver/option-checks'
import { realClock } from '../shared/clock'
import { acquireLock, bootstrapLockName, chooseMember, keyedSlots, memberLockName } from './identity'
import { browserId } from './browser-id'
import { randomId } from '../shared/random-id'
import type { LockManagerLike } from './identity'
import { watchBackForwardCache, watchPageLifecycle } from './visibility'
import { BROWSER_TIMING } from '../driver/options'
import type { PageLifecycle } from './visibility'
import { DeathWatch } from './death-watch'
import { reopenableSlot, runCaretaker } from './caretaker'
import { openReclaimRequests } from './reclaim'
import type { ReclaimRequests } from './reclaim'
import { listenBeforeFounding } from './founding'
import { openBrowserTransport } from './transport'
import type { BrowserTransportOptions } from './transport'
import { IndexedDbMemberKeyStore } from './member-keys'
import { MemoryMemberKeyStore } from '../driver/member-keys'
import type { MemberKeyStore } from '../driver/member-keys'
import type { MemberKey } from '../wire/member-key'
import { IndexedDbStorageProvider, MemoryStorageProvider } from '../storage/index'
import type { StorageProvider } from '../storage/types'
import { loadedOnce } from '../storage/loaded-once'
import type { MeshTransport } from '../transport/mesh-transport'
import type { PeerHello } from '../transport/types'
import { deriveRoomKey } from '../wire/room-key'
import { joinMarker } from './join-marks'
import type { JoinMarker } from './join-marks'

/** How long a tab with no slot of the room in its storage listens for peers before founding a cluster. */
const DISCOVERY_MS = 2_000

/** Extra knobs for tests and tools, beyond the public JoinOptions. */
export interface BrowserJoinOptions extends JoinOptions {
  /** default navigator.locks */
  locks?: LockManagerLike
  /** ms a freed member's lock is left for a reloading tab before a survivor acts (default 1500) */
  graceMs?: number
}

/** Internals a page (tests, the demo's diagnostics) may look at: `(mesh as any)[BROWSER_TAB]`. */
export const BROWSER_TAB = Symbol.for('meshkeeper.browserTab')

export interface BrowserTabInfo {
  member: string
  tab: string
  browser: string
  /** how the member was chosen */
  source: 'reload' | 'free-slot' | 'new'
  founded: boolean
  /** members this tab runs for dead tabs */
  caretaking(): string[]
  /** death certificates processed so far */
  certificates: { member: string; sessions: string[]; outcome: string }[]
  /** this tab's member (diagnostics only: not part of the API) */
  diagnosticMember(): Member
}

/** joinMesh's options (shared/api.md), each refused with BAD_ARGUMENTS before anything is opened */
const JOIN_RULES = {
  ...ROOM_RULES,
  ...MEMBER_SETTING_RULES,
  storage: oneOf('indexeddb', 'memory'),
  durability: oneOf('strict', 'relaxed'),
  locks: object,
  graceMs: duration(0),
}

export async function joinMesh(options: BrowserJoinOptions): Promise<Mesh> {
  checkOptions('joinMesh', options, JOIN_RULES, ['room'])
  const room = options.room
  const locks = options.locks ?? (globalThis.navigator as Navigator | undefined)?.locks
  if (locks === undefined) throw new MeshError('BAD_ARGUMENTS', 'joinMesh needs the Web Locks API (navigator.locks): a secure context in a current browser')
  const provider: StorageProvider = options.storage === 'memory' ? new MemoryStorageProvider() : new IndexedDbStorageProvider({ durability: options.durability ?? 'strict' })
  // each slot's key goes where the slot goes (identity.ts, member-keys.ts)
  const keys: MemberKeyStore = options.storage === 'memory' ? new MemoryMemberKeyStore() : new IndexedDbMemberKeyStore()
  const transportOpts: BrowserTransportOptions = { room, locks }
  if (options.signaling !== undefined) transportOpts.signaling = options.signaling
  if (options.iceServers !== undefined) transportOpts.iceServers = options.iceServers
  if (options.secret !== undefined && options.secret !== '') transportOpts.roomKey = await deriveRoomKey(options.secret, room)
  const openTransport = (hello: PeerHello, key: MemberKey) => openBrowserTransport(hello, key, transportOpts)

  const mark = joinMarker(options.timeline === true)
  // decided beside the room lock and the choice of slot, not before them: in
  // a fresh profile it is a database of its own to create. Only the member's
  // hello needs it (startMember awaits it there); a failure fails the join there.
  const browser = browserId(safeStorage(() => globalThis.localStorage), safeStorage(() => globalThis.indexedDB)).then((id) => {
    mark('browser-id')
    return id
  })
  browser.catch(() => undefined) // handled where it is awaited
  const settings: MemberSettings = { timing: { ...BROWSER_TIMING }, ...memberSettings(options) }
  const listenFirst = options.signaling !== undefined || options.storage === 'memory'

  // ---- the back/forward cache ----
  // A page going into the cache closes its mesh (its pagehide, like any
  // other); restored, the same Mesh object joins again (a new member run,
  // a new session: ephemerals and leases of before are gone, as after a
  // ZooKeeper session expiry). A Mesh the app closed stays closed.
  let cached = false
  let mesh: AssembledMesh | null = null
  const stopWatchingCache = watchBackForwardCache(() => {
    if (!cached || mesh === null) return
    cached = false
    const closed = mesh
    void (async () => {
      // a close the freeze interrupted finishes first (its steps are bounded)
      await closed.close()
      await runTab(run, closed)
    })().catch((err: unknown) => closed.reportError(toMeshError(err, 'STORAGE')))
  })
  const run: TabRun = {
    room,
    locks,
    provider,
    keys,
    openTransport,
    browser,
    settings,
    listenFirst,
    graceMs: options.graceMs,
    mark,
    pageHidden: (persisted) => {
      if (persisted) cached = true
    },
    released: () => {
      if (!cached) stopWatchingCache()
    },
  }
  try {
    mesh = await runTab(run)
  } catch (err) {
    stopWatchingCache()
    throw err
  }
  return mesh
}

/** What every run of a tab's member shares (the first, and one after each restore from the bfcache). */
interface TabRun {
  room: string
  locks: LockManagerLike
  provider: StorageProvider
  keys: MemberKeyStore
  openTransport: (hello: PeerHello, key: MemberKey) => MeshTransport
  /** this browser profile's id (browser-id.ts), decided while the tab takes its locks */
  browser: Promise<string>
  settings: MemberSettings
  listenFirst: boolean
  graceMs: number | undefined
  /** marks the join's steps (option `timeline`, join-marks.ts) */
  mark: JoinMarker
  /** the page is going (pagehide); `persisted`: into the back/forward cache */
  pageHidden(persisted: boolean): void
  /** the run's mesh closed and released its member */
  released(): void
}

/**
 * One run of this tab's member: choose, lock and start it (into `into`, a
 * closed Mesh that runs again, or a new Mesh), then watch death certificates
 * and the page's lifecycle until it closes.
 */
async function runTab(o: TabRun, into?: AssembledMesh): Promise<AssembledMesh> {
  const { room, locks, provider, keys, openTransport, settings } = o
  const tab = randomId('t')

  // ---- 1. choose, lock and start the member, under the room's bootstrap lock ----
  let lifecycle: PageLifecycle | null = null
  let deathWatch: DeathWatch | null = null
  const tabClosing = new AbortController()
  // a reload asks through it for its member back; our caretakers hear such asks (reclaim.ts)
  const reclaim = openReclaimRequests(room)
  tabClosing.signal.addEventListener('abort', () => reclaim.close(), { once: true })
  // a page's first Web Lock and its first IndexedDB request each wait for the
  // browser to connect the page to its storage (tens of ms on a busy machine):
  // side by side, not one after the other. Only a read, its result unused:
  // the slots are listed again under the room lock, where the choice is made.
  void keyedSlots(provider, keys, room).catch(() => undefined)
  const roomLock = await acquireLock(locks, bootstrapLockName(room)).catch((err: unknown) => {
    reclaim.close()
    throw err
  })
  if (roomLock === null) {
    reclaim.close()
    throw new MeshError('BAD_ARGUMENTS', 'could not take the room lock')
  }
  o.mark('room-lock')
  let started: StartedMember
  try {
    started = await startMember({
      room,
      locks,
      provider,
      keys,
      openTransport,
      listenFirst: o.listenFirst,
      reclaim,
      mark: o.mark,
      browser: o.browser,
      member: { ...settings, hello: { member: '', tab, browser: '' }, visible: () => lifecycle?.visible() ?? true },
      // what the tab runs beside the member stops first when the Mesh closes
      beforeRelease: () => {
        tabClosing.abort()
        deathWatch?.stop()
        lifecycle?.dispose()
        o.released()
      },
      ...(into === undefined ? {} : { into }),
    })
  } catch (err) {
    reclaim.close()
    throw err
  } finally {
    roomLock.release()
  }
  // a peer refused (UNAUTHORIZED: it cannot prove the room secret) or sending
  // what we do not accept reaches the app as an `error` event; what came
  // before (while we listened for peers) is handed over on the first task after
  // the Mesh is returned (nothing from the assembler's hand-over to the return
  // below waits for a task)
  const { mesh, member, transport } = started
  const browser = member.browser

  // ---- 2. death certificates, caretaking, the page's lifecycle ----
  const caretaking = new Set<string>()
  const certificates: BrowserTabInfo['certificates'] = []
  deathWatch = new DeathWatch(
    {
      room,
      self: member.id,
      locks,
      // slots without a key (from before keyed ids) cannot be run: not watched
      listSlots: async () => [...(await keyedSlots(provider, keys, room)).keys()],
      // a member's session ids start with its member id (SessionKeeper.newSession, driver/sessions.ts)
      sessionsOf: (id) => member.tree.sessions().filter((s) => s.startsWith(`${id}.`)),
      closeSessions: (sessions) => member.closeSessions(sessions),
      reportPeerGone: (id) => member.reportPeerGone(id),
      leader: () => member.leader,
      isVoter: (id) => member.conf.voters.includes(id) || member.conf.votersOutgoing.includes(id),
      linked: (id) => transport.links().has(id),
      takeOver: async (id) => {
        const key = await keys.get(room, id)
        if (key === null) return 'ended' // no key, no member to run (listSlots leaves such slots out)
        caretaking.add(id)
        // its own tab came back (a reload slower than the grace): it gets the member
        const reclaimed = new AbortController()
        const offReclaim = reclaim.listen((asked) => {
          if (asked === id) reclaimed.abort()
        })
        try {
          // a caretaker's member draws from a PRNG of its own
          const caretaken = { ...settings, scheduler: realClock, random: seededRandom() }
          const outcome = await runCaretaker({
            room,
            hello: { member: id, tab: randomId('t'), browser },
            provider,
            openTransport: (hello) => openTransport(hello, key),
            primary: member,
            member: caretaken,
            signal: tabClosing.signal,
            reclaimed: reclaimed.signal,
            // its vote is back within reach: a leaderless member need not wait
            // out an election timeout; and should our member's log be behind
            // its own, it refuses our member and campaigns itself
            started: (caretaker) => {
              caretaker.campaignIfRefusing()
              campaignOnceLinked(transport, member, id)
            },
          })
          return outcome === 'reclaimed' ? 'given-back' : 'ended'
        } finally {
          offReclaim()
          caretaking.delete(id)
        }
      },
      onCertificate: (e) => certificates.push(e),
    },
    { ...(o.graceMs === undefined ? {} : { graceMs: o.graceMs }), vacantAtStart: started.vacantAtStart },
  )
  lifecycle = watchPageLifecycle({
    visibilityChanged: () => member.visibilityChanged(),
    pageHide: (persisted) => {
      o.pageHidden(persisted)
      void mesh.close()
    },
    frozen: () => member.pageFrozen(),
    resumed: () => member.pageResumed(),
    // the other tabs leave our member free longer: the new page takes it back
    reloading: () => reclaim.announceReload(member.id),
  })
  member.visibilityChanged()
  const watch = deathWatch
  // a tab of this browser reloading: its member is left free longer
  const offReloads = reclaim.onReload((id) => watch.heardReload(id))
  tabClosing.signal.addEventListener('abort', offReloads, { once: true })
  deathWatch.start()
  // a new tab of this browser linked to us: watch its slot now, not at the next read of the list
  const offLinks = transport.onLink((_link, hello) => {
    if (hello.browser === browser) watch.linkedUp(hello.member)
  })
  tabClosing.signal.addEventListener('abort', offLinks, { once: true })

  // ---- 3. the Mesh ----
  const info: BrowserTabInfo = {
    member: member.id,
    tab,
    browser,
    source: started.source,
    founded: started.founded,
    caretaking: () => [...caretaking].sort(),
    certificates,
    diagnosticMember: () => member,
  }
  // a run after a restore from the bfcache tells of its own member
  Object.defineProperty(mesh, BROWSER_TAB, { value: info, enumerable: false, configurable: true })
  o.mark('returned')
  return mesh
}

/** the member settings a tab's members share: its own, and those it runs for dead tabs */
type MemberSettings = Omit<MemberOptions, 'hello' | 'storage' | 'transport' | 'visible' | 'bootstrap' | 'scheduler' | 'random'>

interface StartedMember {
  mesh: AssembledMesh
  member: Member
  transport: MeshTransport
  founded: boolean
  source: BrowserTabInfo['source']
  /** the other slots of the room, when every one of them was free as we chose ours (a reopen); else empty */
  vacantAtStart: string[]
}

/** How long a leaderless member waits for its link to a caretaker of its own tab before it lets its election timer decide. */
const CARETAKER_LINK_MS = 3_000

/** Once `member` is linked to the caretaker running `id` in this tab, campaign if nobody leads yet. */
function campaignOnceLinked(transport: MeshTransport, member: Member, id: string): void {
  if (transport.links().has(id)) {
    member.campaignIfLeaderless()
    return
  }
  const off = transport.onLink((_link, hello) => {
    if (hello.member !== id) return
    off()
    clearTimeout(timer)
    member.campaignIfLeaderless()
  })
  const timer = setTimeout(off, CARETAKER_LINK_MS)
}

/** The other slots, if every one's lock is free now (we hold the room's bootstrap lock: nobody is choosing meanwhile). */
async function allFree(locks: LockManagerLike, room: string, others: readonly string[]): Promise<string[]> {
  // probed side by side: each is one round trip to the browser's lock manager
  const probes = await Promise.all(others.map((id) => acquireLock(locks, memberLockName(room, id), { ifAvailable: true })))
  for (const probe of probes) probe?.release()
  return probes.every((p) => p !== null) ? [...others] : []
}

/** Choose, lock and open this tab's member, and start its Mesh. Runs under the room's bootstrap lock. */
async function startMember(o: {
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
  member: MemberSettings & Pick<MemberOptions, 'hello' | 'visible'>
  /** runs when the Mesh closes, before the transport, the storage and the member's Web Lock are released */
  beforeRelease: () => void
  /** a closed Mesh to run again (restored from the bfcache) */
  into?: AssembledMesh
}): Promise<StartedMember> {
  // a new member's key is written while its storage and transport open (awaited before its first save)
  const chosen = await chooseMember({ room: o.room, locks: o.locks, provider: o.provider, keys: o.keys, tabStore: safeStorage(() => globalThis.sessionStorage), keepKeyLater: true, reclaim: o.reclaim })
  o.mark('slot-lock')
  const cleanup: (() => Promise<void> | void)[] = [() => chosen.lock.release()]
  try {
    const storage = await o.provider.open(o.room, chosen.member)
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
    const vacantAtStart = await allFree(o.locks, o.room, chosen.others)
    o.mark('slots-probed')
    return { mesh, member, transport, founded, source: chosen.source, vacantAtStart }
  } catch (err) {
    for (const undo of cleanup) await undo()
    throw err
  }
}

function safeStorage<T>(get: () => T | undefined): T | null {
  try {
    return get() ?? null
  } catch {
    return null // storage disabled (privacy settings, sandboxed frame)
  }
}
