// The history format: what the simulator's client workload records, one
// Operation per client call, and what the linearizability checker reads.
//
// Times are virtual milliseconds. An operation is "complete" when the client
// saw its answer (ret and output set) and "maybe applied" when the call timed
// out or the client lost its connection (ret = null, output = null): the
// checker then lets it take effect at any moment after its call, or never.

export type CreateMode = 'persistent' | 'ephemeral' | 'persistent-sequential' | 'ephemeral-sequential'

/** The error codes a znode operation may answer with (a subset of MeshError's codes). */
export type ZnodeErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'NO_CHILDREN_FOR_EPHEMERALS'
  | 'SESSION_EXPIRED'
  /** an invalid path, or deleting the root */
  | 'BAD_ARGUMENTS'

export const ANY_VERSION = -1

export interface CreateOp {
  kind: 'create'
  /** For sequential modes: the prefix; the created path is prefix + 10-digit counter. */
  path: string
  data: string
  mode: CreateMode
  /** The caller's session: owner of an ephemeral node, and it must be alive to create one. */
  session: string
}
export interface SetOp { kind: 'set', path: string, data: string, /** -1: any */ version: number }
export interface DeleteOp { kind: 'delete', path: string, /** -1: any */ version: number }
export interface CheckOp { kind: 'check', path: string, /** -1: any (then it checks existence) */ version: number }
/**
 * A read. `local: true` marks a read served from the member's local copy
 * (ZooKeeper's sequential consistency): it is allowed to be stale, so the
 * linearizability checker leaves it out. Linearizable (ReadIndex) reads omit it.
 */
export interface GetOp { kind: 'get', path: string, local?: boolean }
export interface ExistsOp { kind: 'exists', path: string, local?: boolean }
export interface ChildrenOp { kind: 'children', path: string, local?: boolean }
export type MultiSubOp = CreateOp | SetOp | DeleteOp | CheckOp
export interface MultiOp { kind: 'multi', ops: MultiSubOp[] }
/** A session ends (expired by the leader, or closed by its client): its ephemerals go. */
export interface CloseSessionOp { kind: 'close-session', session: string }

export type ModelOp = CreateOp | SetOp | DeleteOp | GetOp | ExistsOp | ChildrenOp | MultiOp | CloseSessionOp
export type ReadOp = GetOp | ExistsOp | ChildrenOp

/** What a client sees from one successful sub-operation (or a single operation). */
export type OkValue =
  | { kind: 'create', path: string }
  | { kind: 'set', version: number }
  | { kind: 'delete' }
  | { kind: 'check' }
  | { kind: 'get', data: string, version: number }
  /** version null: no such node (exists answers null rather than NO_NODE) */
  | { kind: 'exists', version: number | null }
  /** sorted child names (not full paths) */
  | { kind: 'children', names: string[] }
  | { kind: 'multi', results: OkValue[] }
  | { kind: 'close-session' }

export type ModelResult =
  | { ok: true, value: OkValue }
  /** opIndex: for a multi, the index of the sub-operation that failed */
  | { ok: false, code: ZnodeErrorCode, opIndex?: number }

export interface Operation {
  /** unique within the history (the recorder numbers calls from 0) */
  id: number
  client: string
  /** virtual ms of the call */
  call: number
  /** virtual ms of the return; null: timed out, maybe applied at any time after call */
  ret: number | null
  input: ModelOp
  /** null exactly when ret is null */
  output: ModelResult | null
}

export type History = readonly Operation[]

export const isRead = (op: ModelOp): op is ReadOp => op.kind === 'get' || op.kind === 'exists' || op.kind === 'children'

/** Result constructors, so histories (and hand-written tests) read briefly. */
export const ok = (value: OkValue): ModelResult => ({ ok: true, value })
export const fail = (code: ZnodeErrorCode, opIndex?: number): ModelResult =>
  opIndex === undefined ? { ok: false, code } : { ok: false, code, opIndex }

/**
 * Records a history as the workload runs. Call `call` when a client issues a
 * request and `returned` or `timedOut` when it ends; `history()` at the end.
 * An operation still open when `history()` is taken counts as timed out.
 */
export class HistoryRecorder {
  private readonly ops: Operation[] = []
  private readonly open = new Set<number>()

  /** @param now the virtual clock (ms) */
  constructor (private readonly now: () => number) {}

  call (client: string, input: ModelOp): number {
    const id = this.ops.length
    this.ops.push({ id, client, call: this.now(), ret: null, input, output: null })
    this.open.add(id)
    return id
  }

  returned (id: number, output: ModelResult): void {
    const op = this.take(id)
    op.ret = this.now()
    op.output = output
  }

  /** The client gave up (timeout, lost connection): the operation may or may not have been applied. */
  timedOut (id: number): void {
    this.take(id)
  }

  history (): Operation[] {
    return this.ops.map(op => ({ ...op }))
  }

  private take (id: number): Operation {
    const op = this.ops[id]
    if (op === undefined || !this.open.delete(id)) throw new Error(`HistoryRecorder: operation ${id} is not open`)
    return op
  }
}

/** Validates a history's shape (unique ids, ret >= call, output null iff ret null); throws on the first problem. */
export const validateHistory = (history: History): void => {
  const ids = new Set<number>()
  for (const op of history) {
    if (ids.has(op.id)) throw new Error(`history: duplicate operation id ${op.id}`)
    ids.add(op.id)
    if (op.ret !== null && op.ret < op.call) throw new Error(`history: operation ${op.id} returns before its call`)
    if ((op.ret === null) !== (op.output === null)) throw new Error(`history: operation ${op.id} must have an output exactly when it returned`)
  }
}
