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

  it('hears the browser closing the connection (site data cleared) through onFailure; later saves reject', async () => {
    await browser.call((api) => api.keepOpen('cleared'))
    await browser.clearIndexedDb()
    expect(await browser.call((api) => api.afterLoss())).toEqual({ heard: 'CONNECTION_LOST', nextSave: 'CONNECTION_LOST' })
  })
})
