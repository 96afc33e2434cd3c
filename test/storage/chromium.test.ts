// The IndexedDB storage in a real browser (Debian's Chromium): what survives a
// page reload, and a real QuotaExceededError (quota lowered through the
// DevTools protocol) failing a save with nothing half-written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumAvailable, openStoragePage, type StoragePage } from './browser/driver'

describe.skipIf(!chromiumAvailable)('IndexedDbStorageProvider in Chromium', () => {
  let browser: StoragePage

  beforeAll(async () => {
    browser = await openStoragePage()
    // before the page's first IndexedDB use: Chromium applied the override
    // only to storage opened after it in our runs
    await browser.setQuota(2 * 1024 * 1024)
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('keeps every save across a page reload', async () => {
    await browser.call((api) => api.saveSome('reload', 25))
    await browser.reload()
    expect(await browser.call((api) => api.loadSummary('reload'))).toEqual({ entries: 25, commit: 25, members: ['a'] })
  })

  it('rejects a save over the quota with STORAGE QUOTA_EXCEEDED, tells onFailure, and writes nothing of it', async () => {
    const result = await browser.call((api, big) => api.quotaCheck('quota', big as number), 8 * 1024 * 1024)
    expect(result).toEqual({
      reason: 'QUOTA_EXCEEDED',
      causeName: 'QuotaExceededError',
      heard: 'QUOTA_EXCEEDED',
      afterReopen: { entries: 1, term: 1 },
    })
  })

  it("a tab that runs no more tasks once its save is queued (a page being closed) does not hold back another tab's save in the same room", async () => {
    // every tab of a room writes one database, and a readwrite transaction
    // waits for any earlier one over the same stores; a transaction that
    // commits only once its page has run its requests' callbacks held the
    // others back until that page ran again, or was torn down
    const other = await browser.secondTab()
    await other((api) => api.openSlot('stalled', 'b'))
    await browser.call((api) => api.openSlot('stalled', 'a'))
    const [blocked, saved] = await Promise.all([
      browser.call((api) => api.saveThenBlock(4000)),
      other((api) => api.saveAfter(1000)),
    ])
    // the other tab's save began after ours was queued, and was durable while our page still ran nothing
    expect(saved.startedAt).toBeGreaterThan(blocked.queuedAt)
    expect(saved.doneAt).toBeLessThan(blocked.blockedUntil)
  })

  it('hears the browser closing the connection (site data cleared) through onFailure; later saves reject', async () => {
    await browser.call((api) => api.keepOpen('cleared'))
    await browser.clearIndexedDb()
    expect(await browser.call((api) => api.afterLoss())).toEqual({ heard: 'CONNECTION_LOST', nextSave: 'CONNECTION_LOST' })
  })
})
