// Caretaking and retirement (src/browser/caretaker.ts, invariant 4): a
// surviving tab runs a dead tab's voter from the same slot until membership
// policy retires it, then closes its session and destroys the slot; a tab
// that closes first leaves the slot for the next tab.
//
// Three static voters on virtual time: m1 and m2 are tabs of one browser
// (one storage provider, its IndexedDB), m3 another browser. m2's tab dies
// and m1's tab takes m2 over. Members run on the virtual clock; the
// caretaker's rounds on Vitest's fake timers, advanced in step with it.
import * as prng from 'lib0/prng'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MeshError } from '../../src/shared/errors'
import { discardPrepared, prepareSlot, runCaretaker } from '../../src/browser/caretaker'
import type { CaretakerOutcome } from '../../src/browser/caretaker'
import { Member } from '../../src/driver/member'
import { DEFAULT_SESSION_TIMEOUT_MS } from '../../src/driver/options'
import type { Clock } from '../../src/shared/clock'
import { MemoryStorageProvider } from '../../src/storage/memory'
import type { StorageProvider } from '../../src/storage/types'
import { VirtualNetwork } from '../../src/testing/virtual-network'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualHub } from '../../src/testing/virtual-transport'
import type { MeshTransport } from '../../src/transport/mesh-transport'
import type { PeerHello } from '../../src/transport/types'
import type { MemberKey } from '../../src/wire/member-key'
import { settle } from './fake-browser'

const room = 'room'
const ROUND_MS = 500

async function cluster() {
  const clock = new VirtualClock()
  const network = new VirtualNetwork<Uint8Array>(clock, prng.create(11), { minDelay: 1, maxDelay: 3 })
  const hub = new VirtualHub(network)
  const scheduler: Clock = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h as number) }
  const gen = prng.create(7)
  const random = (): number => prng.real53(gen)
  const thisBrowser = new MemoryStorageProvider()
  const otherBrowser = new MemoryStorageProvider()
  const base = { scheduler, random }
  const start = async (member: string, browser: string, provider: StorageProvider): Promise<Member> => {
    const hello: PeerHello = { member, tab: `t-${member}`, browser }
    const m = new Member({ ...base, hello, storage: await provider.open(room, member), transport: hub.connect(hello), bootstrap: true, bootstrapVoters: ['m1', 'm2', 'm3'] })
    await m.start()
    return m
  }
  const m1 = await start('m1', 'b1', thisBrowser)
  const m2 = await start('m2', 'b1', thisBrowser)
  const m3 = await start('m3', 'b2', otherBrowser)
  /** virtual time and the fake timers move together, in small steps, until `done` */
  const runUntil = async (done: () => boolean, maxMs = 60_000): Promise<void> => {
    for (let t = 0; t < maxMs && !done(); t += 10) {
      clock.advance(10)
      await vi.advanceTimersByTimeAsync(10)
      await settle()
    }
    expect(done()).toBe(true)
  }
  /** both clocks forward by `ms` */
  const advance = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10)
      await vi.advanceTimersByTimeAsync(10)
      await settle()
    }
  }
  await runUntil(() => m1.leader !== null && m2.leader === m1.leader && m3.leader === m1.leader)
  return { hub, base, thisBrowser, m1, m2, m3, runUntil, advance }
}

type Cluster = Awaited<ReturnType<typeof cluster>>

/** m2's tab dies (its member stops without a word, its links drop), and m1's tab takes m2 over. */
function takeOverM2(c: Cluster, signal: AbortSignal, reclaimed?: AbortSignal) {
  c.m2.stop(new MeshError('CLOSED', 'the tab died'))
  c.hub.disconnect('m2')
  // the death certificate closes the dead tab's session at once (death-watch.test.ts)
  c.m1.closeSessions(c.m1.tree.sessions().filter((s) => s.startsWith('m2.')))
  let outcome: CaretakerOutcome | null = null
  const running = runCaretaker({
    room,
    hello: { member: 'm2', tab: 't-m2-caretaken', browser: 'b1' },
    provider: c.thisBrowser,
    // the caretaker needs only links() and close(): the virtual transport has both
    openTransport: (hello) => c.hub.connect(hello) as unknown as MeshTransport,
    primary: c.m1,
    member: c.base,
    signal,
    ...(reclaimed === undefined ? {} : { reclaimed }),
    roundMs: ROUND_MS,
  }).then((o) => (outcome = o))
  return { running, outcome: () => outcome }
}

const slotsOf = async (provider: StorageProvider): Promise<string[]> => (await provider.listMembers(room)).map((m) => m.member)

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('caretaker', () => {
  it('runs the dead tab\'s voter until the leader removes it, then retires it: session closed, slot destroyed', async () => {
    const c = await cluster()
    const tabClosing = new AbortController()
    const caretaker = takeOverM2(c, tabClosing.signal)
    await c.runUntil(() => caretaker.outcome() !== null)
    await caretaker.running
    expect(caretaker.outcome()).toBe('retired')
    expect(c.m1.conf.voters).not.toContain('m2')
    expect(c.m1.conf.votersOutgoing).not.toContain('m2')
    // a retired member's slot is never run again: gone from this browser's storage
    expect(await slotsOf(c.thisBrowser)).toEqual(['m1'])
    // and its session is closed with it, well before a session timeout would
    await c.runUntil(() => c.m3.tree.sessions().every((s) => !s.startsWith('m2.')), DEFAULT_SESSION_TIMEOUT_MS / 4)
    // the cluster goes on with the voters left
    await c.runUntil(() => c.m1.leader !== null && c.m3.leader === c.m1.leader)
    expect(c.m3.conf.voters.slice().sort()).toEqual(['m1', 'm3'])
  })

  it('runs from a slot prepared ahead (a reopen: start-member.ts): the storage and transport opened before it started, no other', async () => {
    const c = await cluster()
    c.m2.stop(new MeshError('CLOSED', 'the tab died'))
    c.hub.disconnect('m2')
    c.m1.closeSessions(c.m1.tree.sessions().filter((s) => s.startsWith('m2.')))
    // no key: nothing to run, nothing opened
    const opened: PeerHello[] = []
    const openTransport = (hello: PeerHello): MeshTransport => {
      opened.push(hello)
      return c.hub.connect(hello) as unknown as MeshTransport
    }
    expect(await prepareSlot({ provider: c.thisBrowser, room, hello: { member: 'm2', tab: 't-prep', browser: '' }, browser: Promise.resolve('b1'), key: Promise.resolve(null), openTransport })).toBeNull()
    expect(opened).toEqual([])
    const prepared = await prepareSlot({ provider: c.thisBrowser, room, hello: { member: 'm2', tab: 't-prep', browser: '' }, browser: Promise.resolve('b1'), key: Promise.resolve({} as MemberKey), openTransport })
    expect(prepared).not.toBeNull()
    // its transport is up (and may link) before any member runs on it
    expect(opened).toEqual([{ member: 'm2', tab: 't-prep', browser: 'b1' }])
    let outcome: CaretakerOutcome | null = null
    const running = runCaretaker({
      room,
      hello: prepared!.hello,
      provider: c.thisBrowser,
      openTransport: () => {
        throw new Error('a prepared slot opens no transport')
      },
      prepared: prepared!,
      primary: c.m1,
      member: c.base,
      signal: new AbortController().signal,
      roundMs: ROUND_MS,
    }).then((o) => (outcome = o))
    await c.runUntil(() => outcome !== null)
    await running
    expect(outcome).toBe('retired')
    expect(opened).toHaveLength(1)
    expect(await slotsOf(c.thisBrowser)).toEqual(['m1'])
  })

  it('a prepared slot no caretaker runs is closed: its transport leaves the mesh', async () => {
    const c = await cluster()
    c.m2.stop(new MeshError('CLOSED', 'the tab died'))
    c.hub.disconnect('m2')
    const prepared = await prepareSlot({ provider: c.thisBrowser, room, hello: { member: 'm2', tab: 't-prep', browser: '' }, browser: Promise.resolve('b1'), key: Promise.resolve({} as MemberKey), openTransport: (hello) => c.hub.connect(hello) as unknown as MeshTransport })
    expect(c.hub.online()).toContain('m2')
    await discardPrepared(prepared!)
    expect(c.hub.online()).not.toContain('m2')
    expect(await slotsOf(c.thisBrowser)).toEqual(['m1', 'm2'])
  })

  it('stops when its tab closes, keeping the slot for the next tab of the browser', async () => {
    const c = await cluster()
    const tabClosing = new AbortController()
    const caretaker = takeOverM2(c, tabClosing.signal)
    // let it come online, then close the tab before the leader removes it
    await c.runUntil(() => c.hub.online().includes('m2'), 1_000)
    tabClosing.abort()
    await c.runUntil(() => caretaker.outcome() !== null, 5_000)
    await caretaker.running
    expect(caretaker.outcome()).toBe('tab-closed')
    expect(c.hub.online()).not.toContain('m2')
    expect(c.m1.conf.voters).toContain('m2')
    expect(await slotsOf(c.thisBrowser)).toEqual(['m1', 'm2'])
  })

  it('gives the member back when its own tab asks (a reload slower than the grace): not retired, slot and vote kept, and the tab runs it again', async () => {
    const c = await cluster()
    const tabClosing = new AbortController()
    const reclaimed = new AbortController()
    const caretaker = takeOverM2(c, tabClosing.signal, reclaimed.signal)
    await c.runUntil(() => c.hub.online().includes('m2'), 1_000)
    reclaimed.abort()
    await c.runUntil(() => caretaker.outcome() !== null, 5_000)
    await caretaker.running
    expect(caretaker.outcome()).toBe('reclaimed')
    expect(c.hub.online()).not.toContain('m2')
    // the slot is whole, so the reloaded tab runs the member from its log
    expect(await slotsOf(c.thisBrowser)).toEqual(['m1', 'm2'])
    const back = new Member({ ...c.base, hello: { member: 'm2', tab: 't-m2-reloaded', browser: 'b1' }, storage: await c.thisBrowser.open(room, 'm2'), transport: c.hub.connect({ member: 'm2', tab: 't-m2-reloaded', browser: 'b1' }), bootstrap: false })
    await back.start()
    await c.runUntil(() => back.leader !== null && back.leader === c.m1.leader, 10_000)
    // the caretaker said no 'leaving' for it: well past the rounds that would have retired it, it is still a voter
    await c.advance(10 * ROUND_MS)
    expect(c.m1.conf.voters).toContain('m2')
    expect(c.m3.conf.voters).toContain('m2')
    back.stop(new MeshError('CLOSED', 'test over'))
  })
})
