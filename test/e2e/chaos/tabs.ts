// The tabs of a chaos run: devices (browser contexts: an IndexedDB, Web Locks
// and BroadcastChannel each) with a fixed number of tab slots. A slot's page
// changes when the nemesis crashes or closes it and opens another; the
// clients read the slot's page before each call and wait while it is down
// or frozen.
import type { Browser, BrowserContext, Page } from '@playwright/test'
import { waitForMesh } from '../../../src/testing/playwright'
import { logPageErrors } from '../helpers/demo'
import { installLinkCut } from '../devices/link-cut'

export interface TabSlot {
  /** d<device>t<slot> */
  name: string
  device: ChaosDevice
  page: Page | null
  /** up: clients call it; down: crashed, closed or reloading; frozen: no new calls */
  state: 'up' | 'down' | 'frozen'
  hidden: boolean
}

export interface ChaosDevice {
  index: number
  context: BrowserContext
  tabs: TabSlot[]
  /** its links are cut (every data channel of its pages holds its traffic) */
  cut: boolean
}

/** Open a device with `n` tabs of `url`, the link-cut switch installed in every page. */
export async function openChaosDevice(browser: Browser, url: string, index: number, n: number, logErrors: boolean): Promise<ChaosDevice> {
  const context = await browser.newContext()
  if (logErrors) logPageErrors(context)
  await installLinkCut(context)
  const device: ChaosDevice = { index, context, tabs: [], cut: false }
  for (let i = 0; i < n; i++) device.tabs.push({ name: `d${index}t${i}`, device, page: null, state: 'down', hidden: false })
  await Promise.all(device.tabs.map((t) => openTab(t, url)))
  return device
}

/** Open a fresh page in the slot's device and wait for its mesh (re-cutting it if its device is cut). */
export async function openTab(tab: TabSlot, url: string): Promise<void> {
  const page = await tab.device.context.newPage()
  await page.goto(url)
  await waitForMesh(page, { timeoutMs: 60_000 })
  if (tab.device.cut) await setCut(page, true)
  tab.page = page
  tab.hidden = false
  tab.state = 'up'
}

export const setCut = (page: Page, cut: boolean): Promise<void> =>
  page.evaluate((c) => {
    const links = (window as unknown as { meshLinks: { cut(): void; restore(): void } }).meshLinks
    if (c) links.cut()
    else links.restore()
  }, cut)

/** Every page that is open now. */
export const livePages = (devices: ChaosDevice[]): Page[] => devices.flatMap((d) => d.tabs.flatMap((t) => (t.page === null ? [] : [t.page])))

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
