// Issue 17 item 7, in Chromium: a tab frozen past the failure timeout (a
// voter silent that long is dead to the leader: it is removed from the
// configuration, so the others keep a quorum of their own) comes back on
// resume: it asks to join again, is added as a learner and promoted, and
// commits under a new session (its old one expired with its ephemerals).
// With `?session=3000` the failure timeout is 15 s (driver/options.ts).
// Freezing: see test/e2e/lifecycle/pages.ts (the debugger pauses the page).
import { expect, test } from '@playwright/test'
import { meshOf, openTabs, pollFor, waitForLeader, waitForVoters } from '../../src/testing/playwright'
import { DEMO_URL, freshRoom, logPageErrors } from './helpers/demo'
import { commits, recordStates, recorded, sessionOf, setFrozen } from './lifecycle/pages'

test('a voter frozen past the failure timeout is removed, and on resume it joins again, is promoted and commits', async ({ context }) => {
  logPageErrors(context)
  const pages = await openTabs(context, DEMO_URL(freshRoom(), '&session=3000'), 3)
  await waitForVoters(pages, 3)
  const { page: leader } = await waitForLeader(pages)
  const frozen = pages.find((p) => p !== leader)!
  const id = (await meshOf(frozen)).id
  const session = await sessionOf(frozen)
  await recordStates(frozen)
  await setFrozen(frozen, true)
  // the leader removes the silent voter; the two left are a cluster of their own and commit
  await expect.poll(() => meshOf(leader!).then((v) => v.members.map((m) => m.id)), { timeout: 60_000 }).not.toContain(id)
  await expect.poll(() => commits(leader!, '/without-it'), { timeout: 30_000 }).toBe(true)
  await setFrozen(frozen, false)
  // resumed: back in the configuration as a voter, with what was written meanwhile, under a new session
  await pollFor('the resumed tab to be a voter again', async () => ((await meshOf(leader!)).members.find((m) => m.id === id)?.voter === true ? true : undefined), { timeoutMs: 60_000 })
  await expect.poll(() => commits(frozen, '/back-again'), { timeout: 30_000 }).toBe(true)
  expect(await recorded(frozen)).toContain('lost')
  expect(await sessionOf(frozen)).not.toBe(session)
  expect((await meshOf(frozen)).id).toBe(id)
})
