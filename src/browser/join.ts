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
//      certificates, death-watch.ts) and the page's lifecycle
//      (visibility.ts): a hidden or freezing leader hands off, `pagehide`
//      closes gracefully;
//   3. hand back the Mesh. Steps 1 and 2 are one run (runTab); a page
//      restored from the back/forward cache runs them again into the same Mesh.
// Step 1 is start-member.ts, the death watch and caretaking of step 2
// tab-caretaking.ts; this file wires them to the page.
//
// The member's Web Lock is held for the life of the tab (released by close()).
import { MeshError, toMeshError } from '../shared/errors'
import { memberSettings } from '../client/assemble'
import type { AssembledMesh } from '../client/assemble'
import type { JoinOptions, Mesh } from '../shared/types'
import type { Member } from '../driver/member'
import { MEMBER_SETTING_RULES, ROOM_RULES, checkOptions, duration, object, oneOf } from '../driver/option-checks'
import { acquireLock, bootstrapLockName, keyedSlots, rememberedMember } from './identity'
import { discardReadied, mayBeNewMember, readyNewMember } from './new-member'
import { browserId } from './browser-id'
import { randomId } from '../shared/random-id'
import type { LockManagerLike } from './identity'
import { watchBackForwardCache, watchPageLifecycle } from './visibility'
import { BROWSER_TIMING } from '../driver/options'
import type { PageLifecycle } from './visibility'
import { DeathWatch } from './death-watch'
import { openReclaimRequests } from './reclaim'
import { openBrowserTransport } from './transport'
import type { BrowserTransportOptions } from './transport'
import { IndexedDbMemberKeyStore } from './member-keys'
import { MemoryMemberKeyStore } from '../driver/member-keys'
import type { MemberKeyStore } from '../driver/member-keys'
import { createMemberKey } from '../wire/member-key'
import type { MemberKey } from '../wire/member-key'
import { IndexedDbStorageProvider, MemoryStorageProvider } from '../storage/index'
import type { StorageProvider } from '../storage/types'
import type { MeshTransport } from '../transport/mesh-transport'
import type { PeerHello } from '../transport/types'
import { deriveRoomKey } from '../wire/room-key'
import { joinMarker } from './join-marks'
import type { JoinMarker } from './join-marks'
import { safeStorage, startMember } from './start-member'
import type { MemberSettings, StartedMember } from './start-member'
import { watchTabDeaths } from './tab-caretaking'

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
  // a new member's key pair, drawn meanwhile too (WebCrypto works off the main
  // thread): under the room lock it cost 5–11 ms of a first or new tab's join
  // (bench lifecycle, probes). A tab that takes back or adopts a slot drops it.
  const newKey = createMemberKey()
  newKey.catch(() => undefined) // a failure is the choice's, where a new member awaits it
  // a tab likely to run a new member (the first tab of the room in this
  // browser) readies it meanwhile too: its lock, its kept key and its slot's
  // database (new-member.ts). Under the room lock they cost a first tab a
  // lock request, a key write and a database made one after the other (bench
  // lifecycle, first tab: room lock -> storage open 20-35 ms).
  const readied = mayBeNewMember(rememberedMember(safeStorage(() => globalThis.sessionStorage), room), safeStorage(() => globalThis.localStorage), room) ? readyNewMember({ room, locks, provider, keys, key: newKey }) : undefined
  const giveUp = async (): Promise<void> => {
    reclaim.close()
    if (readied !== undefined) await discardReadied(readied)
  }
  const roomLock = await acquireLock(locks, bootstrapLockName(room)).catch(async (err: unknown) => {
    await giveUp()
    throw err
  })
  if (roomLock === null) {
    await giveUp()
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
      newKey,
      ...(readied === undefined ? {} : { readied }),
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
  const certificates: BrowserTabInfo['certificates'] = []
  const caretaking = watchTabDeaths({
    room,
    locks,
    provider,
    keys,
    openTransport,
    settings,
    member,
    transport,
    reclaim,
    tabClosing: tabClosing.signal,
    graceMs: o.graceMs,
    vacantAtStart: started.vacantAtStart,
    prepared: started.prepared,
    onCertificate: (e) => certificates.push(e),
  })
  deathWatch = caretaking.deathWatch
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

  // ---- 3. the Mesh ----
  const info: BrowserTabInfo = {
    member: member.id,
    tab,
    browser,
    source: started.source,
    founded: started.founded,
    caretaking: () => caretaking.caretaking(),
    certificates,
    diagnosticMember: () => member,
  }
  // a run after a restore from the bfcache tells of its own member
  Object.defineProperty(mesh, BROWSER_TAB, { value: info, enumerable: false, configurable: true })
  o.mark('returned')
  return mesh
}

