// A tree driven like the node driver drives it: each command is the next log
// entry (zxid = index), the clock is a number the test moves.
import { expect } from 'vitest'
import { TreeError } from '../../src/tree/errors'
import { ZTree } from '../../src/tree/ztree'
import type { ApplyOutcome, Command, CreateMode, OpResult, Stat, TxnOp, TxnResult } from '../../src/tree/types'

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

export class Harness {
  readonly tree: ZTree
  zxid = 0
  now = 1_000
  private seqs = new Map<string, number>()

  constructor(tree = new ZTree()) {
    this.tree = tree
    this.zxid = tree.lastZxid
  }

  /** continue the sessions' seq counters of another harness (a replica restored from its snapshot) */
  continueSeqsOf(other: Harness): this {
    this.seqs = new Map(other.seqs)
    return this
  }

  apply(cmd: Command): ApplyOutcome {
    return this.tree.apply(++this.zxid, cmd)
  }

  open(session: string, timeoutMs = 10_000): ApplyOutcome {
    return this.apply({ type: 'open-session', session, timeoutMs, time: this.now })
  }

  close(session: string): ApplyOutcome {
    return this.apply({ type: 'close-session', session, time: this.now })
  }

  /** the next txn of a session, with its own seq counter */
  txn(session: string, ops: TxnOp[], multi = ops.length !== 1): ApplyOutcome {
    const seq = this.seqs.get(session) ?? 0
    this.seqs.set(session, seq + 1)
    return this.apply({ type: 'txn', session, seq, ackedBelow: seq, multi, ops, time: this.now })
  }

  /** one op; returns its result, throwing if the txn failed */
  ok(session: string, op: TxnOp): OpResult {
    const r = this.txn(session, [op]).result
    if (!r.ok) throw new Error(`${op.op} ${op.path} failed: ${r.code} ${r.message}`)
    return r.results[0]!
  }

  create(session: string, path: string, data = '', mode: CreateMode = 'persistent', ttlMs?: number): string {
    const op: TxnOp = ttlMs === undefined ? { op: 'create', path, data: bytes(data), mode } : { op: 'create', path, data: bytes(data), mode, ttlMs }
    const r = this.ok(session, op)
    if (r.op !== 'create') throw new Error('not a create result')
    return r.path
  }

  set(session: string, path: string, data: string, version = -1): Stat {
    const r = this.ok(session, { op: 'set', path, data: bytes(data), version })
    if (r.op !== 'set') throw new Error('not a set result')
    return r.stat
  }

  /** the failing code of a one-op txn */
  code(session: string, op: TxnOp): string {
    const r: TxnResult = this.txn(session, [op]).result
    return r.ok ? 'OK' : r.code
  }
}

/** asserts that f throws TreeError BAD_ARGUMENTS (and nothing else) */
export const expectBadArguments = (f: () => unknown): void => {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(TreeError)
    expect((err as TreeError).code).toBe('BAD_ARGUMENTS')
    return
  }
  expect.unreachable('should have thrown BAD_ARGUMENTS')
}
