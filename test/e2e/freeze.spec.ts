// Issue 17 item 7, in Chromium: a frozen tab (Page Lifecycle freeze, as
// Chrome freezes background tabs; here DevTools Page.setWebLifecycleState)
// runs no task at all. It must cost no quorum: the other tabs keep
// committing (a frozen leader is replaced, a frozen follower does not block),
// and on resume it rejoins and commits again, with the same session when it
// was frozen for less than the session timeout; frozen longer, its session
// expired (its ephemerals are gone): it says `lost`, opens a new session and
// goes on, as a ZooKeeper client gets a new session after an expiry.
import { expect, test } from '@playwright/test'
import type { Page } from '@playwright/test'
import { meshOf, openTabs, pollFor, waitForLeader, waitForVoters } from '../../src/testing/playwright'
import { DEMO_URL, freshRoom, logPageErrors } from './helpers/demo'
import { commits, create, exists, recordStates, recorded, sessionOf, setFrozen } from './lifecycle/pages'

test.describe.configure({ mode: 'serial' })

async function threeTabs(context: import('@playwright/test').BrowserContext, sessionMs: number): Promise<{ pages: Page[]; leader: Page }> {
  logPageErrors(context)
  const pages = await openTabs(context, DEMO_URL(freshRoom(), `&session=${sessionMs}`), 3)
  await waitForVoters(pages, 3)
  const { page } = await waitForLeader(pages)
  for (const p of pages) await recordStates(p)
  return { pages, leader: page! }
}

let n = 0
/** some write from `page` commits (polled: the mesh may be electing) */
const eventuallyCommits = (page: Page) => {
  const path = `/w${++n}`
  return pollFor(`a write from the page (${path}) to commit`, async () => ((await commits(page, path)) ? path : undefined), { timeoutMs: 30_000 })
}

test('a frozen leader is replaced and the others keep committing; resumed, it rejoins with its session and commits again', async ({ context }) => {
  const { pages, leader } = await threeTabs(context, 60_000)
  const rest = pages.filter((p) => p !== leader)
  const frozenId = (await meshOf(leader)).id
  const session = await sessionOf(leader)
  await create(leader, '/mine', 'ephemeral')
  await setFrozen(leader, true)
  // the others elect one of themselves and commit without the frozen tab
  const { leader: next } = await waitForLeader(rest, { timeoutMs: 30_000 })
  expect(next).not.toBe(frozenId)
  const written = await eventuallyCommits(rest[0]!)
  await setFrozen(leader, false)
  // resumed: it follows the new leader, sees what was written meanwhile, and its session lived on
  await expect.poll(() => meshOf(leader).then((v) => v.leader), { timeout: 30_000 }).toBe(next)
  await expect.poll(() => exists(leader, written), { timeout: 30_000 }).toBe(true)
  await eventuallyCommits(leader)
  expect(await sessionOf(leader)).toBe(session)
  expect(await exists(rest[0]!, '/mine')).toBe(true)
  expect(await recorded(leader)).toContain('resume')
  expect(await recorded(leader)).not.toContain('lost')
})

test('a frozen follower among three voters does not block: writes commit while it is frozen, and it catches up on resume', async ({ context }) => {
  const { pages, leader } = await threeTabs(context, 60_000)
  const follower = pages.find((p) => p !== leader)!
  const session = await sessionOf(follower)
  await setFrozen(follower, true)
  const written: string[] = []
  for (let i = 0; i < 5; i++) written.push(await eventuallyCommits(leader))
  await setFrozen(follower, false)
  for (const path of written) await expect.poll(() => exists(follower, path), { timeout: 30_000 }).toBe(true)
  await eventuallyCommits(follower)
  expect(await sessionOf(follower)).toBe(session)
  expect((await meshOf(follower)).members.find((m) => m.self)?.voter).toBe(true)
})

test('frozen longer than its session timeout: the session expired, the tab says lost, opens a new session and commits again', async ({ context }) => {
  const { pages, leader } = await threeTabs(context, 3_000)
  const follower = pages.find((p) => p !== leader)!
  const session = await sessionOf(follower)
  await create(follower, '/ephemeral-of-frozen', 'ephemeral')
  await setFrozen(follower, true)
  // the leader expires the silent session: its ephemeral goes
  await expect.poll(() => exists(leader, '/ephemeral-of-frozen'), { timeout: 30_000 }).toBe(false)
  await setFrozen(follower, false)
  await expect.poll(() => recorded(follower), { timeout: 30_000 }).toContain('lost')
  await eventuallyCommits(follower)
  expect(await sessionOf(follower)).not.toBe(session)
  expect((await meshOf(follower)).state).toBe('connected')
  expect(await exists(follower, '/ephemeral-of-frozen')).toBe(false)
})
