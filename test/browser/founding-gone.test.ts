// Issue 17 ("fast join", "16 tabs over 4 browsers forms 10 of 10"): the
// first tabs of several browsers open together, each listens for peers
// (founding.ts) and defers to the lowest-id listener. When that one crashes,
// closes or is cut off before it founds, somebody else must found: before,
// the others waited for its cluster for good, every tab leaderless.
//
// Each tab here is what joinMesh's startMember composes (src/browser/join.ts):
// the real MeshTransport over virtual WebRTC peers and signaling
// (src/testing/cluster-transports.ts), listenBeforeFounding, then the real
// member started with what it decided. Virtual time throughout.
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import { listenBeforeFounding } from '../../src/browser/founding'
import { Member } from '../../src/driver/member'
import { MeshError } from '../../src/shared/errors'
import type { Clock } from '../../src/shared/clock'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { clusterTransports } from '../../src/testing/cluster-transports'
import { TimeDriver } from '../../src/testing/time-driver'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'

const ROOM = 'founding-gone'
/** join.ts's DISCOVERY_MS */
const DISCOVERY_MS = 2_000

interface Tab {
  id: string
  gone: boolean
  /** what its listening decided (null while it listens) */
  founded: boolean | null
  member: Member | null
}

function world(seed: number) {
  const clock = new VirtualClock()
  const gen = prng.create(seed)
  const network = new VirtualNetwork<Uint8Array>(clock, prng.create(prng.uint32(gen, 0, 0xffffffff)))
  const transports = clusterTransports('mesh', network, clock, gen, ROOM)
  const driver = new TimeDriver(clock, 120_000)
  const provider = new MemoryStorageProvider()
  const scheduler: Clock = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h as number) }
  const tabs = new Map<string, Tab>()

  /** the first tab of browser `b-<id>`: nothing of the room in its storage, so it listens before it starts its member */
  const open = (id: string): void => {
    const tab: Tab = { id, gone: false, founded: null, member: null }
    tabs.set(id, tab)
    const hello = { member: id, tab: 't1', browser: `b-${id}` }
    const transport = transports.open(hello, scheduler)
    const random = prng.create(prng.uint32(gen, 0, 0xffffffff))
    void (async () => {
      const storage = await provider.open(ROOM, id)
      const founded = await listenBeforeFounding(transport, id, DISCOVERY_MS, scheduler)
      if (tab.gone) return
      tab.founded = founded
      // a member whose cluster loses a meet wipes its slot and opens it afresh (join.ts: reopenableSlot)
      const reopenStorage = () => provider.open(ROOM, id)
      tab.member = new Member({ hello, storage, reopenStorage, transport, scheduler, random: () => prng.real53(random), bootstrap: founded, visible: () => true })
      await tab.member.start()
    })()
  }

  /** the tab goes: crashed (silent; its data channels time out) or closed (its channels close at once) */
  const end = (id: string, how: 'crash' | 'close'): void => {
    const tab = tabs.get(id)!
    tab.gone = true
    tab.member?.stop(new MeshError('CLOSED', `${id} went`))
    if (how === 'crash') transports.crash(id)
    else transports.close(id)
  }

  const linked = (a: string, b: string): boolean => transports.online.get(a)?.links().get(b)?.open === true

  /** run virtual time until `ok`, or `maxMs` passed; false then */
  const until = async (ok: () => boolean, maxMs: number): Promise<boolean> => {
    const deadline = clock.now() + maxMs
    while (!ok()) {
      if (clock.now() >= deadline) return false
      await driver.advance(10)
    }
    return true
  }

  /** the live tabs' members agree on one leader and every one of them is in its configuration */
  const formed = (): boolean => {
    const live = [...tabs.values()].filter((t) => !t.gone)
    const members = live.map((t) => t.member)
    if (members.some((m) => m === null)) return false
    const leader = members[0]!.leader
    if (leader === null || !members.every((m) => m!.leader === leader)) return false
    const conf = members.find((m) => m!.id === leader)!.conf
    return live.every((t) => conf.voters.includes(t.id) || conf.learners.includes(t.id))
  }

  const stop = (): void => {
    for (const t of tabs.values()) t.member?.stop(new MeshError('CLOSED', 'test over'))
  }
  return { clock, network, open, end, linked, until, formed, tabs, stop }
}

describe('the listener the others deferred to goes away before it founds', () => {
  for (const how of ['crash', 'close'] as const) {
    for (const seed of [1, 2]) {
      it(`during the window (${how}, seed ${seed}): the lower of the two left founds, the other joins it`, async () => {
        const w = world(seed)
        for (const id of ['ka', 'kb', 'kc']) w.open(id)
        // ka is the lowest id: kb and kc defer to it once they see its link
        expect(await w.until(() => w.linked('kb', 'ka') && w.linked('kc', 'ka') && w.linked('kb', 'kc'), DISCOVERY_MS)).toBe(true)
        w.end('ka', how)
        const formed = await w.until(w.formed, 60_000)
        console.log(`[figure] ${how} of the lowest listener at its window, seed ${seed}: formed ${formed} at ${w.clock.now()} ms (virtual)`)
        expect(formed).toBe(true)
        // one founder: kb (the lower of the two); kc waited for kb's cluster and joined it
        expect([w.tabs.get('kb')!.founded, w.tabs.get('kc')!.founded]).toEqual([true, false])
        w.stop()
      })
    }
  }

  for (const seed of [3, 4]) {
    it(`after the others' windows ended (it opened later and crashed before its own ended, seed ${seed}): one of them founds`, async () => {
      const w = world(seed)
      w.open('kb')
      w.open('kc')
      await w.until(() => w.clock.now() >= 500, 1_000)
      w.open('ka')
      expect(await w.until(() => w.linked('kb', 'ka') && w.linked('kc', 'ka'), DISCOVERY_MS)).toBe(true)
      // kb's and kc's windows end at 2 s, ka's at 2.5 s: crash it in between
      await w.until(() => w.clock.now() >= 2_300, 2_300)
      expect(w.tabs.get('ka')!.founded).toBeNull()
      w.end('ka', 'crash')
      const formed = await w.until(w.formed, 60_000)
      console.log(`[figure] crash of the lowest listener after the others' windows, seed ${seed}: formed ${formed} at ${w.clock.now()} ms (virtual)`)
      expect(formed).toBe(true)
      expect([w.tabs.get('kb')!.founded, w.tabs.get('kc')!.founded]).toEqual([true, false])
      w.stop()
    })
  }

  it('cut off instead of gone (its links stall and close; it founds alone): two clusters, and once the cut heals they meet and merge into one', async () => {
    const w = world(5)
    for (const id of ['ka', 'kb', 'kc']) w.open(id)
    expect(await w.until(() => w.linked('kb', 'ka') && w.linked('kc', 'ka') && w.linked('kb', 'kc'), DISCOVERY_MS)).toBe(true)
    w.network.isolate('ka')
    // ka, the lowest, founds at its window; kb and kc lose their links to it and, once those stay down, found and join
    const bothSides = (): boolean => [...w.tabs.values()].every((t) => t.member?.leader !== null && t.member?.leader !== undefined)
    expect(await w.until(bothSides, 60_000)).toBe(true)
    expect([...w.tabs.values()].map((t) => t.founded)).toEqual([true, true, false])
    expect(w.tabs.get('ka')!.member!.leader).toBe('ka')
    expect(w.tabs.get('kc')!.member!.leader).toBe('kb')
    w.network.heal()
    const merged = await w.until(w.formed, 120_000)
    console.log(`[figure] the lowest listener cut off, then healed, seed 5: one cluster ${merged} at ${w.clock.now()} ms (virtual)`)
    expect(merged).toBe(true)
    w.stop()
  })
})
