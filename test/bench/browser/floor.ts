// The browser's floor: what the platform itself costs, with none of our code
// in the way. Two tabs of one browser context load this page; parts/floor.ts
// calls these functions through `window.floor` and summarizes the raw samples.
//   - BroadcastChannel round trip (one tab echoes)
//   - WebRTC data-channel round trip (raw RTCPeerConnection, signaled over a
//     BroadcastChannel, one tab echoes)
//   - navigator.locks acquire+release in one tab, and hand-off between tabs
//   - an IndexedDB transaction of one small put with strict and relaxed durability
// Every function returns raw samples in ms; nothing here judges them.
import { wallNow } from './clock'
import * as peers from './peers'

// ---------- a fresh page's first write (?cold) ----------
// What the least a tab's first durable, exclusive write costs in a page that
// has just loaded, timed from this module's start as the mesh page times
// joinMesh: its first Web Lock and its first IndexedDB open side by side
// (each waits for the browser to connect the page to its storage), then one
// strict transaction of one small put in a database created by that open.
// The lifecycle figures (joinMesh → first write of a new tab, a reload, a
// reopen) are compared with it.
const moduleStartedAt = performance.now()
const cold = new URLSearchParams(location.search).has('cold') ? coldWrite() : null

async function coldWrite(): Promise<{ lock: number; open: number; write: number }> {
  const since = (): number => performance.now() - moduleStartedAt
  const name = `floor-cold-${Date.now()}-${Math.random().toString(36).slice(2)}`
  const locked = new Promise<number>((resolve, reject) => {
    navigator.locks.request(name, () => resolve(since())).catch(reject)
  })
  const opening = openDb(name).then((db) => ({ db, at: since() }))
  const [lock, { db, at: open }] = await Promise.all([locked, opening])
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('kv', 'readwrite', { durability: 'strict' })
    tx.objectStore('kv').put(new Uint8Array(100).fill(7), 0)
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
    tx.onabort = () => reject(tx.error)
  })
  const write = since()
  db.close()
  indexedDB.deleteDatabase(name)
  return { lock, open, write }
}

const ping = new Uint8Array(16)

// ---------- BroadcastChannel ----------

let echoChannel: BroadcastChannel | null = null

/** Echo every message on `name` back to its sender (the other tab). */
function bcEcho(name: string): void {
  echoChannel?.close()
  const ch = new BroadcastChannel(name)
  ch.onmessage = (e) => ch.postMessage({ pong: (e.data as { ping: number }).ping })
  echoChannel = ch
}

/** Round trips of a small message to the echoing tab. */
async function bcRoundTrips(name: string, n: number): Promise<number[]> {
  const ch = new BroadcastChannel(name)
  const samples: number[] = []
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await new Promise<void>((resolve) => {
        ch.onmessage = (e) => {
          if ((e.data as { pong?: number }).pong === i) resolve()
        }
        ch.postMessage({ ping: i })
      })
      samples.push(performance.now() - t0)
    }
  } finally {
    ch.close()
  }
  return samples
}

// ---------- WebRTC data channel ----------

type Signal = { to: 'offerer' | 'answerer'; sdp?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit | null }

let answerer: RTCPeerConnection | null = null

/** Answer the offer that arrives on `name` and echo whatever the data channel carries. */
function rtcEcho(name: string): void {
  const sig = new BroadcastChannel(name)
  sig.onmessage = async (e) => {
    const m = e.data as Signal
    if (m.to !== 'answerer') return
    if (m.sdp !== undefined) {
      answerer?.close()
      const pc = new RTCPeerConnection()
      answerer = pc
      pc.onicecandidate = (ev) => sig.postMessage({ to: 'offerer', candidate: ev.candidate?.toJSON() ?? null } satisfies Signal)
      pc.ondatachannel = (ev) => {
        const dc = ev.channel
        dc.binaryType = 'arraybuffer'
        dc.onmessage = (msg) => dc.send(msg.data as ArrayBuffer)
      }
      await pc.setRemoteDescription(m.sdp)
      await pc.setLocalDescription(await pc.createAnswer())
      sig.postMessage({ to: 'offerer', sdp: pc.localDescription!.toJSON() } satisfies Signal)
    } else if (m.candidate != null && answerer !== null) {
      await answerer.addIceCandidate(m.candidate)
    }
  }
}

/** Open a data channel to the echoing tab, then time `n` round trips of 16 bytes. */
async function rtcRoundTrips(name: string, n: number): Promise<{ connectMs: number; samples: number[] }> {
  const sig = new BroadcastChannel(name)
  const pc = new RTCPeerConnection()
  try {
    const t0 = performance.now()
    const dc = pc.createDataChannel('bench', { ordered: true })
    dc.binaryType = 'arraybuffer'
    pc.onicecandidate = (ev) => sig.postMessage({ to: 'answerer', candidate: ev.candidate?.toJSON() ?? null } satisfies Signal)
    sig.onmessage = async (e) => {
      const m = e.data as Signal
      if (m.to !== 'offerer') return
      if (m.sdp !== undefined) await pc.setRemoteDescription(m.sdp)
      else if (m.candidate != null) await pc.addIceCandidate(m.candidate)
    }
    const open = new Promise<void>((resolve) => (dc.onopen = () => resolve()))
    await pc.setLocalDescription(await pc.createOffer())
    sig.postMessage({ to: 'answerer', sdp: pc.localDescription!.toJSON() } satisfies Signal)
    await open
    const connectMs = performance.now() - t0
    const samples: number[] = []
    for (let i = 0; i < n; i++) {
      const s = performance.now()
      await new Promise<void>((resolve) => {
        dc.onmessage = () => resolve()
        dc.send(ping)
      })
      samples.push(performance.now() - s)
    }
    return { connectMs, samples }
  } finally {
    pc.close()
    sig.close()
  }
}

// ---------- navigator.locks ----------

/** Uncontended acquire+release of one lock, `n` times in a row. */
async function lockAcquireRelease(name: string, n: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await navigator.locks.request(name, () => undefined)
    samples.push(performance.now() - t0)
  }
  return samples
}

/**
 * Take the lock `n` times, releasing it at once each time, while another tab
 * does the same: the two alternate, so most grants are hand-offs from the
 * other tab. Returns wall-clock grant and release times; parts/floor.ts
 * merges both tabs' lists and keeps the gaps where the holder changed.
 */
async function lockTurns(name: string, n: number, startAt: number): Promise<Array<{ granted: number; released: number }>> {
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - wallNow())))
  const turns: Array<{ granted: number; released: number }> = []
  for (let i = 0; i < n; i++) {
    await navigator.locks.request(name, () => {
      const granted = wallNow()
      turns.push({ granted, released: wallNow() })
    })
  }
  return turns
}

// ---------- IndexedDB ----------

function openDb(name: string, stores: readonly string[] = ['kv']): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1)
    req.onupgradeneeded = () => {
      for (const store of stores) req.result.createObjectStore(store)
    }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/**
 * `n` transactions in a row, each one put of 100 bytes, timed from
 * transaction() to `complete`. Returns the samples and the sequential
 * commit rate (commits per second over the whole loop).
 */
async function idbCommits(durability: 'strict' | 'relaxed', n: number): Promise<{ samples: number[]; perSecond: number }> {
  const name = `floor-idb-${durability}-${Date.now()}`
  const db = await openDb(name)
  const value = new Uint8Array(100).fill(7)
  const samples: number[] = []
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('kv', 'readwrite', { durability })
      tx.objectStore('kv').put(value, i)
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error)
    })
    samples.push(performance.now() - t0)
  }
  const perSecond = (n / (performance.now() - started)) * 1000
  db.close()
  indexedDB.deleteDatabase(name)
  return { samples, perSecond }
}

/** One transaction of `idbTogether`: its round, which database, and the
 *  wall-clock instants of transaction() and of `complete`. */
export interface TogetherTx {
  round: number
  db: number
  created: number
  ended: number
}

/** A variant of `idbTogether`'s transaction: a second put in a second store,
 *  the shape of a follower's save (an entry and the hard state). */
export interface TogetherShape {
  twoStores?: boolean
}

/**
 * Rounds of strict readwrite transactions of one 100-byte put, one in each of
 * `dbs` databases of this tab (each its own, created here, as a member slot
 * is), issued together at `startAt + round * periodMs` on the wall clock.
 * Other tabs run the same rounds from the same `startAt` (parts/floor.ts), so the
 * tabs' transactions start within a fraction of a millisecond of each other,
 * as a leader's and its followers' saves of one entry do. Each transaction is
 * committed explicitly (`commit()`), as our saves are. A round waits for its
 * own transactions before the next; `created` is when this tab really issued
 * it, so parts/floor.ts sees any skew.
 */
async function idbTogether(dbs: number, n: number, startAt: number, periodMs: number, shape: TogetherShape = {}): Promise<TogetherTx[]> {
  const tag = `${Date.now()}-${Math.random().toString(36).slice(2)}`
  const names = Array.from({ length: dbs }, (_, k) => `floor-together-${tag}-${k}`)
  const stores = shape.twoStores === true ? ['kv', 'hs'] : ['kv']
  const opened = await Promise.all(names.map((name) => openDb(name, stores)))
  const value = new Uint8Array(100).fill(7)
  const txs: TogetherTx[] = []
  try {
    for (let round = 0; round < n; round++) {
      const at = startAt + round * periodMs
      // a timer to within a millisecond, then a short spin to the instant
      const early = at - wallNow() - 1
      if (early > 0) await new Promise((r) => setTimeout(r, early))
      while (wallNow() < at) {
        // spin: a timer is not that precise
      }
      await Promise.all(
        opened.map(
          (db, k) =>
            new Promise<void>((resolve, reject) => {
              const rec: TogetherTx = { round, db: k, created: wallNow(), ended: 0 }
              const tx = db.transaction(stores, 'readwrite', { durability: 'strict' })
              tx.objectStore('kv').put(value, round)
              if (shape.twoStores === true) tx.objectStore('hs').put({ term: 1, vote: 'x', commit: round }, 0)
              tx.commit()
              tx.oncomplete = () => {
                rec.ended = wallNow()
                txs.push(rec)
                resolve()
              }
              tx.onerror = () => reject(tx.error)
              tx.onabort = () => reject(tx.error)
            }),
        ),
      )
    }
  } finally {
    for (const db of opened) db.close()
    for (const name of names) indexedDB.deleteDatabase(name)
  }
  return txs
}

/** One strict commit of `idbLoop`: wall-clock instants of transaction() and `complete`. */
export interface LoopTx {
  created: number
  ended: number
}

let loop: { stop: boolean; txs: LoopTx[]; done: Promise<void>; name: string } | null = null

/**
 * Strict one-put commits back to back in a database of this tab's own until
 * `idbLoopStop`: what a member's saves meet while another tab closes
 * (parts/floor.ts, floor.idb.closeStall). With `hold`, the database is only opened
 * and kept (the closing tab's, as its member's slot is).
 */
async function idbLoopStart(hold = false): Promise<void> {
  const name = `floor-loop-${Date.now()}-${Math.random().toString(36).slice(2)}`
  const db = await openDb(name)
  const state = { stop: hold, txs: [] as LoopTx[], done: Promise.resolve(), name }
  const value = new Uint8Array(100).fill(7)
  state.done = (async () => {
    for (let i = 0; !state.stop; i++) {
      const rec = { created: wallNow(), ended: 0 }
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('kv', 'readwrite', { durability: 'strict' })
        tx.objectStore('kv').put(value, i)
        tx.commit()
        tx.oncomplete = () => resolve()
        tx.onerror = () => reject(tx.error)
        tx.onabort = () => reject(tx.error)
      })
      rec.ended = wallNow()
      state.txs.push(rec)
    }
  })()
  loop = state
}

async function idbLoopStop(): Promise<LoopTx[]> {
  if (loop === null) return []
  const { txs, done, name } = loop
  loop.stop = true
  await done
  loop = null
  indexedDB.deleteDatabase(name)
  return txs
}

Object.assign(window, {
  floor: { wallNow, coldWrite: () => cold, bcEcho, bcRoundTrips, rtcEcho, rtcRoundTrips, lockAcquireRelease, lockTurns, idbCommits, idbTogether, idbLoopStart, idbLoopStop },
  peers,
})
document.title = 'ready'
