// Short constructors for operations and answers, so that workloads and
// hand-written histories read like the calls they record.
import type {
  CheckOp, ChildrenOp, CloseSessionOp, CreateMode, CreateOp, DeleteOp, ExistsOp, GetOp, ModelOp,
  ModelResult, MultiOp, MultiSubOp, OkValue, Operation, SetOp, ZnodeErrorCode,
} from './history'
import { ANY_VERSION, fail, ok } from './history'

export const op = {
  create: (path: string, data = '', mode: CreateMode = 'persistent', session = 'session-0'): CreateOp =>
    ({ kind: 'create', path, data, mode, session }),
  set: (path: string, data: string, version = ANY_VERSION): SetOp => ({ kind: 'set', path, data, version }),
  delete: (path: string, version = ANY_VERSION): DeleteOp => ({ kind: 'delete', path, version }),
  check: (path: string, version = ANY_VERSION): CheckOp => ({ kind: 'check', path, version }),
  get: (path: string, local = false): GetOp => local ? { kind: 'get', path, local } : { kind: 'get', path },
  exists: (path: string, local = false): ExistsOp => local ? { kind: 'exists', path, local } : { kind: 'exists', path },
  children: (path: string, local = false): ChildrenOp => local ? { kind: 'children', path, local } : { kind: 'children', path },
  multi: (...ops: MultiSubOp[]): MultiOp => ({ kind: 'multi', ops }),
  closeSession: (session: string): CloseSessionOp => ({ kind: 'close-session', session }),
}

export const answer = {
  created: (path: string): ModelResult => ok({ kind: 'create', path }),
  setTo: (version: number): ModelResult => ok({ kind: 'set', version }),
  deleted: (): ModelResult => ok({ kind: 'delete' }),
  checked: (): ModelResult => ok({ kind: 'check' }),
  data: (data: string, version: number): ModelResult => ok({ kind: 'get', data, version }),
  exists: (version: number | null): ModelResult => ok({ kind: 'exists', version }),
  children: (...names: string[]): ModelResult => ok({ kind: 'children', names: [...names].sort() }),
  multi: (...results: OkValue[]): ModelResult => ok({ kind: 'multi', results }),
  closed: (): ModelResult => ok({ kind: 'close-session' }),
  error: (code: ZnodeErrorCode, opIndex?: number): ModelResult => fail(code, opIndex),
}

/** Builds a history by hand: `at(call, ret)` for completed operations, `maybe(call)` for timed-out ones. */
export class HistoryBuilder {
  private readonly ops: Operation[] = []

  add (client: string, call: number, ret: number, input: ModelOp, output: ModelResult): this {
    this.ops.push({ id: this.ops.length, client, call, ret, input, output })
    return this
  }

  /** A call that timed out: maybe applied at any time after `call`, maybe never. */
  maybe (client: string, call: number, input: ModelOp): this {
    this.ops.push({ id: this.ops.length, client, call, ret: null, input, output: null })
    return this
  }

  build (): Operation[] {
    return this.ops.map(operation => ({ ...operation }))
  }
}
