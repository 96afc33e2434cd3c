// Death certificates (src/browser/death-watch.ts, invariants 4 and 5) on
// a fake browser: a surviving tab hears, through the Web Lock, that another
// tab of its browser died, closes the dead tab's sessions at once, leaves a
// reloading tab the grace to take its member back, and otherwise takes a
// voter over or reports the member gone. Clock are Vitest's fake ones:
// nothing here waits on the wall clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeathWatch } from '../../src/browser/death-watch'
import type { DeathWatchHost } from '../../src/browser/death-watch'
import { acquireLock, memberLockName } from '../../src/browser/identity'
import type { HeldLock } from '../../src/browser/identity'
import { FakeBrowserLocks, settle } from './fake-browser'
import type { FakeTab } from './fake-browser'

const room = 'room'
const GRACE = 1500
const REFRESH = 2000

type Certificate = Parameters<NonNullable<DeathWatchHost['onCertificate']>>[0]

/** A surviving tab's view: what its member knows, and what the watch asked of it. */
class SurvivorHost implements DeathWatchHost {
  readonly room = room
  slots: string[] = []
  sessions = new Map<string, string[]>()
  voters = new Set<string>()
  leaderId: string | null = null
  links = new Set<string>()
  readonly closed: Array<{ sessions: string[]; lockHolder: string | null }> = []
  readonly gone: string[] = []
  readonly certificates: Certificate[] = []
  readonly takeOvers: Array<{ member: string; lock: HeldLock; lockHolder: string | null; finish: (how?: 'ended' | 'given-back') => void }> = []
  listFails = 0

  constructor(
    readonly self: string,
    readonly tab: FakeTab,
    private readonly browser: FakeBrowserLocks,
  ) {}

  get locks() {
    return this.tab.locks
  }
  async listSlots(): Promise<string[]> {
    if (this.listFails > 0) {
      this.listFails--
      throw new Error('IndexedDB is having a bad day')
    }
    return [...this.slots]
  }
  sessionsOf(member: string): string[] {
    return this.sessions.get(member) ?? []
  }
  closeSessions(sessions: string[]): void {
    // who holds the dead member's lock while its sessions are closed
    const member = sessions[0]!.split('.')[0]!
    this.closed.push({ sessions, lockHolder: this.browser.holder(memberLockName(room, member)) })
  }
  reportPeerGone(member: string): void {
    this.gone.push(member)
  }
  leader(): string | null {
    return this.leaderId
  }
  isVoter(member: string): boolean {
    return this.voters.has(member)
  }
  linked(member: string): boolean {
    return this.links.has(member)
  }
  takeOver(member: string, lock: HeldLock): Promise<'ended' | 'given-back'> {
    return new Promise((resolve) => this.takeOvers.push({ member, lock, lockHolder: this.browser.holder(lock.name), finish: (how = 'ended') => resolve(how) }))
  }
  onCertificate(e: Certificate): void {
    this.certificates.push(e)
  }
}

/** A tab that runs `member`: holds its lock until it dies. */
async function tabRunning(browser: FakeBrowserLocks, member: string): Promise<FakeTab> {
  const tab = browser.tab()
  expect(await acquireLock(tab.locks, memberLockName(room, member), { ifAvailable: true })).not.toBeNull()
  return tab
}

const watches: DeathWatch[] = []
function watchFrom(host: SurvivorHost): DeathWatch {
  const watch = new DeathWatch(host, { graceMs: GRACE, refreshMs: REFRESH })
  watches.push(watch)
  watch.start()
  return watch
}

/** Two tabs of one browser: A runs mA (with two sessions in the tree), B runs mB and watches. */
async function twoTabs() {
  const browser = new FakeBrowserLocks()
  const a = await tabRunning(browser, 'mA')
  const b = new SurvivorHost('mB', browser.tab(), browser)
  b.slots = ['mA', 'mB']
  b.sessions.set('mA', ['mA.1', 'mA.2'])
  const watch = watchFrom(b)
  await settle()
  return { browser, a, b, watch }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
})
afterEach(() => {
  for (const watch of watches.splice(0)) watch.stop()
  vi.useRealTimers()
})

describe('death watch: the certificate', () => {
  it("watches every other member slot of the browser, never its own", async () => {
    const { browser, watch } = await twoTabs()
    expect(watch.watched()).toEqual(['mA'])
    expect(browser.waiting(memberLockName(room, 'mA'))).toBe(1)
    expect(browser.waiting(memberLockName(room, 'mB'))).toBe(0)
  })

  it("closes a dead tab's sessions at once, while it holds the dead member's lock (no new tab of it can have opened one)", async () => {
    const { a, b } = await twoTabs()
    expect(b.closed).toEqual([])
    a.die()
    await settle()
    expect(b.closed).toEqual([{ sessions: ['mA.1', 'mA.2'], lockHolder: b.tab.name }])
    // a follower's death is not a reason for an election
    expect(b.gone).toEqual([])
  })

  it('reports a dead leader gone at once, so an election starts without waiting for the grace', async () => {
    const { a, b } = await twoTabs()
    b.leaderId = 'mA'
    a.die()
    await settle()
    expect(b.gone).toEqual(['mA'])
    expect(b.certificates).toEqual([])
  })

  it('leaves a reloading tab the grace to take its member back, then watches the member again', async () => {
    const { browser, a, b, watch } = await twoTabs()
    b.voters.add('mA')
    a.die()
    await settle()
    // the reloaded page asks for its member while the survivor holds it for the certificate
    const reloaded = browser.tab()
    const back = acquireLock(reloaded.locks, memberLockName(room, 'mA'), { waitMs: GRACE })
    await settle()
    expect(await back).not.toBeNull()
    await vi.advanceTimersByTimeAsync(GRACE)
    expect(b.certificates).toEqual([{ member: 'mA', sessions: ['mA.1', 'mA.2'], outcome: 'reclaimed' }])
    expect(b.takeOvers).toEqual([])
    expect(watch.watched()).toEqual(['mA'])
    // the reloaded tab's own death is heard too
    b.sessions.set('mA', ['mA.3'])
    reloaded.die()
    await settle()
    expect(b.closed.map((c) => c.sessions)).toEqual([['mA.1', 'mA.2'], ['mA.3']])
  })
})

describe('death watch: after the grace', () => {
  it('takes a dead voter over (same slot, its lock held by this tab) when nobody reclaimed it', async () => {
    const { browser, a, b, watch } = await twoTabs()
    b.voters.add('mA')
    a.die()
    await settle()
    await vi.advanceTimersByTimeAsync(GRACE - 1)
    expect(b.takeOvers).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(b.takeOvers.map((t) => [t.member, t.lockHolder])).toEqual([['mA', b.tab.name]])
    expect(b.certificates.map((c) => c.outcome)).toEqual(['taken-over'])
    // held for as long as this tab runs the member; given back once it is retired
    await vi.advanceTimersByTimeAsync(10 * REFRESH)
    expect(browser.holder(memberLockName(room, 'mA'))).toBe(b.tab.name)
    b.takeOvers[0]!.finish()
    await settle()
    expect(browser.holder(memberLockName(room, 'mA'))).toBeNull()
    // retired: nobody runs it, so nothing is watched until some tab runs it again
    await vi.advanceTimersByTimeAsync(REFRESH)
    expect(watch.watched()).toEqual([])
    const rerun = await tabRunning(browser, 'mA')
    b.links.add('mA')
    await vi.advanceTimersByTimeAsync(REFRESH)
    expect(watch.watched()).toEqual(['mA'])
    rerun.die()
    await settle()
    expect(b.closed).toHaveLength(2)
  })

  it('a member whose page said it reloads is left free for reloadGraceMs, not graceMs: a slow new page still finds it free', async () => {
    const browser = new FakeBrowserLocks()
    const a = await tabRunning(browser, 'mA')
    const b = new SurvivorHost('mB', browser.tab(), browser)
    b.slots = ['mA', 'mB']
    b.voters.add('mA')
    const watch = new DeathWatch(b, { graceMs: GRACE, reloadGraceMs: 4 * GRACE, refreshMs: REFRESH })
    watches.push(watch)
    watch.start()
    await settle()
    // pageswap of a reload comes just before the page goes
    watch.heardReload('mA')
    a.die()
    await settle()
    await vi.advanceTimersByTimeAsync(4 * GRACE - 1)
    expect(b.takeOvers).toEqual([])
    expect(browser.holder(memberLockName(room, 'mA'))).toBeNull()
    // the slow page takes it back within the longer grace
    const reloaded = await tabRunning(browser, 'mA')
    await vi.advanceTimersByTimeAsync(1)
    expect(b.certificates.map((c) => c.outcome)).toEqual(['reclaimed'])
    // the notice was for that death only: the next one waits the usual grace
    reloaded.die()
    await settle()
    await vi.advanceTimersByTimeAsync(GRACE)
    expect(b.takeOvers.map((t) => t.member)).toEqual(['mA'])
  })

  it("gives a taken-over voter back to its own tab (a reload slower than the grace) and watches that tab's death", async () => {
    const { browser, a, b, watch } = await twoTabs()
    b.voters.add('mA')
    a.die()
    await settle()
    await vi.advanceTimersByTimeAsync(GRACE)
    expect(b.takeOvers.map((t) => t.member)).toEqual(['mA'])
    // the reloaded page queues for the lock and asks for it back: the caretaker stops
    const reloaded = browser.tab()
    const back = acquireLock(reloaded.locks, memberLockName(room, 'mA'))
    b.takeOvers[0]!.finish('given-back')
    expect(await back).not.toBeNull()
    expect(browser.holder(memberLockName(room, 'mA'))).toBe(reloaded.name)
    // watched again at once (not left vacant until a link or a refresh): its next death is heard
    await settle()
    expect(watch.watched()).toEqual(['mA'])
    b.sessions.set('mA', ['mA.3'])
    reloaded.die()
    await settle()
    expect(b.closed.map((c) => c.sessions).at(-1)).toEqual(['mA.3'])
  })

  it('a reopening tab takes a voter whose slot was free at its start over at once, on the lock it took then, without reading the slot list; a later death waits the grace', async () => {
    const browser = new FakeBrowserLocks()
    const b = new SurvivorHost('mB', browser.tab(), browser)
    b.slots = ['mA', 'mB']
    b.voters.add('mA')
    // the reopening tab took mA's lock as it chose its own slot (start-member.ts)
    const held = (await acquireLock(b.locks, memberLockName(room, 'mA'), { ifAvailable: true }))!
    // the list cannot be read yet: the vacant slot does not wait for it
    b.listFails = 1
    const watch = new DeathWatch(b, { graceMs: GRACE, refreshMs: REFRESH, vacantAtStart: new Map([['mA', held]]) })
    watches.push(watch)
    watch.start()
    await settle()
    // no timer advanced: no grace was waited
    expect(b.takeOvers.map((t) => [t.member, t.lockHolder])).toEqual([['mA', b.tab.name]])
    expect(b.certificates.map((c) => c.outcome)).toEqual(['taken-over'])
    b.takeOvers[0]!.finish()
    await settle()
    expect(browser.holder(memberLockName(room, 'mA'))).toBeNull()
    // a tab runs mA again and dies: this time a reloading tab gets its grace
    const rerun = await tabRunning(browser, 'mA')
    b.links.add('mA')
    await vi.advanceTimersByTimeAsync(REFRESH)
    rerun.die()
    await settle()
    await vi.advanceTimersByTimeAsync(GRACE - 1)
    expect(b.takeOvers).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(b.takeOvers).toHaveLength(2)
  })

  it('reports a dead learner gone (the leader removes it) and gives its lock back', async () => {
    const { browser, a, b } = await twoTabs()
    a.die()
    await settle()
    await vi.advanceTimersByTimeAsync(GRACE)
    expect(b.takeOvers).toEqual([])
    expect(b.gone).toEqual(['mA'])
    expect(b.certificates.map((c) => c.outcome)).toEqual(['reported-gone'])
    expect(browser.holder(memberLockName(room, 'mA'))).toBeNull()
  })

  it('every surviving tab hears the certificate, and exactly one takes the voter over', async () => {
    const browser = new FakeBrowserLocks()
    const a = await tabRunning(browser, 'mA')
    const survivors = ['mB', 'mC'].map((self) => {
      const host = new SurvivorHost(self, browser.tab(), browser)
      host.slots = ['mA', 'mB', 'mC']
      host.sessions.set('mA', ['mA.1'])
      host.voters.add('mA')
      return host
    })
    // each survivor's own member runs in its tab
    for (const host of survivors) expect(await acquireLock(host.tab.locks, memberLockName(room, host.self))).not.toBeNull()
    for (const host of survivors) watchFrom(host)
    await settle()
    a.die()
    await settle()
    for (const host of survivors) expect(host.closed.map((c) => c.sessions)).toEqual([['mA.1']])
    await vi.advanceTimersByTimeAsync(GRACE)
    expect(survivors.flatMap((h) => h.takeOvers.map((t) => t.member))).toEqual(['mA'])
    expect(survivors.flatMap((h) => h.certificates.map((c) => c.outcome)).sort()).toEqual(['reclaimed', 'taken-over'])
  })
})

describe('death watch: every survivor at once', () => {
  // The browser grants a freed lock's queued requests in order, and a grant
  // runs its callback as a task of the tab's main thread. Exclusive requests
  // heard a leader's death one tab after another, each behind the one before
  // it in the queue and its busy main thread: bench scale9 (9 tabs, 2 cores),
  // the first survivor heard a crashed leader's lock free 35 ms (median) after
  // the kill, the last 75 ms, and the voter chosen to campaign (rank 0) 52 ms,
  // fifth in line; the other voters ignored its PreVote under the dead
  // leader's lease until their own turn came.
  it("a busy survivor does not hold back the others' certificates: the watches share the lock", async () => {
    const browser = new FakeBrowserLocks()
    const a = await tabRunning(browser, 'mA')
    const survivors = ['mB', 'mC', 'mD'].map((self) => {
      const host = new SurvivorHost(self, browser.tab(), browser)
      host.slots = ['mA', 'mB', 'mC', 'mD']
      host.leaderId = 'mA'
      return host
    })
    for (const host of survivors) watchFrom(host)
    await settle()
    // the first in the queue is in a long task when the leader dies
    survivors[0]!.tab.busy()
    a.die()
    await settle()
    expect(survivors.map((h) => h.gone)).toEqual([[], ['mA'], ['mA']])
    // still nobody but the watches can take the lock: a new tab of mA cannot have opened a session
    expect(browser.holdersOf(memberLockName(room, 'mA'))).toEqual([survivors[0]!.tab.name])
    survivors[0]!.tab.free()
    await settle()
    expect(survivors.map((h) => h.gone)).toEqual([['mA'], ['mA'], ['mA']])
    expect(browser.holder(memberLockName(room, 'mA'))).toBeNull()
  })

  it('a new tab of the dead member waits for the watches that hold the lock, shared, then gets it', async () => {
    const { browser, a, b } = await twoTabs()
    b.tab.busy()
    a.die()
    await settle()
    // a reloaded page of mA asks for its member back while b has not run its certificate yet
    const reloaded = browser.tab()
    const lock = acquireLock(reloaded.locks, memberLockName(room, 'mA'))
    await settle()
    expect(browser.holdersOf(memberLockName(room, 'mA'))).toEqual([b.tab.name])
    b.tab.free()
    await settle()
    expect(b.closed).toEqual([{ sessions: ['mA.1', 'mA.2'], lockHolder: b.tab.name }])
    expect(await lock).not.toBeNull()
    expect(browser.holder(memberLockName(room, 'mA'))).toBe(reloaded.name)
  })
})

describe('death watch: its own life', () => {
  it('watches slots opened by new tabs once the list is read again', async () => {
    const { browser, b, watch } = await twoTabs()
    await tabRunning(browser, 'mD')
    b.slots.push('mD')
    await vi.advanceTimersByTimeAsync(REFRESH)
    expect(watch.watched()).toEqual(['mA', 'mD'])
  })

  it("watches a new tab's slot as soon as a member of this browser links, not at the next read of the list", async () => {
    const { browser, b, watch } = await twoTabs()
    await tabRunning(browser, 'mD')
    b.slots.push('mD')
    // mD's tab linked to us: its slot is read now (a tab that reloads within
    // the refresh period must still leave a certificate behind)
    watch.linkedUp('mD')
    await settle()
    expect(watch.watched()).toEqual(['mA', 'mD'])
    // a member already watched costs no read
    const reads = vi.spyOn(b, 'listSlots')
    watch.linkedUp('mA')
    await settle()
    expect(reads).not.toHaveBeenCalled()
  })

  it('keeps reading the slot list after a read fails', async () => {
    const browser = new FakeBrowserLocks()
    await tabRunning(browser, 'mA')
    const b = new SurvivorHost('mB', browser.tab(), browser)
    b.slots = ['mA', 'mB']
    b.listFails = 2
    const watch = watchFrom(b)
    await settle()
    expect(watch.watched()).toEqual([])
    await vi.advanceTimersByTimeAsync(2 * REFRESH)
    expect(watch.watched()).toEqual(['mA'])
  })

  it('stop() withdraws its queued requests and hears no more deaths', async () => {
    const { browser, a, b, watch } = await twoTabs()
    watch.stop()
    await settle()
    expect(browser.waiting(memberLockName(room, 'mA'))).toBe(0)
    a.die()
    await vi.advanceTimersByTimeAsync(GRACE + REFRESH)
    expect(b.closed).toEqual([])
    expect(b.gone).toEqual([])
    expect(b.certificates).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })
})
