// The nemesis: one fault at a time, chosen by a seeded PRNG (lib0/prng), held
// for a while, then healed, until the run's time is up. The faults:
// - crash: the renderer dies (DevTools Page.crash): no pagehide, no goodbye;
//   a new tab of the same device opens in its slot a moment later;
// - close: a graceful close (page.close: pagehide runs, the mesh hands off);
//   a new tab opens in its slot;
// - reload: the tab reloads and takes its member back;
// - freeze: Page Lifecycle freeze (lifecycle/pages.ts setFrozen: the `freeze`
//   event, then the main thread paused by DevTools' debugger, as
//   Page.setWebLifecycleState freezes nothing in this headless Chromium): no
//   task runs, its links stay open and silent; then `resume`;
// - hide: the tab says it is hidden (visibilitychange), then visible again;
// - cut: a device's links all go silent (test/e2e/devices/link-cut.ts), then
//   deliver what they held.
// The fault sequence is a function of the seed; when each lands depends on
// the browsers' timing (and half the faults go to whichever tab leads at
// that moment), so a replay is close, not exact.
import * as prng from 'lib0/prng'
import { crash, setHidden } from '../helpers/demo'
import { setFrozen } from '../lifecycle/pages'
import type { ChaosDevice, TabSlot } from './tabs'
import { openTab, setCut, sleep } from './tabs'

export type FaultKind = 'crash' | 'close' | 'reload' | 'freeze' | 'hide' | 'cut'
export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'close', 'reload', 'freeze', 'hide', 'cut']

export interface NemesisOptions {
  seed: number
  /** stop choosing new faults after this many ms */
  durationMs: number
  /** the demo URL for a tab that replaces a crashed or closed one */
  url: string
  /** the faults to choose from (default all) */
  kinds?: readonly FaultKind[]
  /** how long a fault is held, ms (default [1000, 6000]) */
  holdMs?: [number, number]
  /** the calm between faults, ms (default [500, 2500]) */
  calmMs?: [number, number]
  log?: (line: string) => void
}

export interface FaultRecord {
  at: number
  kind: FaultKind
  target: string
  heldMs: number
  /** set when the fault could not be applied or healed as planned */
  note?: string
}

export class Nemesis {
  readonly faults: FaultRecord[] = []
  private readonly gen: prng.PRNG
  private stopped = false

  constructor(
    private readonly devices: ChaosDevice[],
    private readonly opts: NemesisOptions,
  ) {
    this.gen = prng.create(opts.seed)
  }

  counts(): Record<FaultKind, number> {
    const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
    for (const f of this.faults) out[f.kind]++
    return out
  }

  stop(): void {
    this.stopped = true
  }

  /** Inject faults until the duration is over (or stop()); every fault is healed when this resolves. */
  async run(): Promise<void> {
    const t0 = Date.now()
    const kinds = this.opts.kinds ?? FAULT_KINDS
    const [holdMin, holdMax] = this.opts.holdMs ?? [1000, 6000]
    const [calmMin, calmMax] = this.opts.calmMs ?? [500, 2500]
    while (!this.stopped && Date.now() - t0 < this.opts.durationMs) {
      await sleep(prng.uint32(this.gen, calmMin, calmMax))
      if (this.stopped || Date.now() - t0 >= this.opts.durationMs) break
      const kind = prng.oneOf(this.gen, kinds as FaultKind[])
      const hold = prng.uint32(this.gen, holdMin, holdMax)
      // the target is drawn from every slot or device, so the choice depends
      // on the seed alone; one that is not up now is skipped
      // half the time the tab that leads (when one of ours does): faults there cost a failover
      const atLeader = prng.bool(this.gen)
      let device = prng.oneOf(this.gen, this.devices)
      let tab = prng.oneOf(this.gen, device.tabs)
      const leader = atLeader ? await this.leaderTab() : undefined
      if (leader !== undefined) {
        tab = leader
        device = leader.device
      }
      const record: FaultRecord = { at: Date.now() - t0, kind, target: kind === 'cut' ? `d${device.index}` : tab.name, heldMs: hold }
      if (kind !== 'cut' && tab.state !== 'up') continue
      this.faults.push(record)
      this.opts.log?.(`[nemesis ${(record.at / 1000).toFixed(1)}s] ${kind} ${record.target} for ${hold} ms`)
      try {
        await this.inject(kind, device, tab, hold)
      } catch (err) {
        record.note = String(err).split('\n')[0]
        this.opts.log?.(`[nemesis] ${kind} ${record.target}: ${record.note}`)
        // whatever happened, the slot gets a working tab again
        if (tab.state !== 'up') await this.replace(tab).catch(() => undefined)
      }
    }
  }

  private async inject(kind: FaultKind, device: ChaosDevice, tab: TabSlot, hold: number): Promise<void> {
    const page = tab.page!
    switch (kind) {
      case 'crash':
        tab.state = 'down'
        tab.page = null
        await crash(page)
        await sleep(Math.min(hold, 2000))
        return this.replace(tab)
      case 'close':
        tab.state = 'down'
        tab.page = null
        await page.close()
        await sleep(Math.min(hold, 2000))
        return this.replace(tab)
      case 'reload':
        tab.state = 'down'
        await page.reload()
        await page.waitForFunction(() => window.mesh !== undefined, undefined, { timeout: 60_000 })
        if (device.cut) await setCut(page, true)
        tab.hidden = false
        tab.state = 'up'
        return
      case 'freeze': {
        tab.state = 'frozen'
        await setFrozen(page, true)
        await sleep(hold)
        await setFrozen(page, false)
        tab.state = 'up'
        return
      }
      case 'hide':
        await setHidden(page, true)
        tab.hidden = true
        await sleep(hold)
        await setHidden(page, false)
        tab.hidden = false
        return
      case 'cut': {
        device.cut = true
        const pages = device.tabs.flatMap((t) => (t.page === null || t.state === 'frozen' ? [] : [t.page]))
        await Promise.all(pages.map((p) => setCut(p, true).catch(() => undefined)))
        await sleep(hold)
        device.cut = false
        const now = device.tabs.flatMap((t) => (t.page === null ? [] : [t.page]))
        await Promise.all(now.map((p) => setCut(p, false).catch(() => undefined)))
        return
      }
    }
  }

  /** The slot whose page says it leads, if any is up and does. */
  private async leaderTab(): Promise<TabSlot | undefined> {
    const up = this.devices.flatMap((d) => d.tabs).filter((t) => t.state === 'up' && t.page !== null)
    const leads = await Promise.all(up.map((t) => t.page!.evaluate(() => window.mesh?.isLeader === true).catch(() => false)))
    return up.find((_, i) => leads[i])
  }

  private async replace(tab: TabSlot): Promise<void> {
    if (tab.page !== null) await tab.page.close().catch(() => undefined)
    tab.page = null
    tab.state = 'down'
    await openTab(tab, this.opts.url)
  }
}
