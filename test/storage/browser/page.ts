// Runs in Chromium (served by Vite, driven by test/storage/bench-browser.ts):
// real IndexedDB under the IndexedDbStorageProvider. Exposes functions on
// window for the driver to call across page reloads.
import { IndexedDbStorageProvider } from '../../../src/storage/indexeddb'
import type { Entry } from '../../../src/raft/types'

const payload = new Uint8Array(100).fill(42)

async function saveSome(room: string, count: number): Promise<void> {
  const s = await new IndexedDbStorageProvider({ durability: 'strict' }).open(room, 'a')
  await s.save({ meta: { member: 'a', clusterId: 'c', createdAt: Date.now() } })
  for (let i = 1; i <= count; i++) {
    await s.save({ hardState: { term: 1, vote: 'a', commit: i }, entries: [{ term: 1, index: i, type: 'normal', data: payload }] })
  }
  await s.close()
}

async function loadSummary(room: string): Promise<{ entries: number; commit: number; members: string[] } | null> {
  const provider = new IndexedDbStorageProvider()
  const s = await provider.open(room, 'a')
  const rec = await s.load()
  await s.close()
  if (rec === null) return null
  return { entries: rec.durable.entries.length, commit: rec.durable.hardState.commit, members: (await provider.listMembers(room)).map((m) => m.member) }
}

async function bench(durability: 'strict' | 'relaxed', saves: number, perSave: number): Promise<{ p50: number; p99: number; max: number; perSecond: number }> {
  const s = await new IndexedDbStorageProvider({ durability }).open(`bench-${durability}-${Date.now()}`, 'a')
  await s.save({ meta: { member: 'a', clusterId: 'c', createdAt: 0 } })
  const latencies: number[] = []
  let index = 1
  const started = performance.now()
  for (let i = 0; i < saves; i++) {
    const entries: Entry[] = []
    for (let k = 0; k < perSave; k++) entries.push({ term: 1, index: index++, type: 'normal', data: payload })
    const t0 = performance.now()
    await s.save({ hardState: { term: 1, vote: 'a', commit: index - 1 }, entries })
    latencies.push(performance.now() - t0)
  }
  const total = performance.now() - started
  await s.destroy()
  latencies.sort((a, b) => a - b)
  const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!
  return { p50: at(50), p99: at(99), max: latencies.at(-1)!, perSecond: (saves / total) * 1000 }
}


/** Save a small batch, then one too big for the quota the driver set; report
 *  what the failing save said and what a fresh open finds on disk. */
async function quotaCheck(room: string, bigBytes: number): Promise<{ reason: string | null; causeName: string | null; heard: string | null; afterReopen: { entries: number; term: number } | null }> {
  const s = await new IndexedDbStorageProvider().open(room, 'a')
  let heard: string | null = null
  s.onFailure?.((e) => (heard = e.reason))
  await s.save({ meta: { member: 'a', clusterId: 'c', createdAt: 0 }, hardState: { term: 1, vote: 'a', commit: 0 }, entries: [{ term: 1, index: 1, type: 'normal', data: payload }] })
  // random bytes: compression must not fit them under the quota
  const big = new Uint8Array(bigBytes)
  for (let o = 0; o < big.length; o += 65536) crypto.getRandomValues(big.subarray(o, Math.min(big.length, o + 65536)))
  let reason: string | null = null
  let causeName: string | null = null
  try {
    await s.save({ hardState: { term: 2, vote: 'b', commit: 1 }, entries: [{ term: 2, index: 2, type: 'normal', data: big }] })
  } catch (err) {
    reason = (err as { reason?: string }).reason ?? null
    causeName = ((err as { cause?: { name?: string } }).cause?.name) ?? null
  }
  await s.close()
  const again = await new IndexedDbStorageProvider().open(room, 'a')
  const rec = await again.load()
  await again.close()
  return { reason, causeName, heard, afterReopen: rec === null ? null : { entries: rec.durable.entries.length, term: rec.durable.hardState.term } }
}

/** Open a storage and keep it, so the driver can pull the disk out from
 *  under it; `afterLoss` then says what the storage heard and does. */
let kept: { storage: Awaited<ReturnType<IndexedDbStorageProvider['open']>>; heard: Promise<string> } | null = null

async function keepOpen(room: string): Promise<void> {
  const storage = await new IndexedDbStorageProvider().open(room, 'a')
  await storage.save({ meta: { member: 'a', clusterId: 'c', createdAt: 0 }, entries: [{ term: 1, index: 1, type: 'normal', data: payload }] })
  const heard = new Promise<string>((resolve) => storage.onFailure?.((e) => resolve(e.reason)))
  kept = { storage, heard }
}

async function afterLoss(): Promise<{ heard: string; nextSave: string | null }> {
  const { storage, heard } = kept!
  const reason = await heard
  const nextSave = await storage.save({ entries: [{ term: 1, index: 2, type: 'normal', data: payload }] }).then(
    () => null,
    (e: { reason?: string }) => e.reason ?? 'no reason',
  )
  return { heard: reason, nextSave }
}

// ---- two tabs of one room: a page that runs no more tasks must not hold the other's saves back ----

const wallNow = (): number => performance.timeOrigin + performance.now()
let slot: Awaited<ReturnType<IndexedDbStorageProvider['open']>> | null = null

/** Open member `member`'s slot of `room` (and write its meta) before the other tab blocks the stores. */
async function openSlot(room: string, member: string): Promise<void> {
  slot = await new IndexedDbStorageProvider({ durability: 'strict' }).open(room, member)
  await slot.save({ meta: { member, clusterId: 'c', createdAt: 0 } })
}

/**
 * Start a save, let its transaction be created and its requests queued (the
 * save queue hands it over in microtasks), then run no task for `blockMs`:
 * no request's result reaches this page, as in a page being torn down.
 */
async function saveThenBlock(blockMs: number): Promise<{ queuedAt: number; blockedUntil: number }> {
  void slot!.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: [{ term: 1, index: 1, type: 'normal', data: payload }] })
  for (let i = 0; i < 20; i++) await Promise.resolve()
  const queuedAt = wallNow()
  while (wallNow() < queuedAt + blockMs) {
    // busy: this page's event loop is stopped
  }
  return { queuedAt, blockedUntil: wallNow() }
}

/** After `delayMs`, save; when it started and when it was durable. */
async function saveAfter(delayMs: number): Promise<{ startedAt: number; doneAt: number }> {
  await new Promise((r) => setTimeout(r, delayMs))
  const startedAt = wallNow()
  await slot!.save({ hardState: { term: 1, vote: null, commit: 0 }, entries: [{ term: 1, index: 1, type: 'normal', data: payload }] })
  return { startedAt, doneAt: wallNow() }
}

Object.assign(window, { storageTest: { saveSome, loadSummary, bench, quotaCheck, keepOpen, afterLoss, openSlot, saveThenBlock, saveAfter } })
document.title = 'ready'
