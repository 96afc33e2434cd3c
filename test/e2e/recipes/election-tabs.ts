// Election candidates in demo tabs (test/e2e/recipes.spec.ts): each tab
// campaigns once with a value, keeps what its observe() callback last heard,
// and notes when (if ever) its campaign won.
import type { Page } from '@playwright/test'

export interface CandidateView {
  /** this tab's member id */
  id: string
  /** the value this tab campaigned with */
  value: string
  /** Date.now() when this tab's campaign resolved, null while it waits */
  electedAt: number | null
  /** the token of the lease the campaign won */
  token: number | null
  /** what election.leader() says now */
  leader: { id: string; value?: string } | null
  /** the last leader observe() reported (undefined: nothing yet) */
  observed: { id: string; value?: string } | null | undefined
}

type CandidateWindow = { candidate?: { value: string; electedAt: number | null; token: number | null; observed: CandidateView['observed'] } }

/** Campaign on `path` with `value` from `page`'s mesh and observe the election; returns at once. */
export async function campaign(page: Page, path: string, value: string): Promise<void> {
  await page.evaluate(
    ([path, value]) => {
      const w = window as unknown as CandidateWindow
      const state: NonNullable<CandidateWindow['candidate']> = { value, electedAt: null, token: null, observed: undefined }
      w.candidate = state
      const election = window.mesh!.election(path)
      election.observe((leader) => (state.observed = leader))
      void election.campaign({ value }).then((lease) => {
        state.electedAt = Date.now()
        state.token = lease.token
      })
    },
    [path, value] as const,
  )
}

/** The candidate in `page`, as it stands now. */
export function candidateOf(page: Page, path: string): Promise<CandidateView> {
  return page.evaluate(async (path) => {
    const c = (window as unknown as CandidateWindow).candidate!
    const leader = await window.mesh!.election(path).leader()
    return { id: window.mesh!.id, value: c.value, electedAt: c.electedAt, token: c.token, leader, observed: c.observed }
  }, path)
}

/**
 * The state of the election when it has settled: exactly one candidate's
 * campaign has resolved, and every tab's leader() and last observe() name
 * that candidate with its value. Undefined until then (for expect.poll).
 */
export async function settledLeader(pages: Page[], path: string): Promise<{ id: string; value: string; page: Page; token: number; electedAt: number } | undefined> {
  const views = await Promise.all(pages.map((p) => candidateOf(p, path)))
  const elected = views.flatMap((v, i) => (v.electedAt === null ? [] : [{ v, page: pages[i]! }]))
  if (elected.length !== 1) return undefined
  const { v, page } = elected[0]!
  const expected = JSON.stringify({ id: v.id, value: v.value })
  if (views.some((x) => JSON.stringify(x.leader) !== expected || JSON.stringify(x.observed) !== expected)) return undefined
  return { id: v.id, value: v.value, page, token: v.token!, electedAt: v.electedAt! }
}
