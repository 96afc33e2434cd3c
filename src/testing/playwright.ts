// Playwright helpers (`meshkeeper/testing`): drive pages that expose their
// mesh as `window.mesh` (the demo does; so can any app under test). They
// poll the page and never sleep. They name no Playwright type: a page and a
// browser context are described by the few methods the helpers call, which
// Playwright's `Page` and `BrowserContext` have, so the published types need
// no @playwright/test (an optional peer dependency) and an app that does not
// use Playwright pays nothing for them.
import type { MemberInfo, Mesh } from '../shared/types'

/** What the helpers call on a page: a Playwright `Page` fits. */
export interface PlaywrightPage {
  goto(url: string): Promise<unknown>
  evaluate<R>(pageFunction: () => R | Promise<R>): Promise<R>
  waitForFunction(pageFunction: () => boolean, arg: undefined, options: { timeout?: number }): Promise<unknown>
}

/** What the helpers call on a browser context: a Playwright `BrowserContext` fits. */
export interface PlaywrightContext<P extends PlaywrightPage> {
  newPage(): Promise<P>
}

/** What a page says about its mesh at one instant. */
export interface MeshView {
  id: string
  sessionId: string
  leader: string | null
  isLeader: boolean
  term: number
  state: Mesh['state']
  members: MemberInfo[]
}

export interface WaitOptions {
  /** give up after this many ms (default 30 s) */
  timeoutMs?: number
  /** ms between polls (default 100) */
  intervalMs?: number
}

interface MeshWindow {
  mesh?: Mesh
}

/** Poll `probe` until it returns a value other than undefined; throws after the timeout with `what`. */
export async function pollFor<T>(what: string, probe: () => Promise<T | undefined>, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  let lastError: unknown = null
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      lastError = err
    }
    // whatever the probe threw, String() is the best text we have for it
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError === null ? '' : `: ${String(lastError)}`}`)
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100))
  }
}

/** Wait until the page's `window.mesh` exists. */
export async function waitForMesh(page: PlaywrightPage, opts: WaitOptions = {}): Promise<void> {
  await page.waitForFunction(() => (window as unknown as MeshWindow).mesh !== undefined, undefined, { timeout: opts.timeoutMs ?? 30_000 })
}

/** Open `n` tabs of `url` in one browser context (one browser: shared IndexedDB, Web Locks, BroadcastChannel), all at once. */
export async function openTabs<P extends PlaywrightPage>(context: PlaywrightContext<P>, url: string, n: number, opts: WaitOptions = {}): Promise<P[]> {
  const pages = await Promise.all(Array.from({ length: n }, () => context.newPage()))
  await Promise.all(pages.map((p) => p.goto(url)))
  await Promise.all(pages.map((p) => waitForMesh(p, opts)))
  return pages
}

/** The page's mesh at this instant. */
export function meshOf(page: PlaywrightPage): Promise<MeshView> {
  return page.evaluate(() => {
    const mesh = (window as unknown as MeshWindow).mesh
    if (mesh === undefined) throw new Error('window.mesh is not set')
    return { id: mesh.id, sessionId: mesh.sessionId, leader: mesh.leader, isLeader: mesh.isLeader, term: mesh.term, state: mesh.state, members: mesh.members() }
  })
}

/**
 * Wait until every page agrees on one leader that is one of them (or any
 * member, with `anyMember`) and exactly that page says it leads. Returns the
 * leader's member id and page.
 */
export async function waitForLeader<P extends PlaywrightPage>(
  pages: P[],
  opts: WaitOptions & { anyMember?: boolean } = {},
): Promise<{ leader: string; page: P | null }> {
  return pollFor(
    'one leader all pages agree on',
    async () => {
      const views = await Promise.all(pages.map(meshOf))
      const leader = views[0]?.leader ?? null
      if (leader === null || views.some((v) => v.leader !== leader)) return undefined
      const leading = views.filter((v) => v.isLeader)
      if (leading.length > 1) return undefined
      const i = views.findIndex((v) => v.id === leader)
      if (i < 0 && opts.anyMember !== true) return undefined
      if (i >= 0 && !views[i]!.isLeader) return undefined
      return { leader, page: i < 0 ? null : pages[i]! }
    },
    opts,
  )
}

/** Wait until every page sees `voters` voters and is `connected` (its session is open). */
export async function waitForVoters(pages: PlaywrightPage[], voters: number, opts: WaitOptions = {}): Promise<void> {
  await pollFor(
    `${voters} voters seen by every page`,
    async () => {
      const views = await Promise.all(pages.map(meshOf))
      return views.every((v) => v.state === 'connected' && v.members.filter((m) => m.voter).length === voters) ? true : undefined
    },
    opts,
  )
}
