// Issue 6 in real tabs: the recipes (src/recipes) on meshes joined by the
// demo page (window.mesh), one browser context, every tab its own member.
// Faults are real: a renderer crash (no goodbye), a reload (the tab takes its
// member back with a new session), a hidden tab (leadership moves off it) and
// a stalled renderer (paused in the debugger past its session timeout).
// Waits are expect.poll / pollFor, never sleeps; times are printed as [figure] lines,
// never asserted.
import { expect, test } from '@playwright/test'
import type { Page } from '@playwright/test'
import { meshOf, openTabs, pollFor, waitForLeader, waitForMesh, waitForVoters } from '../../src/testing/playwright'
import { crash, freshRoom, heldLocks, logPageErrors, setHidden, tabInfo, throttleTimers } from './helpers/demo'
import { campaign, candidateOf, settledLeader } from './recipes/election-tabs'
import { freezeNextHolder, LockJournal, startLockLoop } from './recipes/lock-workload'
import type { OwnDemo } from './recipes/own-demo'
import type { PermitEvent } from './recipes/semaphore-tabs'
import { attachPermits, mostAtOnce, startPermitLoop } from './recipes/semaphore-tabs'
import { startOwnDemo } from './recipes/own-demo'

test.describe.configure({ mode: 'serial' })

// the demo served for these tests alone (see recipes/own-demo.ts for why not the shared one)
let demo: OwnDemo
test.beforeAll(async () => {
  demo = await startOwnDemo()
})
test.afterAll(async () => {
  await demo?.stop()
})

const LOCK = '/locks/counter'
const COUNTER = '/counter'
/** fenced increments each tab must complete */
const ROUNDS = 12

test('five tabs share one lock while a holder crashes mid-write, another reloads holding it and the leader hides: no increment lost, tokens increase, the lock is handed on', async ({ context }) => {
  test.setTimeout(180_000)
  logPageErrors(context)
  // a 10 minute session timeout: within the test only the crashed tab's death
  // certificate (its Web Lock freed) or a reload's goodbye can end a holder's session
  const pages = await openTabs(context, demo.url(freshRoom(), '&session=600000'), 5)
  await waitForLeader(pages, { timeoutMs: 60_000 })
  await waitForVoters(pages, 5, { timeoutMs: 60_000 })
  const journal = new LockJournal()
  const tabOf = new Map<Page, string>(pages.map((p, i) => [p, `tab${i}`]))
  for (const [p, tab] of tabOf) await journal.attach(p, tab)
  await pages[0]!.evaluate((path) => window.mesh!.create(path, '0'), COUNTER)
  for (const p of pages) await startLockLoop(p, LOCK, COUNTER, ROUNDS)
  const acked = () => journal.of('wrote').length

  // 1. the leader tab hides: leadership moves to a visible tab, and the lock keeps working
  await expect.poll(acked, { timeout: 60_000 }).toBeGreaterThanOrEqual(5)
  const { leader: firstLeader, page: hidden } = await waitForLeader(pages)
  const tHide = Date.now()
  await setHidden(hidden!, true)
  // and its timers run at most once a second, as Chrome throttles a hidden tab
  await throttleTimers(hidden!)
  const moved = async () => {
    const now = await waitForLeader(pages)
    return now.leader !== firstLeader ? now : undefined
  }
  const { leader: secondLeader, page: newLeaderPage } = await pollFor('leadership to leave the hidden tab', moved, { timeoutMs: 60_000 })
  console.log(`[figure] lock workload: leadership left the hidden tab within ${Date.now() - tHide} ms (polled)`)
  expect(secondLeader).not.toBe(firstLeader)
  expect(newLeaderPage).not.toBe(hidden)
  const ackedAtHide = acked()
  await expect.poll(acked, { timeout: 60_000 }).toBeGreaterThanOrEqual(ackedAtHide + 5)

  // 2. a holder's tab crashes right after sending its fenced write: the lock is handed on once its session goes
  const [victim, reloaded] = pages.filter((p) => p !== hidden && p !== newLeaderPage)
  const victimTab = tabOf.get(victim!)!
  await freezeNextHolder(victim!, 'mid-write')
  await expect.poll(() => journal.of('frozen', victimTab).length === 1 && journal.last(victimTab)?.kind === 'writing', { timeout: 60_000 }).toBe(true)
  const frozen = journal.of('frozen', victimTab)[0]!
  const tCrash = Date.now()
  await crash(victim!)
  const handedOn = () => journal.acquisitions().find((e) => e.at > tCrash && e.tab !== victimTab)
  await expect.poll(() => handedOn() !== undefined, { timeout: 60_000 }).toBe(true)
  console.log(`[figure] lock hand-off after the holder's tab crashed (death certificate): ${handedOn()!.at - tCrash} ms (crash to the next holder's report)`)
  expect(handedOn()!.token).toBeGreaterThan(frozen.token)

  // 3. another tab reloads while it holds the lock: its goodbye hands the lock on,
  // it takes its member back with a new session and finishes its share
  const reloadedTab = tabOf.get(reloaded!)!
  const before = await meshOf(reloaded!)
  await freezeNextHolder(reloaded!, 'holding')
  await expect.poll(() => journal.of('frozen', reloadedTab).length, { timeout: 60_000 }).toBe(1)
  const heldAtReload = journal.of('frozen', reloadedTab)[0]!
  const tReload = Date.now()
  const handedOnAfterReload = () => journal.acquisitions().find((e) => e.at > tReload && e.tab !== reloadedTab)
  await reloaded!.reload()
  await waitForMesh(reloaded!)
  await expect.poll(() => meshOf(reloaded!).then((v) => v.state), { timeout: 60_000 }).toBe('connected')
  const after = await meshOf(reloaded!)
  // how it chose (reload / free-slot / new) and what the others' death watches did, should it not be its own member
  const why = `reloaded tab chose its member as ${(await tabInfo(reloaded!)).source}; certificates: ${JSON.stringify(await Promise.all(pages.filter((p) => p !== victim && p !== reloaded).map((p) => tabInfo(p).then((i) => i.certificates))))}`
  expect(after.id, why).toBe(before.id)
  expect(after.sessionId).not.toBe(before.sessionId)
  // at least one more round, so the reloaded tab is seen holding the lock again
  const remaining = Math.max(1, ROUNDS - journal.of('wrote', reloadedTab).length)
  await startLockLoop(reloaded!, LOCK, COUNTER, remaining)
  await expect.poll(() => journal.acquisitions().some((e) => e.tab === reloadedTab && e.at > tReload), { timeout: 60_000 }).toBe(true)
  await expect.poll(() => handedOnAfterReload() !== undefined, { timeout: 60_000 }).toBe(true)
  console.log(`[figure] lock hand-off after the holder's tab reloaded (goodbye on pagehide): ${handedOnAfterReload()!.at - tReload} ms`)
  expect(handedOnAfterReload()!.token).toBeGreaterThan(heldAtReload.token)
  console.log(`[figure] reloaded tab holds the lock again ${journal.acquisitions().find((e) => e.tab === reloadedTab && e.at > tReload)!.at - tReload} ms after its reload began`)

  // every live tab finishes its share
  const live = pages.filter((p) => p !== victim)
  for (const p of live) {
    const tab = tabOf.get(p)!
    await expect.poll(() => journal.of('done', tab).at(-1)?.wrote, { timeout: 120_000, message: `${tab} finishes` }).toBe(p === reloaded ? remaining : ROUNDS)
  }

  const final = Number(await live[0]!.evaluate((path) => window.mesh!.get(path, { linearizable: true }).then((n) => n.text()), COUNTER))
  const ackedValues = journal.ackedValues()
  const unanswered = journal.unansweredValues()
  const failed = journal.of('write-failed')
  const errors = journal.of('error')
  console.log(
    `[lock workload] final ${final}, acknowledged ${ackedValues.length}, unanswered ${JSON.stringify(unanswered)}, refused writes ${JSON.stringify(failed.map((f) => `${f.tab}:${f.code}`))}, errors ${JSON.stringify(errors.map((e) => `${e.tab}:${e.stage}:${e.code}`))}`,
  )
  const context_ = `journal:\n${journal.describe()}`
  // every acknowledged increment is in the counter, and nothing beyond what was attempted
  expect(final, context_).toBeGreaterThanOrEqual(ackedValues.length)
  expect(final, context_).toBeLessThanOrEqual(ackedValues.length + unanswered.length + failed.length)
  // no lost update: no two holders wrote the same value, and the writes that
  // landed (acknowledged, or unanswered but never overwritten by a same-value
  // write) are exactly 1..final — final equals the number of successful fenced writes
  expect(new Set(ackedValues).size, context_).toBe(ackedValues.length)
  const landed = [...ackedValues, ...unanswered.filter((v) => v <= final && !ackedValues.includes(v))].sort((a, b) => a - b)
  console.log(`[lock workload] the crashed holder's in-flight write of ${journal.last(victimTab)!.kind === 'writing' ? (journal.last(victimTab) as { value: number }).value : '?'}: ${landed.length > ackedValues.length ? 'landed' : 'did not land'}`)
  expect(landed, context_).toEqual(Array.from({ length: final }, (_, i) => i + 1))
  // one holder at a time: every acquisition follows the previous holder's release, or its tab's crash or reload
  expect(journal.exclusionViolations(new Map([[victimTab, tCrash], [reloadedTab, tReload]])), context_).toEqual([])
  // fencing tokens strictly increase across holders (in the order the holders held)
  const tokens = journal.acquisitions().map((e) => e.token)
  for (let i = 1; i < tokens.length; i++) expect(tokens[i]!, context_).toBeGreaterThan(tokens[i - 1]!)
  // the lock was really contended: every tab held it, the crashed one included
  expect(new Set(journal.acquisitions().map((e) => e.tab)).size).toBe(5)
})

const ELECTION = '/election/app'

test('three tabs campaign: exactly one leads and every tab agrees; the leader tab closes, then the next one crashes, and each time exactly one other takes over', async ({ context }) => {
  logPageErrors(context)
  // a 10 minute session timeout: within the test only a goodbye or a death certificate can end a session
  const pages = await openTabs(context, demo.url(freshRoom(), '&session=600000'), 3)
  await waitForLeader(pages, { timeoutMs: 60_000 })
  await waitForVoters(pages, 3, { timeoutMs: 60_000 })
  for (const [i, p] of pages.entries()) await campaign(p, ELECTION, `candidate ${i}`)
  const elected = async (tabs: Page[]) => (await Promise.all(tabs.map((p) => candidateOf(p, ELECTION)))).filter((v) => v.electedAt !== null).map((v) => v.id)

  const first = await pollFor('one elected leader every tab agrees on', () => settledLeader(pages, ELECTION), { timeoutMs: 60_000 })
  expect(await elected(pages)).toEqual([first.id])
  expect(first.value).toBe(`candidate ${pages.indexOf(first.page)}`)

  // the leader's tab closes (pagehide: its session ends at once)
  const rest = pages.filter((p) => p !== first.page)
  const tClose = Date.now()
  await first.page.close()
  const second = await pollFor('a new leader after the close', () => settledLeader(rest, ELECTION), { timeoutMs: 60_000 })
  console.log(`[figure] election hand-off after the leader tab closed: ${second.electedAt - tClose} ms (close to the new leader's campaign resolving)`)
  expect(second.id).not.toBe(first.id)
  expect(await elected(rest)).toEqual([second.id])
  expect(second.token).toBeGreaterThan(first.token)

  // the new leader's tab crashes (no goodbye): the last tab takes over on the death certificate
  const [last] = rest.filter((p) => p !== second.page)
  const before = await Promise.all(rest.map(async (p) => ({ mesh: await meshOf(p), tab: await tabInfo(p) })))
  const tCrash = Date.now()
  await crash(second.page)
  const third = await pollFor('the last tab leads after the crash', () => settledLeader([last!], ELECTION), { timeoutMs: 60_000 }).catch(async (e: unknown) => {
    // what the last tab knew when it gave up: its members, certificates and the locks of its browser
    console.log(`[diagnosis] before the crash: ${JSON.stringify(before)}`)
    console.log(`[diagnosis] the last tab: ${JSON.stringify({ mesh: await meshOf(last!), tab: await tabInfo(last!), locks: await heldLocks(last!) })}`)
    const sessions = await last!.evaluate(() => ((window.mesh as unknown as Record<symbol, any>)[Symbol.for('meshkeeper.browserTab')].diagnosticMember().tree.sessions() as string[]))
    const candidates = await last!.evaluate((p) => window.mesh!.children(p).catch((err: unknown) => String(err)), ELECTION)
    console.log(`[diagnosis] the last tab's tree: sessions ${JSON.stringify(sessions)}, candidates ${JSON.stringify(candidates)}, its candidate ${JSON.stringify(await candidateOf(last!, ELECTION).catch((err: unknown) => String(err)))}`)
    throw e
  })
  console.log(`[figure] election hand-off after the leader tab crashed: ${third.electedAt - tCrash} ms (crash to the new leader's campaign resolving)`)
  expect(third.id).not.toBe(second.id)
  expect(third.page).toBe(last)
  expect(third.token).toBeGreaterThan(second.token)
})

test("a holder whose tab stalls past its session timeout is fenced off: its late write is refused and the next holder's write stands", async ({ context }) => {
  logPageErrors(context)
  // a short session timeout, so the stalled tab's session expires within the test
  const pages = await openTabs(context, demo.url(freshRoom(), '&session=4000'), 3)
  const { page: leaderPage } = await waitForLeader(pages, { timeoutMs: 60_000 })
  await waitForVoters(pages, 3, { timeoutMs: 60_000 })
  // the stalled holder is a follower: stalling the leader would be a leader failover, not this test
  const [stale, next] = pages.filter((p) => p !== leaderPage)
  await stale!.evaluate((path) => window.mesh!.create(path, 'initial'), '/fenced')

  // the stale tab takes the lock, then waits at a gate the test opens later before it writes
  const staleToken = await stale!.evaluate(async (lockPath) => {
    const w = window as unknown as { gate: Promise<void>; openGate: () => void; outcome: Promise<string>; lease: { state: string } }
    w.gate = new Promise<void>((resolve) => (w.openGate = resolve))
    const lease = await window.mesh!.lock(lockPath).acquire()
    w.lease = lease
    w.outcome = w.gate.then(() =>
      window.mesh!.set('/fenced', 'written by the stale holder', { fence: lease }).then(
        () => 'written',
        (e: { code?: string }) => String(e.code),
      ),
    )
    return lease.token
  }, '/locks/fenced')

  // the stale tab stalls (its renderer paused in the debugger, like a long GC pause): no heartbeats, but its Web Lock stays held
  const cdp = await context.newCDPSession(stale!)
  await cdp.send('Debugger.enable')
  const paused = new Promise<void>((resolve) => cdp.once('Debugger.paused', () => resolve()))
  await cdp.send('Debugger.pause')
  await paused
  const tStall = Date.now()

  // its session expires, its lock node goes, and the next tab gets the lock and writes under its own fence
  const nextToken = await next!.evaluate(async (lockPath) => {
    const lease = await window.mesh!.lock(lockPath).acquire({ timeoutMs: 90_000 })
    await window.mesh!.set('/fenced', 'written by the next holder', { fence: lease })
    return lease.token
  }, '/locks/fenced')
  console.log(`[figure] lock taken over from a stalled holder (4 s session timeout): ${Date.now() - tStall} ms after the stall began`)
  expect(nextToken).toBeGreaterThan(staleToken)

  // the stale tab wakes up, still believing it holds the lock, and writes: refused
  await cdp.send('Debugger.resume')
  await cdp.send('Debugger.disable')
  await stale!.evaluate(() => (window as unknown as { openGate: () => void }).openGate())
  const outcome = await stale!.evaluate(() => (window as unknown as { outcome: Promise<string> }).outcome)
  console.log(`[fencing] the stale holder's write was refused with ${outcome}`)
  // FENCED: its lock node is gone; SESSION_EXPIRED: its session went with it — either way the write never lands
  expect(['FENCED', 'SESSION_EXPIRED']).toContain(outcome)
  await expect.poll(() => stale!.evaluate(() => (window as unknown as { lease: { state: string } }).lease.state), { timeout: 30_000 }).toBe('lost')
  for (const p of pages) expect(await p.evaluate(() => window.mesh!.get('/fenced', { linearizable: true }).then((n) => n.text()))).toBe('written by the next holder')
})

test('four tabs share a semaphore of two permits: never more than two hold at once, and every round completes', async ({ context }) => {
  logPageErrors(context)
  const pages = await openTabs(context, demo.url(freshRoom()), 4)
  await waitForLeader(pages, { timeoutMs: 60_000 })
  await waitForVoters(pages, 4, { timeoutMs: 60_000 })
  const events: PermitEvent[] = []
  for (const [i, p] of pages.entries()) await attachPermits(p, `tab${i}`, events)
  const rounds = 6
  for (const p of pages) await startPermitLoop(p, '/semaphores/pool', 2, rounds)
  await expect.poll(() => events.filter((e) => e.kind === 'done').length, { timeout: 90_000 }).toBe(4)
  console.log(`[semaphore] most holders at once: ${mostAtOnce(events)} of 2 permits`)
  expect(events.filter((e) => e.kind === 'error')).toEqual([])
  expect(events.filter((e) => e.kind === 'holding')).toHaveLength(4 * rounds)
  expect(mostAtOnce(events)).toBeLessThanOrEqual(2)
})
