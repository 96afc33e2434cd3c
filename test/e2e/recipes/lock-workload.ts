// The lock workload of test/e2e/recipes.spec.ts: every tab loops
// acquire → linearizable read of a counter node → write counter+1 fenced by
// the lease → release, and reports each step to the test process as it
// happens. Reports travel through a binding the test exposes on the page
// (page.exposeFunction survives reloads), so what a tab did before it
// crashed or reloaded is already on the Node side.
import type { Page } from '@playwright/test'

export type LockStep =
  | { kind: 'acquired'; token: number; member: string }
  | { kind: 'frozen'; token: number; member: string }
  | { kind: 'writing'; value: number }
  | { kind: 'wrote'; value: number }
  | { kind: 'write-failed'; value: number; code: string }
  | { kind: 'error'; stage: 'acquire' | 'read' | 'release'; code: string }
  | { kind: 'releasing' }
  | { kind: 'released' }
  | { kind: 'done'; wrote: number }

/** One report as the test received it: which tab, what, and when (Node's clock, ms). */
export type LockEvent = LockStep & { tab: string; at: number }

const REPORT = 'meshkeeperRecipeReport'

/** Collects every tab's reports, in the order they reached the test. */
export class LockJournal {
  readonly events: LockEvent[] = []

  /** Route `page`'s reports here under the name `tab` (once per page; it holds across reloads). */
  async attach(page: Page, tab: string): Promise<void> {
    await page.exposeFunction(REPORT, (step: LockStep) => {
      this.events.push({ ...step, tab, at: Date.now() })
    })
  }

  of<K extends LockEvent['kind']>(kind: K, tab?: string): Array<Extract<LockEvent, { kind: K }>> {
    return this.events.filter((e): e is Extract<LockEvent, { kind: K }> => e.kind === kind && (tab === undefined || e.tab === tab))
  }

  /** the last thing `tab` reported */
  last(tab: string): LockEvent | undefined {
    return this.events.findLast((e) => e.tab === tab)
  }

  /** every acquisition (frozen ones too), in the order the holders reported them */
  acquisitions(): Array<Extract<LockEvent, { kind: 'acquired' | 'frozen' }>> {
    return this.events.filter((e): e is Extract<LockEvent, { kind: 'acquired' | 'frozen' }> => e.kind === 'acquired' || e.kind === 'frozen')
  }

  /** increments a tab was told committed */
  ackedValues(): number[] {
    return this.of('wrote').map((e) => e.value)
  }

  /** writes sent whose outcome the tab never learned (it crashed or reloaded meanwhile) */
  unansweredValues(): number[] {
    const out: number[] = []
    const open = new Map<string, number>()
    for (const e of this.events) {
      if (e.kind === 'writing') open.set(e.tab, e.value)
      else if (e.kind === 'wrote' || e.kind === 'write-failed') open.delete(e.tab)
      else if (e.kind === 'acquired' || e.kind === 'frozen') {
        // a tab acquires again only after its previous loop ended: a write still open is unanswered
        const v = open.get(e.tab)
        if (v !== undefined) out.push(v)
        open.delete(e.tab)
      }
    }
    return [...out, ...open.values()]
  }

  /**
   * Mutual exclusion as the test saw it: each acquisition must come after the
   * previous holder announced its release or, for a frozen holder, after its
   * tab went (`goneAt`: when the test crashed or reloaded it). Returns the
   * acquisitions that broke it.
   */
  exclusionViolations(goneAt: Map<string, number>): LockEvent[] {
    const out: LockEvent[] = []
    let holder: LockEvent | null = null
    for (const e of this.events) {
      if (e.kind === 'releasing' && holder?.tab === e.tab) holder = null
      if (e.kind !== 'acquired' && e.kind !== 'frozen') continue
      if (holder !== null) {
        const gone = goneAt.get(holder.tab)
        const frozenAndGone = holder.kind === 'frozen' && gone !== undefined && gone < e.at
        if (!frozenAndGone) out.push(e)
      }
      holder = e
    }
    return out
  }

  /** "tab0 acquired 123" lines, for the test log when something fails */
  describe(): string {
    const first = this.events[0]?.at ?? 0
    return this.events.map((e) => `${String(e.at - first).padStart(6)} ms ${e.tab} ${JSON.stringify({ ...e, tab: undefined, at: undefined })}`).join('\n')
  }
}

/**
 * Start the loop in `page` for `iterations` successful fenced increments of
 * `counter`, contending on `lockPath`; returns at once (the loop runs in the
 * page). After `freezeNextHolder(page, how)` the loop hangs for good at its
 * next lease (then the test crashes or reloads the tab).
 */
/** Where a frozen holder hangs: right after acquiring, or once its fenced write is sent (its outcome unknown to the tab). */
export type Freeze = 'holding' | 'mid-write'

/** Make `page`'s loop hang at its next lease, as `how` says; it reports 'frozen' (and 'writing' for mid-write) first. */
export async function freezeNextHolder(page: Page, how: Freeze): Promise<void> {
  await page.evaluate((how) => void ((window as unknown as { recipeFreeze: Freeze }).recipeFreeze = how), how)
}

export async function startLockLoop(page: Page, lockPath: string, counter: string, iterations: number): Promise<void> {
  await page.evaluate(
    ([lockPath, counter, iterations, reportName]) => {
      const w = window as unknown as Record<string, unknown> & { recipeFreeze?: Freeze }
      const report = w[reportName] as (s: unknown) => Promise<void>
      const mesh = window.mesh!
      const lock = mesh.lock(lockPath)
      const codeOf = (e: unknown): string => (typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : String(e))
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))
      const run = async () => {
        let wrote = 0
        let failures = 0
        while (wrote < iterations && failures < 50) {
          let lease: Awaited<ReturnType<typeof lock.acquire>>
          try {
            lease = await lock.acquire({ timeoutMs: 60_000 })
          } catch (e) {
            failures++
            await report({ kind: 'error', stage: 'acquire', code: codeOf(e) })
            await pause(200)
            continue
          }
          const freeze = w.recipeFreeze
          await report({ kind: freeze === undefined ? 'acquired' : 'frozen', token: lease.token, member: mesh.id })
          if (freeze === 'holding') await new Promise(() => undefined)
          try {
            // a linearizable read: a local read could miss the previous holder's write (the local-read trap)
            const value = Number((await mesh.get(counter, { linearizable: true })).text()) + 1
            await report({ kind: 'writing', value })
            if (freeze === 'mid-write') {
              // the write is on its way; whether it lands is for the mesh to decide
              void mesh.set(counter, String(value), { fence: lease }).catch(() => undefined)
              await new Promise(() => undefined)
            }
            try {
              await mesh.set(counter, String(value), { fence: lease })
              wrote++
              await report({ kind: 'wrote', value })
            } catch (e) {
              failures++
              await report({ kind: 'write-failed', value, code: codeOf(e) })
            }
          } catch (e) {
            failures++
            await report({ kind: 'error', stage: 'read', code: codeOf(e) })
          }
          // reported before the release starts, so it reaches the test before any next holder's 'acquired'
          await report({ kind: 'releasing' })
          try {
            await lease.release()
            await report({ kind: 'released' })
          } catch (e) {
            await report({ kind: 'error', stage: 'release', code: codeOf(e) })
          }
        }
        await report({ kind: 'done', wrote })
      }
      void run()
    },
    [lockPath, counter, iterations, REPORT] as const,
  )
}
