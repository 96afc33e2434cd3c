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
//
// This is the znode part of a Mesh (`MeshCore`). The recipes are attached by
// the assembler (assemble.ts), from the registry in src/recipes/index.ts.
import { ObservableV2 } from 'lib0/observable'
import type { TxnOp, TxnResult } from '../tree/types'
import type { Member } from '../driver/member'
import { boolean, callback, checkOptions } from '../driver/option-checks'
import { MeshError, toMeshError } from '../shared/errors'
import { restoreDiverged } from './restore-diverged'
import type { Settle } from './settle'
import { checkPath, nodeData, publicStat, toBytes, toTxnOp, versionOf } from './znode-ops'
import type { TxnOkResult } from './znode-ops'
import type {
  CommitTimelineRecord,
  CreateOpts,
  Data,
  DivergedEvent,
  MemberInfo,
  MeshCore,
  MeshEvents,
  MeshState,
  NodeData,
  Op,
  OpResult,
  ReadOpts,
  RestoreOptions,
  RestoreReport,
  Stat,
  WatchEvent,
  WatchOpts,
  WriteOpts,
} from '../shared/types'

export interface MeshClientOptions {
  settle?: Settle
  /** runs after the member closed gracefully: release the transport, storage, Web Lock */
  onClose?: () => Promise<void>
}

export class MeshClient implements MeshCore {
  private member: Member
  private readonly events = new ObservableV2<MeshEvents>()
  private detach: (() => void)[] = []
  private readonly settle: Settle
  private onCloseHook: (() => Promise<void>) | undefined
  private closing: Promise<void> | null = null

  constructor(member: Member, opts: MeshClientOptions = {}) {
    this.member = member
    this.settle = opts.settle ?? ((p) => p)
    this.onCloseHook = opts.onClose
    this.attach(member)
  }

  /**
   * A closed Mesh runs again over a new member (a page restored from the
   * back/forward cache, browser/join.ts): listeners stay, `onClose` now
   * releases what the new member holds, and listeners hear the state it
   * starts in (its first `state` events came before it was attached here).
   */
  reattach(member: Member, onClose: () => Promise<void>): void {
    this.attach(member)
    this.onCloseHook = onClose
    this.events.emit('state', [member.state])
  }

  /** Tell the app of an error outside any call (a failed rejoin after a restore from the bfcache). */
  reportError(err: MeshError): void {
    this.events.emit('error', [err])
  }

  /** Put another member behind this Mesh (restart, takeover). Listeners stay. */
  attach(member: Member): void {
    for (const off of this.detach.splice(0)) off()
    this.member = member
    this.closing = null
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- N ties the name to its argument list in the body (Parameters<MeshEvents[N]>)
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

  commitTimeline(): CommitTimelineRecord[] {
    return this.member.commitTimeline()
  }

  /** make this member the only voter (see Mesh in shared/types.ts) */
  forceNewCluster(): Promise<void> {
    return this.run(() => this.member.forceNewCluster())
  }

  /** see restoreDiverged (restore-diverged.ts) */
  restoreDiverged(diverged: Pick<DivergedEvent, 'nodes'>, opts?: RestoreOptions): Promise<RestoreReport> {
    return restoreDiverged(this, diverged, opts)
  }

  on<E extends keyof MeshEvents>(event: E, fn: MeshEvents[E]): () => void {
    this.events.on(event, fn)
    return () => this.events.off(event, fn)
  }

  // ---- writes ----

  create(path: string, data?: Data, opts: CreateOpts = {}): Promise<string> {
    return this.run(async () => {
      // mode and ttlMs are checked where every write is, by the command encoder's rules (driver/requests.ts)
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
    this.closing ??= (async () => {
      await this.member.close()
      if (this.onCloseHook !== undefined) await this.onCloseHook()
    })()
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
  private fenced(op: TxnOp, opts: WriteOpts): Promise<TxnOkResult[]> {
    if (opts.fence === undefined) return this.txn([op], false)
    const lease = opts.fence
    const fence: TxnOp = { op: 'fence', path: lease.path, token: lease.token }
    return this.txn([fence, op], true).catch((err: unknown) => {
      // the caller made one call: the index of the op inside is ours, not theirs
      if (err instanceof MeshError) delete err.opIndex
      throw err
    })
  }

  private async txn(ops: TxnOp[], multi: boolean): Promise<TxnOkResult[]> {
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

/** a read's options (get, exists, children) and a persistent watch's */
const READ_RULES = { watch: callback, linearizable: boolean }
const WATCH_RULES = { recursive: boolean }

