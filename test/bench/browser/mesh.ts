// One meshkeeper tab for the benchmark: joins the room of ?room= (through
// the signaling server of ?signal= when given, else only this browser's tabs
// meet), exposes the mesh as `window.mesh` (so src/testing/playwright's
// helpers work) and the measurement loops as `window.meshBench`. The loops
// run inside the page so no Playwright round trip lands in a figure; they
// return raw samples in ms (or wall-clock times, see clock.ts) and judge nothing.
import { joinMesh } from '../../../src/index'
import type { Mesh, MeshError, WatchEvent } from '../../../src/index'
import { wallNow } from './clock'
import { describeIdbTx, idbLog, installIdbProbe, installJoinRequestProbe, onIdbTxEnded } from './idb-probe'
import { recordFlight } from './flight'
import type { Flight, FlightRecord } from './flight'

declare global {
  interface Window {
    mesh?: Mesh
  }
}

const params = new URLSearchParams(location.search)
const payload = 'x'.repeat(32)
/** in every path this tab writes, so tabs (and trials on one mesh) never collide */
const tag = Math.random().toString(36).slice(2, 8)

const mesh = (): Mesh => {
  if (window.mesh === undefined) throw new Error('the mesh has not joined')
  return window.mesh
}
const codeOf = (err: unknown): string => (err as Partial<MeshError>).code ?? (err instanceof Error ? err.message : String(err))

/** Sequential creates of small persistent nodes `${prefix}-i`, each timed from call to commit. */
async function commits(prefix: string, n: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await mesh().create(`${prefix}-${tag}-${i}`, payload)
    samples.push(performance.now() - t0)
  }
  return samples
}

/** `writers` concurrent create loops for `durationMs`; committed creates per second. */
async function throughput(prefix: string, writers: number, durationMs: number): Promise<{ committed: number; perSecond: number; errors: Record<string, number> }> {
  const errors: Record<string, number> = {}
  let committed = 0
  const started = performance.now()
  const deadline = started + durationMs
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        try {
          await mesh().create(`${prefix}-${tag}-${w}-${i}`, payload)
          committed++
        } catch (err) {
          errors[codeOf(err)] = (errors[codeOf(err)] ?? 0) + 1
        }
      }
    }),
  )
  const elapsed = performance.now() - started
  return { committed, perSecond: (committed / elapsed) * 1000, errors }
}

/** Linearizable reads (ReadIndex through the leader) of a small node. */
async function linearizableReads(n: number): Promise<number[]> {
  const path = await mesh().create(`/read-${tag}`, payload)
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await mesh().get(path, { linearizable: true })
    samples.push(performance.now() - t0)
  }
  return samples
}

// ---------- watches: one tab writes, another is called back ----------

const heard = new Map<string, number>()
let unwatch: (() => void) | null = null

/** Watch everything under `path` and note the wall-clock time each event path is heard. */
function listen(path: string): void {
  unwatch?.()
  heard.clear()
  unwatch = mesh().watch(path, (e: WatchEvent) => {
    if (!heard.has(e.path)) heard.set(e.path, wallNow())
  }, { recursive: true })
}

function heardAt(): Record<string, number> {
  return Object.fromEntries(heard)
}

/** Creates under `parent`, with wall-clock call and commit times per path, a pause between them. */
async function timedCreates(parent: string, n: number, pauseMs: number): Promise<Array<{ path: string; called: number; committed: number }>> {
  const out: Array<{ path: string; called: number; committed: number }> = []
  for (let i = 0; i < n; i++) {
    const called = wallNow()
    const path = await mesh().create(`${parent}/${tag}-${i}`, payload)
    out.push({ path, called, committed: wallNow() })
    await new Promise((r) => setTimeout(r, pauseMs))
  }
  return out
}

// ---------- failover: a write loop in a survivor ----------

interface WriteRecord {
  started: number
  committed: number
}
let loop: { stop: boolean; records: WriteRecord[]; errors: Record<string, number>; done: Promise<void>[] } | null = null

/** Start `loops` sequential create loops; each notes wall-clock start and commit of every write that commits. */
function startWrites(prefix: string, loops: number): void {
  const state = { stop: false, records: [] as WriteRecord[], errors: {} as Record<string, number>, done: [] as Promise<void>[] }
  for (let l = 0; l < loops; l++) {
    state.done.push((async () => {
      for (let i = 0; !state.stop; i++) {
        const started = wallNow()
        try {
          await mesh().create(`${prefix}-${tag}-${l}-${i}`, payload)
          state.records.push({ started, committed: wallNow() })
        } catch (err) {
          state.errors[codeOf(err)] = (state.errors[codeOf(err)] ?? 0) + 1
          await new Promise((r) => setTimeout(r, 2))
        }
      }
    })())
  }
  loop = state
}

/** The first commit of a write started at or after `since` (wall clock), or null while there is none. */
function firstCommitSince(since: number): number | null {
  let first: number | null = null
  for (const r of loop?.records ?? []) if (r.started >= since && (first === null || r.committed < first)) first = r.committed
  return first
}

function stopWrites(): Record<string, number> {
  if (loop === null) return {}
  loop.stop = true
  return loop.errors
}

// ---------- locks ----------

/** Uncontended acquire+release of the mesh lock at `path`, `n` times. */
async function lockAcquireRelease(path: string, n: number): Promise<number[]> {
  const lock = mesh().lock(path)
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const lease = await lock.acquire()
    await lease.release()
    samples.push(performance.now() - t0)
  }
  return samples
}

/** Take the mesh lock `n` times while another tab does too (as floor.ts lockTurns). */
async function lockTurns(path: string, n: number, startAt: number): Promise<Array<{ granted: number; released: number }>> {
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - wallNow())))
  const lock = mesh().lock(path)
  const turns: Array<{ granted: number; released: number }> = []
  for (let i = 0; i < n; i++) {
    const lease = await lock.acquire()
    const granted = wallNow()
    const releasing = wallNow()
    await lease.release()
    turns.push({ granted, released: releasing })
  }
  return turns
}

// ---------- a big tree, and reopening it ----------

/** Create `count` children of `parent` in multis of `perMulti`. */
async function fill(parent: string, count: number, perMulti: number): Promise<void> {
  await mesh().create(parent, '')
  for (let i = 0; i < count; i += perMulti) {
    const ops = []
    for (let k = i; k < Math.min(count, i + perMulti); k++) ops.push({ op: 'create' as const, path: `${parent}/n${k}`, data: payload })
    await mesh().multi(ops)
  }
}

/** ms from this page's joinMesh call until `parent` reads back `count` children here. */
async function readyWith(parent: string, count: number): Promise<number> {
  for (;;) {
    const n = await mesh().children(parent).then((k) => k.length, () => -1)
    if (n === count) return performance.now() - joinCalledAt
    await new Promise((r) => setTimeout(r, 2))
  }
}

// ---------- links: this tab's member's open links ----------

/** open links of this tab's member, whatever carries them: WebRTC data
 *  channels to other browsers, tab pipes (BroadcastChannel) to this
 *  browser's tabs (counting RTCPeerConnections alone saw 0 links in a mesh
 *  of one browser's tabs once tabs linked over pipes) */
function links(): number {
  if (window.mesh === undefined) return 0
  const mesh = window.mesh as unknown as Record<symbol, { diagnosticMember(): { links: { peers(): string[]; has(peer: string): boolean } } } | undefined>
  const table = mesh[Symbol.for('meshkeeper.browserTab')]?.diagnosticMember().links
  if (table === undefined) return 0
  return table.peers().filter((peer) => table.has(peer)).length
}

/** what the mesh's `error` events said (for --diag) */
const meshErrors: string[] = []
const errors = (): string[] => meshErrors

// ---------- a device vanishes: who leads, raft and the election recipe ----------

/** leaders this tab heard of (the mesh's `leader` event), with the wall-clock time */
const leaders: Array<{ t: number; leader: string | null }> = []
let elected: number | null = null

/** Campaign in the election recipe at `path`; `electedAt` tells when this tab won. */
function campaign(path: string, value: string): void {
  void mesh()
    .election(path)
    .campaign({ value })
    .then(() => {
      elected = wallNow()
      flight?.note(`recipe: campaign ${value} won`)
    }, () => undefined)
}

/** When this tab won its campaign (wall clock), or null. */
function electedAt(): number | null {
  return elected
}

/** The first time since `since` this tab heard of a leader other than `gone`, or null. */
function leaderSince(since: number, gone: string): number | null {
  return leaders.find((l) => l.t >= since && l.leader !== null && l.leader !== gone)?.t ?? null
}

// ---------- diagnosis: this member's election records (flight.ts) ----------

let flight: Flight | null = null
// registered before joinMesh's own: the records of the hand-off reach the console
addEventListener('pagehide', () => {
  flight?.closing()
  // a closing page's storage writes reach the console too (stamped when created)
  onIdbTxEnded((t) => console.log(`[flight] ${t.created} ${describeIdbTx(t)}`))
})

/** This member's id and its election records since `since` (wall clock), with its storage writes. */
function flightSince(since: number): { member: string; records: FlightRecord[] } {
  if (flight === null) return { member: '?', records: [] }
  const saves = idbLog(since, Infinity).map((t) => ({ t: t.created, e: describeIdbTx(t) }))
  const writes = (loop?.records ?? []).filter((r) => r.committed >= since).map((r) => ({ t: r.committed, e: `write committed (started ${(r.started - r.committed).toFixed(1)})` }))
  return { member: flight.member, records: [...flight.records(since), ...saves, ...writes].sort((a, b) => a.t - b.t) }
}

Object.assign(window, {
  meshBench: { errors, links, idbLog, flight: flightSince, campaign, electedAt, leaderSince, wallNow, commits, throughput, linearizableReads, listen, heardAt, timedCreates, startWrites, firstCommitSince, stopWrites, lockAcquireRelease, lockTurns, fill, readyWith },
})

installIdbProbe()
// ?firstWrite: when the join's first locks and databases were had (join steps)
const joinRequests = params.has('firstWrite') ? installJoinRequestProbe() : {}
const joinCalledAt = performance.now()
try {
  const signal = params.get('signal')
  window.mesh = await joinMesh({
    room: params.get('room') ?? 'bench',
    ...(signal === null ? {} : { signaling: signal }),
    ...(params.has('session') ? { sessionTimeoutMs: Number(params.get('session')) } : {}),
    // the commit timeline (mesh.commitTimeline(), joined across tabs by parts/mesh3.ts)
    ...(params.has('timeline') ? { timeline: true } : {}),
  })
  flight = recordFlight(window.mesh)
  window.mesh.on('leader', (e) => leaders.push({ t: wallNow(), leader: e.leader }))
  // ?firstWrite: the lifecycle part's figure, joinMesh call → first write resolved
  if (params.has('firstWrite')) {
    const m = window.mesh
    const since = (): number => performance.now() - joinCalledAt
    // where the time went (ms after the joinMesh call): the join's marks
    // (option timeline, src/browser/join-marks.ts), the first leader and
    // `connected` this page heard of, and the first write's commit stages
    const steps: Record<string, number> = {}
    if (m.leader !== null) steps['leader-known'] = since()
    if (m.state === 'connected') steps['connected'] = since()
    const offLeader = m.on('leader', (e: { leader: string | null }) => {
      if (e.leader !== null) steps['leader-known'] ??= since()
    })
    const offState = m.on('state', (st: string) => {
      if (st === 'connected') steps['connected'] ??= since()
    })
    steps['write-called'] = since()
    await m.create(`/lifecycle-${tag}`, payload)
    const firstWriteMs = since()
    offLeader()
    offState()
    for (const e of performance.getEntriesByType('mark')) if (e.name.startsWith('meshkeeper:join:')) steps[e.name.slice('meshkeeper:join:'.length)] ??= e.startTime - joinCalledAt
    for (const [step, at] of Object.entries(joinRequests)) steps[step] = at - joinCalledAt
    const epochAtJoin = performance.timeOrigin + joinCalledAt
    const mine = m.commitTimeline().find((r) => r.write?.session === m.sessionId)
    for (const [stage, at] of Object.entries(mine?.stages ?? {})) steps[`write-${stage}`] = at - epochAtJoin
    Object.assign(window, { firstWriteMs, joinSteps: steps })
  }
  window.mesh.on('error', (e: MeshError) => meshErrors.push(`${e.code}: ${e.message}`.slice(0, 160)))
  document.title = 'ready'
} catch (err) {
  document.title = `error ${codeOf(err)}`
}
