// Issue 14, deliverable 4 (a): a device cut off from the other two says so.
// Three devices (browser contexts) meet through the test's signaling server;
// one follower device loses its network (devices/link-cut.ts: its data
// channels carry nothing either way until it is back). It must turn `suspended` and refuse
// writes with NO_QUORUM at once (whenNoQuorum 'fail', the default), keep
// reading locally, and commit again once its network is back; the other two
// keep committing throughout. Figures are printed, never asserted.
import { expect, test } from '@playwright/test'
import { waitForLeader, waitForVoters } from '../../src/testing/playwright'
import { freshRoom } from './helpers/demo'
import { commitsEverywhere, deviceUrl, errorMessages, openDevice, startSignal } from './devices/devices'
import type { Device } from './devices/devices'
import { installLinkCut } from './devices/link-cut'
import type { LinkSwitch } from './devices/link-cut'


/** a guard so a member that never says so fails the test instead of hanging it (not a timing assertion) */
const GIVE_UP_MS = 60_000

test('a device cut off from the other two gets NO_QUORUM quickly, reads locally, and commits again once it is back', async ({ browser }) => {
  const server = await startSignal()
  const url = deviceUrl(freshRoom(), server.url)
  const devices: Device[] = []
  try {
    for (let i = 0; i < 3; i++) {
      devices.push(await openDevice(browser, url, 1, installLinkCut))
      await waitForLeader(devices.flatMap((d) => d.tabs))
    }
    const tabs = devices.flatMap((d) => d.tabs)
    await waitForVoters(tabs, 3)
    await commitsEverywhere(tabs[0]!, tabs, '/before', 'committed by all three')
    const { page: leader } = await waitForLeader(tabs)
    const away = tabs.find((p) => p !== leader)!
    const rest = tabs.filter((p) => p !== away)

    // ---- the cut: measured inside the page, on its own clock ----
    const cut = await away.evaluate(async (giveUpMs) => {
      const mesh = window.mesh!
      const since = (t: number): number => Math.round(performance.now() - t)
      const settle = (p: Promise<unknown>) =>
        p.then(
          () => ({ code: 'OK', outcome: undefined as string | undefined }),
          (e: { code: string; outcome?: string }) => ({ code: e.code, outcome: e.outcome }),
        )
      const t0 = performance.now()
      ;(window as unknown as { meshLinks: LinkSwitch }).meshLinks.cut()
      // sent into the void right at the cut: handed to the leader as far as this member knows
      // it is not failed by the suspension (it may still commit): it waits, kept on window for after the restore
      const inFlight = settle(mesh.create('/in-flight', '')).then((r) => ({ ...r, after: since(t0) }))
      ;(window as unknown as { inFlight: typeof inFlight }).inFlight = inFlight
      const suspendedAfter = await new Promise<number>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`still ${mesh.state} ${giveUpMs} ms after the cut`)), giveUpMs)
        const off = mesh.on('state', (s) => {
          if (s !== 'suspended') return
          clearTimeout(guard)
          off()
          resolve(since(t0))
        })
      })
      const t1 = performance.now()
      const refused = await settle(mesh.create('/refused', ''))
      const refusedIn = since(t1)
      const local = await mesh.get('/before').then((n) => n.text())
      const settledEarly = await Promise.race([inFlight.then(() => true), Promise.resolve(false)])
      return { cutAt: t0, suspendedAfter, settledEarly, refused, refusedIn, local }
    }, GIVE_UP_MS)
    expect(cut.refused).toEqual({ code: 'NO_QUORUM', outcome: undefined })
    // the write in flight at the cut is still waiting (it may commit once the quorum is back)
    expect(cut.settledEarly).toBe(false)
    expect(cut.local).toBe('committed by all three')
    console.log(
      `[figure] a follower device cut off from the other two: suspended ${cut.suspendedAfter} ms after the cut, a new write refused NO_QUORUM in ${cut.refusedIn} ms, ` +
        `the write in flight at the cut still waiting`,
    )

    // the two others still form a quorum
    await commitsEverywhere(rest[0]!, rest, '/during', 'the majority commits')
    const cutLasted = await away.evaluate((t) => Math.round(performance.now() - t), cut.cutAt)

    // ---- the network comes back ----
    const back = await away.evaluate(async (giveUpMs) => {
      const mesh = window.mesh!
      const t0 = performance.now()
      let connectedAfter: number | null = null
      const states: string[] = []
      const off = mesh.on('state', (s) => {
        states.push(`${s}@${Math.round(performance.now() - t0)}`)
        if (s === 'connected' && connectedAfter === null) connectedAfter = Math.round(performance.now() - t0)
      })
      ;(window as unknown as { meshLinks: LinkSwitch }).meshLinks.restore()
      const refusals: string[] = []
      for (;;) {
        try {
          await mesh.create('/back', 'committed after the cut')
          break
        } catch (e) {
          // NO_QUORUM until it hears the leader; SESSION_EXPIRED when the cut
          // outlived the session timeout (the leader expired this tab's session)
          const code = (e as { code?: string }).code ?? String(e)
          if ((code !== 'NO_QUORUM' && code !== 'SESSION_EXPIRED') || performance.now() - t0 > giveUpMs) throw e
          refusals.push(`${code}@${Math.round(performance.now() - t0)} ${(e as Error).message}`)
          await new Promise((r) => setTimeout(r, 50))
        }
      }
      off()
      return { committedAfter: Math.round(performance.now() - t0), connectedAfter, refusals: refusals.join(', ') || 'none', state: mesh.state, states: states.join(' ') }
    }, GIVE_UP_MS)
    expect(back.state).toBe('connected')
    // the write in flight at the cut committed once the quorum was back (or, had the cut outlived its deadline, failed with its outcome unknown)
    const inFlight = await away.evaluate(() => (window as unknown as { inFlight: Promise<{ code: string; outcome?: string; after: number }> }).inFlight)
    expect(inFlight.code === 'OK' || inFlight.outcome === 'unknown').toBe(true)
    console.log(`[figure] the write in flight at the cut: ${inFlight.code} ${inFlight.after} ms after the cut`)
    console.log(
      `[figure] its network back (what its links held delivered) after ${cutLasted} ms away: connected ${back.connectedAfter ?? 'n/a'} ms after the restore (states: ${back.states}), a write committed ${back.committedAfter} ms after it (refusals before, retried every 50 ms: ${back.refusals})`,
    )
    // held links delivered in order: nobody took the silence, or the backlog, for a hostile peer
    expect((await Promise.all(tabs.map(errorMessages))).flat()).toEqual([])
    await commitsEverywhere(away, tabs, '/back-everywhere', 'all three again')
    await expect.poll(() => away.evaluate(() => window.mesh!.get('/during', { linearizable: true }).then((n) => n.text())), { timeout: 30_000 }).toBe('the majority commits')
  } finally {
    await Promise.all(devices.map((d) => d.context.close().catch(() => undefined)))
    await server.close()
  }
})
