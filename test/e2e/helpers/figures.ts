// Measurements for the figures spec (printed, never asserted: the machine is noisy).
import type { Page } from '@playwright/test'

export function percentiles(samples: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! }
}

export const fmt = (p: { n: number; p50: number; p99: number; max: number }): string =>
  `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, max ${p.max.toFixed(2)} ms (n=${p.n})`

/** ms of each of `n` sequential small creates under `parent` (created first), issued from `page` */
export function createLatencies(page: Page, parent: string, n: number): Promise<number[]> {
  return page.evaluate(
    async ([dir, count]) => {
      const out: number[] = []
      await window.mesh!.create(dir as string, '')
      for (let i = 0; i < (count as number); i++) {
        const t0 = performance.now()
        await window.mesh!.create(`${dir as string}/n${i}`, 'x')
        out.push(performance.now() - t0)
      }
      return out
    },
    [parent, n] as const,
  )
}

/** round trips of a 2-byte message over a WebRTC data channel between two peer connections of the same page */
export function webrtcLoopbackRoundTrips(page: Page, n: number): Promise<number[]> {
  return page.evaluate(async (count) => {
    const a = new RTCPeerConnection()
    const b = new RTCPeerConnection()
    a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate))
    b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate))
    const ca = a.createDataChannel('rtt', { ordered: true })
    const cb = new Promise<RTCDataChannel>((resolve) => (b.ondatachannel = (e) => resolve(e.channel)))
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription!)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription!)
    const echo = await cb
    echo.binaryType = 'arraybuffer'
    echo.onmessage = (e) => echo.send(e.data as ArrayBuffer)
    if (ca.readyState !== 'open') await new Promise((r) => (ca.onopen = r))
    if (echo.readyState !== 'open') await new Promise((r) => (echo.onopen = r))
    ca.binaryType = 'arraybuffer'
    const out: number[] = []
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      await new Promise<void>((resolve) => {
        ca.onmessage = () => resolve()
        ca.send(Uint8Array.of(0xec, i & 0xff))
      })
      out.push(performance.now() - t0)
    }
    a.close()
    b.close()
    return out
  }, n)
}

/** ms of each of `n` IndexedDB readwrite transactions (one small put, durability strict) in a scratch database */
export function indexedDbStrictCommits(page: Page, n: number): Promise<number[]> {
  return page.evaluate(async (count) => {
    const name = `figures-${Math.random().toString(36).slice(2)}`
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name, 1)
      req.onupgradeneeded = () => req.result.createObjectStore('s')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    const out: number[] = []
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('s', 'readwrite', { durability: 'strict' })
        tx.objectStore('s').put(new Uint8Array(64), i)
        tx.oncomplete = () => resolve()
        tx.onerror = () => reject(tx.error)
      })
      out.push(performance.now() - t0)
    }
    db.close()
    indexedDB.deleteDatabase(name)
    return out
  }, n)
}

/** From now on the page records (Date.now()) when it first hears of a leader other than `old`. */
export function recordNextLeader(page: Page, old: string): Promise<void> {
  return page.evaluate((o) => {
    const w = window as unknown as { nextLeaderAt?: number }
    delete w.nextLeaderAt
    const off = window.mesh!.on('leader', (e) => {
      if (e.leader !== null && e.leader !== o && w.nextLeaderAt === undefined) {
        w.nextLeaderAt = Date.now()
        off()
      }
    })
  }, old)
}

export const nextLeaderAt = (page: Page): Promise<number | undefined> => page.evaluate(() => (window as unknown as { nextLeaderAt?: number }).nextLeaderAt)
