// One chaos run in real browsers (issue 17, deliverable 8): tabs over a few
// browser contexts (devices) call the mesh — plain writes and linearizable
// reads, compare-and-set (a read, then a set at the version read), and fenced
// lock work (take /locks/L, write /fenced guarded by the lease's token, read
// it, release, then once more with the released lease, which must be
// refused) — while the nemesis crashes, closes, reloads, freezes and hides
// tabs and cuts devices' links. Every call is recorded (history.ts). At the
// end every fault is healed, the mesh settles, one tab reads every key
// (recorded too: an acknowledged write that was lost shows as a read the
// history cannot explain), and the run checks:
// - the history with the simulator's linearizability checker;
// - fencing: tokens never go back in commit order, and no write with a
//   released lease lands (FencedLog);
// - every tab's tree digest (its whole tree read locally after sync) agrees.
// The run is replayable from its seed (the nemesis' faults and the clients'
// choices), up to the browsers' timing.
import type { Browser, Page } from '@playwright/test'
import * as prng from 'lib0/prng'
import { digest as sha256 } from 'lib0/hash/sha256'
import { toHexString } from 'lib0/buffer'
import { pollFor, waitForLeader } from '../../../src/testing/playwright'
import { answer, describeOp, describeResult, op } from '../../sim/linearizability/index'
import type { ModelResult, Operation } from '../../sim/linearizability/index'
import { deviceUrl, startSignal } from '../devices/devices'
import { freshRoom } from '../helpers/demo'
import { callIn } from './calls'
import type { CallValue } from './calls'
import { ChaosHistory, FencedLog } from './history'
import type { ChaosCounts, PageAnswer } from './history'
import { Nemesis } from './nemesis'
import type { FaultKind, FaultRecord } from './nemesis'
import { livePages, openChaosDevice, sleep } from './tabs'
import type { ChaosDevice, TabSlot } from './tabs'

export interface ChaosOptions {
  seed: number
  /** how long the nemesis and the clients run, ms */
  durationMs: number
  /** tabs per device (default [2, 2, 1]: three devices, five tabs) */
  tabs?: number[]
  /** the session timeout the tabs use (default 4000 ms: a frozen lock holder's session expires within a run) */
  sessionTimeoutMs?: number
  kinds?: readonly FaultKind[]
  log?: (line: string) => void
  /** print page errors (default false: a crashing tab's are expected) */
  logPageErrors?: boolean
}

export interface ChaosResult {
  seed: number
  ok: boolean
  /** what was injected and checked, and every problem found */
  report: string
  problems: string[]
  faults: FaultRecord[]
  faultCounts: Record<FaultKind, number>
  counts: ChaosCounts
  /** operations the checker read (history length) and its verdict */
  checked: number
  verdict: string
  fencedWrites: number
  staleRefused: number
  digests: number
  durationMs: number
}

const KEYS = ['/k0', '/k1', '/k2']
const CAS_KEYS = ['/c0', '/c1']
const FENCED = '/fenced'
const LOCK = '/locks/L'
const asResult = {
  set: (v: CallValue): ModelResult => answer.setTo((v as { version: number }).version),
  get: (v: CallValue): ModelResult => answer.data((v as { data: string }).data, (v as { version: number }).version),
  create: (v: CallValue): ModelResult => answer.created((v as { path: string }).path),
}
const tokenOf = (data: string): number => Number(data.slice(0, data.indexOf(':')))

export async function runChaos(browser: Browser, opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? (() => undefined)
  const started = Date.now()
  const server = await startSignal()
  const url = deviceUrl(freshRoom(), server.url, `&session=${opts.sessionTimeoutMs ?? 4000}`)
  const devices: ChaosDevice[] = []
  const history = new ChaosHistory()
  const fenced = new FencedLog()
  const problems: string[] = []
  let fencedWrites = 0
  const acquires = { ok: 0, gone: 0, failed: {} as Record<string, number> }
  const acquireMs: number[] = []
  try {
    // the first device founds the cluster, each later one joins it
    for (const [i, n] of (opts.tabs ?? [2, 2, 1]).entries()) {
      devices.push(await openChaosDevice(browser, url, i, n, opts.logPageErrors ?? false))
      await waitForLeader(livePages(devices), { timeoutMs: 60_000 })
    }
    const tabs = devices.flatMap((d) => d.tabs)
    log(`[chaos] seed ${opts.seed}: ${tabs.length} tabs on ${devices.length} devices formed in ${((Date.now() - started) / 1000).toFixed(1)} s`)

    // setup: the tree starts empty for the checker, so the keys' creation is recorded too
    const first = tabs[0]!
    for (const path of [...KEYS, ...CAS_KEYS, FENCED]) {
      const data = path === FENCED ? '0:setup' : `setup${path}`
      await pollFor(`setup create ${path}`, async () => {
        const r = await history.record('setup', op.create(path, data), () => callIn(first.page!, { kind: 'create', path, data }), asResult.create)
        if (r.outcome === 'ok' || (r.answer?.ok === false && r.answer.code === 'NODE_EXISTS')) return true
        await sleep(200)
        return undefined
      })
    }

    let stop = false
    /** `lock`: the tab's lock client (fenced lock work only), so waiting for the lock holds up no other call */
    const clientLoop = async (tab: TabSlot, index: number, lock: boolean): Promise<void> => {
      const gen = prng.create(opts.seed * 1000 + index * 2 + (lock ? 2 : 1))
      const name = lock ? `${tab.name}L` : tab.name
      let n = 0
      const unique = (): string => `${name}#${n++}`
      /** one recorded call on the tab's current page; undefined when the tab is not up */
      const call = async (input: Parameters<typeof history.record>[1], pageCall: Parameters<typeof callIn>[1], toResult: (v: CallValue) => ModelResult) => {
        const page = tab.page
        if (page === null || tab.state !== 'up') return undefined
        const r = await history.record(name, input, () => callIn(page, pageCall), toResult)
        // failed calls back off a little: NO_QUORUM and TIMEOUT are expected during faults
        if (r.outcome === 'indeterminate' || r.outcome === 'not-applied') await sleep(prng.uint32(gen, 200, 600))
        return r
      }
      while (!stop) {
        if (tab.page === null || tab.state !== 'up') {
          await sleep(100)
          continue
        }
        if (lock) {
          await sleep(prng.uint32(gen, 50, 400))
          await lockWork(tab, name, gen, unique, call)
          continue
        }
        await sleep(prng.uint32(gen, 10, 100))
        const choice = prng.uint32(gen, 0, 99)
        if (choice < 40) {
          const path = prng.oneOf(gen, KEYS)
          const data = unique()
          await call(op.set(path, data), { kind: 'set', path, data, version: -1 }, asResult.set)
        } else if (choice < 65) {
          const path = prng.oneOf(gen, KEYS)
          await call(op.get(path), { kind: 'get', path }, asResult.get)
        } else {
          // compare-and-set: read, then write at the version read
          const path = prng.oneOf(gen, CAS_KEYS)
          const read = await call(op.get(path), { kind: 'get', path }, asResult.get)
          if (read?.outcome !== 'ok') continue
          const version = (read.answer as { value: { version: number } }).value.version
          const data = unique()
          await call(op.set(path, data, version), { kind: 'set', path, data, version }, asResult.set)
        }
      }
    }

    const lockWork = async (
      tab: TabSlot,
      name: string,
      gen: prng.PRNG,
      unique: () => string,
      call: (input: Operation['input'], pageCall: Parameters<typeof callIn>[1], toResult: (v: CallValue) => ModelResult) => Promise<{ outcome: string; answer?: PageAnswer<CallValue> } | undefined>,
    ): Promise<void> => {
      const page = tab.page
      if (page === null) return
      let got: PageAnswer<CallValue>
      const asked = Date.now()
      try {
        got = await callIn(page, { kind: 'acquire', path: LOCK, timeoutMs: 4000 })
      } catch {
        acquires.gone++
        return // the tab went away while waiting
      }
      acquireMs.push(Date.now() - asked)
      if (!got.ok) {
        acquires.failed[got.code] = (acquires.failed[got.code] ?? 0) + 1
        return
      }
      acquires.ok++
      const lease = got.value as { path: string; token: number }
      const writes = prng.uint32(gen, 1, 2)
      for (let i = 0; i < writes; i++) {
        const data = `${lease.token}:${unique()}`
        const r = await call(op.set(FENCED, data), { kind: 'fenced-set', path: FENCED, data, lease }, asResult.set)
        if (r !== undefined) fencedWrites++
        if (r?.outcome === 'ok') fenced.see({ version: (r.answer as { value: { version: number } }).value.version, token: lease.token, how: 'write', client: name, data })
        if (r === undefined || r.outcome !== 'ok') break
        // hold the lock a little, so faults hit holders
        await sleep(prng.uint32(gen, 0, 300))
      }
      const read = await call(op.get(FENCED), { kind: 'get', path: FENCED }, asResult.get)
      if (read?.outcome === 'ok') {
        const v = (read.answer as { value: { data: string; version: number } }).value
        fenced.see({ version: v.version, token: tokenOf(v.data), how: 'read', client: name, data: v.data })
      }
      if (tab.page !== page || tab.state !== 'up') return
      let released: PageAnswer<CallValue>
      try {
        released = await callIn(page, { kind: 'release', lease: lease.path })
      } catch {
        return
      }
      // a stale holder on purpose: the lease's node is gone (a linearizable
      // exists said so), so a write fenced by it must be refused
      if (!released.ok || !(released.value as { gone: boolean }).gone) return
      const data = `${lease.token}:${unique()}:stale`
      const r = await call(op.set(FENCED, data), { kind: 'fenced-set', path: FENCED, data, lease }, asResult.set)
      if (r === undefined || r.outcome === 'indeterminate' || r.outcome === 'not-applied') return
      fenced.staleAnswered++
      if (r.outcome === 'fenced') fenced.staleRefused++
      if (r.outcome === 'ok') {
        fenced.staleLanded++
        fenced.see({ version: (r.answer as { value: { version: number } }).value.version, token: lease.token, how: 'write', client: name, data })
      }
    }

    const nemesis = new Nemesis(devices, { seed: opts.seed, durationMs: opts.durationMs, url, log, ...(opts.kinds === undefined ? {} : { kinds: opts.kinds }) })
    const clients = tabs.flatMap((t, i) => [clientLoop(t, i, false), clientLoop(t, i, true)])
    await nemesis.run()
    stop = true
    // a client's last call may wait for a request timeout; a call that never ends counts as indeterminate
    await Promise.race([Promise.all(clients), sleep(30_000)])
    log(`[chaos] faults over after ${((Date.now() - started) / 1000).toFixed(1)} s; settling`)

    // settle: one leader that every live tab agrees on
    const pages = livePages(devices)
    await waitForLeader(pages, { timeoutMs: 60_000, anyMember: true })
    // final reads: every key, from one tab, recorded (lost acknowledged writes show here)
    for (const path of [...KEYS, ...CAS_KEYS, FENCED]) {
      await pollFor(`final read of ${path}`, async () => {
        const r = await history.record('final', op.get(path), () => callIn(pages[0]!, { kind: 'get', path }), asResult.get)
        if (r.outcome !== 'ok') return undefined
        if (path === FENCED) {
          const v = (r.answer as { value: { data: string; version: number } }).value
          fenced.see({ version: v.version, token: tokenOf(v.data), how: 'read', client: 'final', data: v.data })
        }
        return true
      }, { timeoutMs: 60_000, intervalMs: 300 })
    }
    const digests = await pollFor('every tab with the same tree', async () => {
      const ds = await Promise.all(pages.map(treeDigest))
      return ds.every((d) => d === ds[0]) ? ds : undefined
    }, { timeoutMs: 60_000, intervalMs: 500 }).catch(async (err: unknown) => {
      const last = await Promise.all(pages.map((p) => treeDigest(p).catch((e: unknown) => `no digest: ${String(e).split('\n')[0]}`)))
      problems.push(`tree digests differ: ${String(err)}\n${last.join('\n')}`)
      return []
    })

    // every lock client stopped and released what it held: a node left in the
    // lock's directory blocks the lock until its tab's session ends
    const left = await callIn(pages[0]!, { kind: 'children', path: LOCK }).catch(() => undefined)
    const lockNodesLeft = left?.ok === true ? (left.value as { children: string[] }).children : []
    const sessions = await Promise.all(pages.map((p) => p.evaluate(() => window.mesh!.sessionId).catch(() => '?')))

    const checkStart = Date.now()
    const verdict = history.check()
    if (!verdict.ok) problems.push(`history ${verdict.verdict}:\n${verdict.explanation}\n${excerpt(verdict.partition.operations)}`)
    problems.push(...fenced.problems())
    const faultCounts = nemesis.counts()
    const checked = history.history().length
    const lines = [
      `chaos seed ${opts.seed}: ${problems.length === 0 ? 'OK' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s (${opts.durationMs / 1000} s of faults, ${tabs.length} tabs on ${devices.length} devices)`,
      `faults injected: ${nemesis.faults.length} (${Object.entries(faultCounts).map(([k, v]) => `${k} ${v}`).join(', ')})`,
      `calls recorded: ${history.counts.calls} (ok ${history.counts.ok}, definite errors ${history.counts.definiteErrors}, indeterminate ${history.counts.indeterminate}, not applied ${history.counts.notApplied}, fenced ${history.counts.fenced}); codes ${JSON.stringify(history.counts.codes)}`,
      `linearizability: ${checked} operations checked in ${verdict.partitions} partitions, ${verdict.verdict} (${verdict.steps} steps, ${Date.now() - checkStart} ms)`,
      `locks: ${acquires.ok} acquired (median wait ${median(acquireMs)} ms), ${acquires.gone} tab gone while waiting, failed ${JSON.stringify(acquires.failed)}`,
      `lock nodes left after every client released: ${lockNodesLeft.length}${lockNodesLeft.length === 0 ? '' : ` (${lockNodesLeft.join(', ')}; live sessions ${sessions.join(', ')})`}`,
      `fencing: ${fencedWrites} fenced writes, ${fenced.sightings.length} token sightings in commit order, ${fenced.staleRefused}/${fenced.staleAnswered} writes with a released lease refused`,
      `trees: ${digests.length} tabs agree${digests[0] === undefined ? '' : ` (digest ${digests[0].slice(0, 12)})`}`,
      ...problems.map((p) => `PROBLEM: ${p}`),
    ]
    if (problems.length > 0) lines.push(`replay: npm run chaos -- --seed ${opts.seed} --minutes ${opts.durationMs / 60_000}`)
    return {
      seed: opts.seed,
      ok: problems.length === 0,
      report: lines.join('\n'),
      problems,
      faults: nemesis.faults,
      faultCounts,
      counts: history.counts,
      checked,
      verdict: verdict.verdict,
      fencedWrites,
      staleRefused: fenced.staleRefused,
      digests: digests.length,
      durationMs: Date.now() - started,
    }
  } finally {
    await Promise.all(devices.map((d) => d.context.close().catch(() => undefined)))
    await server.close()
  }
}

/** The tab's whole tree, read locally after sync: every path with its data, version, creation and ephemeral owner; SHA-256 hex. */
async function treeDigest(page: Page): Promise<string> {
  const text = await page.evaluate(async () => {
    const mesh = window.mesh!
    await mesh.sync()
    // no named inner function: tsx (esbuild keepNames) would wrap it in a __name the page lacks
    const lines: string[] = []
    const todo = ['/']
    while (todo.length > 0) {
      const path = todo.pop()!
      for (const name of await mesh.children(path)) {
        const child = path === '/' ? `/${name}` : `${path}/${name}`
        const n = await mesh.get(child)
        lines.push(`${child} ${JSON.stringify(n.text())} v${n.stat.version} c${n.stat.czxid} m${n.stat.mzxid} e${n.stat.ephemeralOwner ?? '-'}`)
        todo.push(child)
      }
    }
    lines.sort()
    return lines.join('\n')
  })
  return toHexString(sha256(new TextEncoder().encode(text)))
}

/** The last operations of a partition the checker refused, one a line. */
function excerpt(ops: readonly Operation[]): string {
  const lines = [...ops]
    .sort((a, b) => a.call - b.call)
    .slice(-40)
    .map((o) => `  #${o.id} ${o.client} [${o.call.toFixed(0)}, ${o.ret === null ? '?' : o.ret.toFixed(0)}] ${describeOp(o.input)} → ${o.output === null ? '?' : describeResult(o.output)}`)
  return `history excerpt (last ${lines.length} of ${ops.length} operations of the partition):\n${lines.join('\n')}`
}

const median = (xs: number[]): number => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!)
