// `--only lifecycle` (issue 17): how long a tab waits from its joinMesh call
// to its first write in each moment of a mesh's life (benchLifecycle lists
// them), and where that time goes, join step by join step.
import type { Page } from '@playwright/test'
import { latencyKeys, measure, putLatency } from '../figures'
import { closeAll, openBrowser, openPage, sharedBrowser } from '../harness'
import { freshRoom, meshUrl } from '../mesh-tabs'
import { N } from '../options'
import { waitForVoters } from '../../../src/testing/playwright'

/**
 * The mesh's life (issue 17): `joinMesh` call → first write resolved, for the
 * first tab of a new room (no signaling), a new tab joining a live mesh of
 * this browser, a reloaded tab, the first tab after every tab of the browser
 * closed (the log on disk), and a new device through the signaling server.
 */
export async function benchLifecycle(): Promise<void> {
  console.log('meshkeeper, the mesh\'s life: joinMesh → first write')
  const b = await sharedBrowser()
  const steps: Record<string, Record<string, number>[]> = { freshProfile: [], firstTab: [], newTab: [], reload: [], reopen: [], newDevice: [] }
  let current = 'firstTab'
  const firstWrite = async (page: Page): Promise<number> => {
    const got = await page.evaluate(() => {
      const w = window as unknown as { firstWriteMs: number; joinSteps?: Record<string, number> }
      return { firstWriteMs: w.firstWriteMs, joinSteps: w.joinSteps }
    })
    if (got.joinSteps !== undefined) steps[current]!.push(got.joinSteps)
    return got.firstWriteMs
  }
  const url = (room: string, signal: boolean): string => `${meshUrl(room, signal)}&firstWrite=1`
  const samples: Record<string, number[]> = { firstTab: [], newTab: [], reload: [], reopen: [], newDevice: [] }
  // a browser profile's first tab ever (in a browser of its own): it also
  // makes the browser id's and the keys' databases, and its page's first
  // lock and database wait for the browser to set up the origin's storage.
  // One sample a run; the trials below are first tabs of a new room in a
  // profile that ran meshkeeper before, as in earlier runs.
  await measure('a fresh profile\'s first tab', latencyKeys('lifecycle.freshProfile'), 60_000, async () => {
    const fresh = await openBrowser()
    try {
      current = 'freshProfile'
      const page = await openPage(fresh.context, url(freshRoom('fresh'), false))
      putLatency('lifecycle.freshProfile', [await firstWrite(page)])
    } finally {
      await fresh.close()
    }
  })
  await measure(`first tab, new tab, reload, reopen (${N.lifecycle} trials)`, ['firstTab', 'newTab', 'reload', 'reopen'].flatMap((k) => latencyKeys(`lifecycle.${k}`)), 600_000, async () => {
    for (let t = 0; t < N.lifecycle; t++) {
      const room = freshRoom('life')
      try {
        current = 'firstTab'
        const first = await openPage(b.context, url(room, false))
        samples['firstTab']!.push(await firstWrite(first))
        current = 'newTab'
        const second = await openPage(b.context, url(room, false))
        samples['newTab']!.push(await firstWrite(second))
        await waitForVoters([first, second], 2, { timeoutMs: 60_000 })
        await second.reload()
        await second.waitForFunction(() => document.title === 'ready' || document.title.startsWith('error'), undefined, { timeout: 30_000 })
        current = 'reload'
        samples['reload']!.push(await firstWrite(second))
        await closeAll(b.context.pages())
        current = 'reopen'
        const again = await openPage(b.context, url(room, false))
        samples['reopen']!.push(await firstWrite(again))
      } finally {
        await closeAll(b.context.pages())
      }
    }
    for (const k of ['firstTab', 'newTab', 'reload', 'reopen']) putLatency(`lifecycle.${k}`, samples[k]!)
  })
  await measure(`a new device through signaling (${N.lifecycle} trials)`, latencyKeys('lifecycle.newDevice'), 600_000, async () => {
    for (let t = 0; t < N.lifecycle; t++) {
      const room = freshRoom('device')
      const other = await openBrowser()
      try {
        await openPage(b.context, url(room, true))
        current = 'newDevice'
        const page = await openPage(other.context, url(room, true))
        samples['newDevice']!.push(await firstWrite(page))
      } finally {
        await closeAll(b.context.pages())
        await other.close()
      }
    }
    putLatency('lifecycle.newDevice', samples['newDevice']!)
  })
  printJoinSteps(steps)
}

/** Each case's join, step by step: the median ms after the joinMesh call each step was passed (bench page: joinSteps). */
function printJoinSteps(steps: Record<string, Record<string, number>[]>): void {
  console.log('  where the time goes, joinMesh call → step (ms, median over trials; min–max):')
  for (const [kind, runs] of Object.entries(steps)) {
    if (runs.length === 0) continue
    const names = [...new Set(runs.flatMap((r) => Object.keys(r)))]
    const at = (name: string): number[] => runs.map((r) => r[name]).filter((x): x is number => x !== undefined).sort((x, y) => x - y)
    const median = (xs: number[]): number => xs[Math.floor((xs.length - 1) / 2)]!
    names.sort((x, y) => median(at(x)) - median(at(y)))
    const cells = names.map((n) => {
      const xs = at(n)
      return `${n} ${median(xs).toFixed(0)}${xs.length > 1 ? ` (${xs[0]!.toFixed(0)}–${xs[xs.length - 1]!.toFixed(0)})` : ''}`
    })
    console.log(`    ${kind}: ${cells.join(', ')}`)
    // each step's own share: per trial, its time minus the step before it (in the order above), then
    // the median over trials. Medians of the times from the call do not subtract: two runs compared
    // by them blame a step for the noise of every step before it.
    const gaps = names.slice(1).map((n, i) => {
      const prev = names[i]!
      const xs = runs
        .filter((r) => r[n] !== undefined && r[prev] !== undefined)
        .map((r) => r[n]! - r[prev]!)
        .sort((x, y) => x - y)
      if (xs.length === 0) return null
      const gap = median(xs)
      // negative where trials reach the two steps in either order
      return `${n} ${gap >= 0 ? '+' : ''}${gap.toFixed(0)}`
    })
    console.log(`      each step after the one before it (median of the per-trial gaps): ${gaps.filter((g) => g !== null).join(', ')}`)
  }
}
