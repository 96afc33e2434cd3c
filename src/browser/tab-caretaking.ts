// Caretaking in a tab (invariant 4, death-watch.ts and caretaker.ts wired to
// one run of joinMesh): this tab watches the Web Locks of the other members
// of its browser and, on a voter's death certificate, runs that member as a
// caretaker until membership policy retires it, its own tab asks for it back
// (a reload, reclaim.ts), or this tab closes.
import { seededRandom } from '../client/assemble'
import type { Member } from '../driver/member'
import type { MemberKeyStore } from '../driver/member-keys'
import { realClock } from '../shared/clock'
import { randomId } from '../shared/random-id'
import type { StorageProvider } from '../storage/types'
import type { MeshTransport } from '../transport/mesh-transport'
import type { PeerHello } from '../transport/types'
import type { MemberKey } from '../wire/member-key'
import { discardPrepared, runCaretaker } from './caretaker'
import type { PreparedSlot } from './caretaker'
import { DeathWatch } from './death-watch'
import type { DeathWatchHost } from './death-watch'
import { keyedSlotLister } from './identity'
import type { HeldLock, LockManagerLike } from './identity'
import type { ReclaimRequests } from './reclaim'
import type { MemberSettings } from './start-member'

export interface TabCaretakingOptions {
  room: string
  locks: LockManagerLike
  provider: StorageProvider
  keys: MemberKeyStore
  openTransport: (hello: PeerHello, key: MemberKey) => MeshTransport
  /** the settings this tab's members share (its own and those it caretakes) */
  settings: MemberSettings
  /** this tab's own member and its transport */
  member: Member
  transport: MeshTransport
  reclaim: ReclaimRequests
  /** aborted when this run of the tab ends */
  tabClosing: AbortSignal
  graceMs: number | undefined
  /** slots all free when this tab chose its own (a reopen), with their locks, held */
  vacantAtStart: ReadonlyMap<string, HeldLock>
  /** those slots' storage and transport, opened meanwhile (start-member.ts); what no caretaker runs is closed */
  prepared?: ReadonlyMap<string, Promise<PreparedSlot | null>>
  onCertificate: NonNullable<DeathWatchHost['onCertificate']>
}

export interface TabCaretaking {
  readonly deathWatch: DeathWatch
  /** members this tab runs as a caretaker now, sorted */
  caretaking(): string[]
}

/** Watch the browser's other members; started, and stopped with the run (tabClosing). */
export function watchTabDeaths(o: TabCaretakingOptions): TabCaretaking {
  const { room, provider, keys, member, transport, reclaim } = o
  const browser = member.browser
  const caretaking = new Set<string>()
  const prepared = new Map(o.prepared ?? [])
  const deathWatch = new DeathWatch(
    {
      room,
      self: member.id,
      locks: o.locks,
      // slots without a key (from before keyed ids) cannot be run: not watched
      listSlots: keyedSlotLister(provider, keys, room),
      // a member's session ids start with its member id (SessionKeeper.newSession, driver/sessions.ts)
      sessionsOf: (id) => member.tree.sessions().filter((s) => s.startsWith(`${id}.`)),
      closeSessions: (sessions) => member.closeSessions(sessions),
      reportPeerGone: (id) => member.reportPeerGone(id),
      leader: () => member.leader,
      isVoter: (id) => member.conf.voters.includes(id) || member.conf.votersOutgoing.includes(id),
      linked: (id) => transport.links().has(id),
      takeOver: async (id) => {
        // taken before any await: what start() leaves untaken is closed right after it
        const opening = prepared.get(id)
        prepared.delete(id)
        const ready = (await opening) ?? null
        const key = ready === null ? await keys.get(room, id) : null
        if (ready === null && key === null) return 'ended' // no key, no member to run (listSlots leaves such slots out)
        caretaking.add(id)
        // its own tab came back (a reload slower than the grace): it gets the member
        const reclaimed = new AbortController()
        const offReclaim = reclaim.listen((asked) => {
          if (asked === id) reclaimed.abort()
        })
        try {
          // a caretaker's member draws from a PRNG of its own
          const caretaken = { ...o.settings, scheduler: realClock, random: seededRandom() }
          const outcome = await runCaretaker({
            room,
            hello: ready?.hello ?? { member: id, tab: randomId('t'), browser },
            provider,
            openTransport: (hello) => {
              if (key === null) throw new Error('a prepared slot brings its own transport')
              return o.openTransport(hello, key)
            },
            ...(ready === null ? {} : { prepared: ready }),
            primary: member,
            member: caretaken,
            signal: o.tabClosing,
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
      onCertificate: o.onCertificate,
    },
    { ...(o.graceMs === undefined ? {} : { graceMs: o.graceMs }), vacantAtStart: o.vacantAtStart },
  )
  // a tab of this browser reloading: its member is left free longer
  const offReloads = reclaim.onReload((id) => deathWatch.heardReload(id))
  // a new tab of this browser linked to us: watch its slot now, not at the next read of the list
  const offLinks = transport.onLink((_link, hello) => {
    if (hello.browser === browser) deathWatch.linkedUp(hello.member)
  })
  o.tabClosing.addEventListener(
    'abort',
    () => {
      offReloads()
      offLinks()
    },
    { once: true },
  )
  deathWatch.start()
  // slots opened ahead for a caretaker that start() did not take over (not a voter)
  for (const opening of prepared.values()) void discardPrepared(opening)
  prepared.clear()
  return { deathWatch, caretaking: () => [...caretaking].sort() }
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

