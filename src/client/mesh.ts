// The Mesh object apps use (shared/api.md), over one local member.
//
// Writes become tree txns that resolve after commit and local apply; reads
// are served from the local tree (ZooKeeper's sequential consistency: a tab
// sees its own writes, in order) unless `linearizable`, which first waits for
// a ReadIndex barrier. One-shot watches are registered in the same
// synchronous step as the read they belong to, so no change can slip between
// the read and the registration.
//
// The member behind a Mesh may be replaced (the simulator's crash/restart, a
// tab taking its member back): listeners registered with `on` stay with the
// Mesh and follow the member.
import { ObservableV2 } from 'lib0/observable'
import { validatePath } from '../tree/paths'
import type { Stat as TreeStat, TxnOp, TxnResult } from '../tree/types'
import type { Member } from '../driver/member'
import type { Clock } from '../shared/clock'
import { boolean, callback, checkOptions } from '../driver/option-checks'
import { recipesFor } from '../recipes/index'
import { MeshError, toMeshError } from '../shared/errors'
import { restoreDiverged } from './restore-diverged'
import type { RestoreOptions, RestoreReport } from '../shared/types'
import type {
  CreateOpts,
  Data,
  DivergedEvent,
  MemberInfo,
  Mesh,
  MeshEvents,
  MeshState,
  NodeData,
  Op,
  OpResult,
  ReadOpts,
  Stat,
  WatchEvent,
  WatchOpts,
  WriteOpts,
} from '../shared/types'

/** Applied to every promise a Mesh returns; the simulator drives virtual time in it. */
export type Settle = <T>(p: Promise<T>) => Promise<T>

export interface MeshClientOptions {
  settle?: Settle
  /** runs after the member closed gracefully: release the transport, storage, Web Lock */
  onClose?: () => Promise<void>
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder()

export function toBytes(data: Data | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0)
  if (typeof data === 'string') return utf8.encode(data)
  // a copy: bytes the app changes after the call cannot change what a resend carries
  if (data instanceof Uint8Array) return data.slice()
  throw new MeshError('BAD_ARGUMENTS', 'data must be a string or a Uint8Array')
}

export function nodeData(data: Uint8Array, stat: Stat): NodeData {
  return {
    data,
    stat,
    text: () => utf8Decoder.decode(data),
    json: <T = unknown>() => JSON.parse(utf8Decoder.decode(data)) as T,
  }
}

type RecipeMethods = ReturnType<typeof recipesFor>

export class MeshClient implements Mesh {
  private member: Member
  private readonly events = new ObservableV2<MeshEvents>()
  private detach: Array<() => void> = []
  private readonly settle: Settle
  private readonly onCloseHook: (() => Promise<void>) | undefined
  private closing: Promise<void> | null = null
  private readonly recipes: RecipeMethods

  constructor(member: Member, opts: MeshClientOptions = {}) {
    this.member = member
    this.settle = opts.settle ?? ((p) => p)
    this.onCloseHook = opts.onClose
    this.attach(member)
    // recipes are built on this Mesh's public znode API; in the simulator
    // their promises drive virtual time like the znode calls do
    const recipes = recipesFor(this)
    this.recipes = opts.settle === undefined ? recipes : settleDeep(recipes, this.settle)
  }

  /** Put another member behind this Mesh (restart, takeover). Listeners stay. */
  attach(member: Member): void {
    for (const off of this.detach.splice(0)) off()
    this.member = member
    this.closing = null
    const forward = <N extends keyof MeshEvents & string>(name: N): void => {
      // MemberEvents has the same signature for every name a Mesh forwards
      const fn = ((...args: Parameters<MeshEvents[N]>) => this.events.emit(name, args)) as never
      member.on(name, fn)
      this.detach.push(() => member.off(name, fn))
    }
    forward('leader')
    forward('state')
    forward('members')
    forward('error')
    forward('diverged')
  }

  get id(): string {
    return this.member.id
  }

  get sessionId(): string {
    return this.member.sessionId
  }

  get leader(): string | null {
    return this.member.leader
  }

  get isLeader(): boolean {
    return this.member.isLeader
  }

  get term(): number {
    return this.member.term
  }

  get commitIndex(): number {
    return this.member.commitIndex
  }

  get appliedIndex(): number {
    return this.member.appliedIndex
  }

  get state(): MeshState {
    return this.member.state
  }

  members(): MemberInfo[] {
    return this.member.members()
  }

  /** The member's clock; recipes time their waits with it (virtual in the simulator). */
  get scheduler(): Clock {
    return this.member.scheduler
  }

  /** see restoreDiverged (restore-diverged.ts) */
  restoreDiverged(diverged: Pick<DivergedEvent, 'nodes'>, opts?: RestoreOptions): Promise<RestoreReport> {
    return restoreDiverged(this, diverged, opts)
  }

  // ---- recipes (src/recipes) ----

  lock(path: string): ReturnType<RecipeMethods['lock']> {
    return this.recipes.lock(path)
  }

  readWriteLock(path: string): ReturnType<RecipeMethods['readWriteLock']> {
    return this.recipes.readWriteLock(path)
  }

  semaphore(path: string, permits: number): ReturnType<RecipeMethods['semaphore']> {
    return this.recipes.semaphore(path, permits)
  }

  election(path: string): ReturnType<RecipeMethods['election']> {
    return this.recipes.election(path)
  }

  barrier(path: string): ReturnType<RecipeMethods['barrier']> {
    return this.recipes.barrier(path)
  }

  doubleBarrier(path: string, count: number): ReturnType<RecipeMethods['doubleBarrier']> {
    return this.recipes.doubleBarrier(path, count)
  }

  queue(path: string): ReturnType<RecipeMethods['queue']> {
    return this.recipes.queue(path)
  }

  counter(path: string): ReturnType<RecipeMethods['counter']> {
    return this.recipes.counter(path)
  }

  on<E extends keyof MeshEvents>(event: E, fn: MeshEvents[E]): () => void {
    this.events.on(event, fn)
    return () => this.events.off(event, fn)
  }

  // ---- writes ----

  create(path: string, data?: Data, opts: CreateOpts = {}): Promise<string> {
    return this.run(async () => {
      // mode and ttlMs are checked where every write is, by the command encoder's rules (node/requests.ts)
      const op: TxnOp = { op: 'create', path, data: toBytes(data), mode: opts.mode ?? 'persistent' }
      if (opts.ttlMs !== undefined) op.ttlMs = opts.ttlMs
      if (opts.parents !== undefined) op.parents = opts.parents
      const results = await this.txn([op], false)
      const r = results[0]
      if (r?.op !== 'create') throw new MeshError('BAD_MESSAGE', 'create returned no path', { path })
      return r.path
    })
  }

  set(path: string, data: Data, opts: WriteOpts = {}): Promise<Stat> {
    return this.run(async () => {
      const op: TxnOp = { op: 'set', path, data: toBytes(data), version: versionOf(opts.version) }
      const results = await this.fenced(op, opts)
      const r = results[results.length - 1]
      if (r?.op !== 'set') throw new MeshError('BAD_MESSAGE', 'set returned no stat', { path })
      return publicStat(r.stat)
    })
  }

  delete(path: string, opts: WriteOpts = {}): Promise<void> {
    return this.run(async () => {
      await this.fenced({ op: 'delete', path, version: versionOf(opts.version) }, opts)
    })
  }

  multi(ops: Op[]): Promise<OpResult[]> {
    return this.run(async () => {
      if (!Array.isArray(ops)) throw new MeshError('BAD_ARGUMENTS', 'multi takes an array of ops')
      const txnOps = ops.map((o, i) => {
        try {
          return toTxnOp(o)
        } catch (err) {
          throw toMeshError(err, 'BAD_ARGUMENTS', { opIndex: i, path: (o as { path?: string }).path })
        }
      })
      if (txnOps.length === 0) return []
      const results = await this.txn(txnOps, true)
      return results.map((r): OpResult => {
        switch (r.op) {
          case 'create':
            return { op: 'create', path: r.path, stat: publicStat(r.stat) }
          case 'set':
            return { op: 'set', stat: publicStat(r.stat) }
          case 'delete':
            return { op: 'delete' }
          case 'check':
            return { op: 'check' }
          default:
            throw new MeshError('BAD_MESSAGE', `unexpected result ${r.op} in multi`)
        }
      })
    })
  }

  // ---- reads ----

  get(path: string, opts: ReadOpts = {}): Promise<NodeData> {
    return this.read(path, opts, () => {
      const node = this.member.tree.get(path)
      if (node === null) throw new MeshError('NO_NODE', `no node ${path}`, { path })
      if (opts.watch !== undefined) this.member.watches.once('data', path, opts.watch)
      return nodeData(node.data, publicStat(node.stat))
    })
  }

  exists(path: string, opts: ReadOpts = {}): Promise<Stat | null> {
    return this.read(path, opts, () => {
      const stat = this.member.tree.stat(path)
      // ZooKeeper: an exists watch is set whether or not the node exists
      if (opts.watch !== undefined) this.member.watches.once('exists', path, opts.watch)
      return stat === null ? null : publicStat(stat)
    })
  }

  children(path: string, opts: ReadOpts = {}): Promise<string[]> {
    return this.read(path, opts, () => {
      const names = this.member.tree.children(path)
      if (names === null) throw new MeshError('NO_NODE', `no node ${path}`, { path })
      if (opts.watch !== undefined) this.member.watches.once('children', path, opts.watch)
      return [...names]
    })
  }

  sync(path?: string): Promise<void> {
    return this.run(async () => {
      if (path !== undefined) checkPath(path)
      await this.member.barrier()
    })
  }

  watch(path: string, fn: (e: WatchEvent) => void, opts: WatchOpts = {}): () => void {
    checkPath(path)
    if (typeof fn !== 'function') throw new MeshError('BAD_ARGUMENTS', 'watch needs a callback', { path })
    checkOptions('watch', opts, WATCH_RULES)
    const member = this.member
    return member.watches.persistent(path, opts.recursive === true, fn)
  }

  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = (async () => {
        await this.member.close()
        if (this.onCloseHook !== undefined) await this.onCloseHook()
      })()
    }
    return this.settle(this.closing)
  }

  // ---- internals ----

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = (async () => {
      if (this.member.isStopped) throw new MeshError('CLOSED', 'the mesh is closed')
      try {
        return await fn()
      } catch (err) {
        throw toMeshError(err)
      }
    })()
    return this.settle(p)
  }

  private read<T>(path: string, opts: ReadOpts, local: () => T): Promise<T> {
    return this.run(async () => {
      checkPath(path)
      checkOptions('read', opts, READ_RULES)
      if (opts.linearizable === true) await this.member.barrier()
      return local()
    })
  }

  /** a write, fenced by a lease when given: the fence op runs first in the same txn */
  private fenced(op: TxnOp, opts: WriteOpts): Promise<Array<TxnOkResult>> {
    if (opts.fence === undefined) return this.txn([op], false)
    const lease = opts.fence
    const fence: TxnOp = { op: 'fence', path: lease.path, token: lease.token }
    return this.txn([fence, op], true).catch((err: unknown) => {
      // the caller made one call: the index of the op inside is ours, not theirs
      if (err instanceof MeshError) delete err.opIndex
      throw err
    })
  }

  private async txn(ops: TxnOp[], multi: boolean): Promise<Array<TxnOkResult>> {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!
      try {
        checkPath(op.path, op.op === 'create' && op.mode.endsWith('-sequential'))
      } catch (err) {
        throw multi ? toMeshError(err, 'BAD_ARGUMENTS', { opIndex: i, path: op.path }) : err
      }
    }
    const result: TxnResult = await this.member.write(ops, multi)
    if (result.ok) return result.results
    const details: { path?: string; opIndex?: number } = {}
    if (result.path !== undefined) details.path = result.path
    if (multi && result.opIndex !== undefined) details.opIndex = result.opIndex
    throw new MeshError(result.code, result.message, details)
  }
}

/**
 * Wrap an object so every promise its methods return (and every object those
 * promises or methods hand back, like a Lease) goes through `settle`. Methods
 * run on the original object, so private state keeps working.
 */
function settleDeep<T>(value: T, settle: Settle, seen = new WeakMap<object, unknown>()): T {
  if (value instanceof Promise) return settle(value.then((v) => settleDeep(v, settle, seen))) as T
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || Array.isArray(value)) return value
  const known = seen.get(value)
  if (known !== undefined) return known as T
  const target = value as object
  const proxy = new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t)
      if (typeof v !== 'function') return settleDeep(v, settle, seen)
      return (...args: unknown[]) => settleDeep((v as (...a: unknown[]) => unknown).apply(t, args), settle, seen)
    },
  })
  seen.set(target, proxy)
  return proxy as T
}

/** a read's options (get, exists, children) and a persistent watch's */
const READ_RULES = { watch: callback, linearizable: boolean }
const WATCH_RULES = { recursive: boolean }

type TxnOkResult = Extract<TxnResult, { ok: true }>['results'][number]

function checkPath(path: string, sequential = false): void {
  if (typeof path !== 'string') throw new MeshError('BAD_ARGUMENTS', 'a path must be a string')
  try {
    validatePath(path, sequential)
  } catch (err) {
    throw toMeshError(err, 'BAD_ARGUMENTS', { path })
  }
}

/** -1 (any version) when none is given; the range is checked with the rest of the write (node/requests.ts) */
function versionOf(v: number | undefined): number {
  return v === undefined ? -1 : v
}

function toTxnOp(o: Op): TxnOp {
  switch (o.op) {
    case 'create':
      if (o.mode === 'ttl' || o.mode === 'ttl-sequential') throw new MeshError('BAD_ARGUMENTS', 'ttl modes need create() with ttlMs', { path: o.path })
      return { op: 'create', path: o.path, data: toBytes(o.data), mode: o.mode ?? 'persistent', ...(o.parents === undefined ? {} : { parents: o.parents }) }
    case 'set':
      return { op: 'set', path: o.path, data: toBytes(o.data), version: versionOf(o.version) }
    case 'delete':
      return { op: 'delete', path: o.path, version: versionOf(o.version) }
    case 'check':
      return { op: 'check', path: o.path, version: versionOf(o.version) }
    default:
      throw new MeshError('BAD_ARGUMENTS', `unknown op ${(o as { op?: unknown }).op}`)
  }
}

/** the tree's Stat is the public Stat (shared/api.md); copy so apps cannot mutate the tree */
function publicStat(s: TreeStat): Stat {
  return { ...s }
}
