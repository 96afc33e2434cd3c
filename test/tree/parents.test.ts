// A create with `parents` makes its missing ancestors in the same entry
// (Curator's creatingParentContainersIfNeeded / creatingParentsIfNeeded, done
// in the state machine so a recipe's first node costs one commit, not one per
// ancestor plus a failed try).
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { COMMAND_FORMAT_VERSION, decodeCommand, encodeCommand } from '../../src/tree/command'
import { WatchTable } from '../../src/tree/watches'
import { ZTree } from '../../src/tree/ztree'
import type { Delivery } from '../../src/tree/watches'
import type { Command, ParentsMode, TxnOp } from '../../src/tree/types'
import { Harness, bytes, expectBadArguments } from './harness'

const S = 's'
const fresh = (): Harness => {
  const h = new Harness()
  h.open(S)
  return h
}
const create = (path: string, mode: Extract<TxnOp, { op: 'create' }>['mode'], parents?: ParentsMode, data = ''): TxnOp =>
  parents === undefined ? { op: 'create', path, data: bytes(data), mode } : { op: 'create', path, data: bytes(data), mode, parents }

describe('create with parents', () => {
  it('makes every missing ancestor, top-down, in the entry of the create: same zxid, empty, of the kind asked', () => {
    const h = fresh()
    h.create(S, '/a')
    h.now = 7_000
    const out = h.txn(S, [create('/a/b/c/leaf', 'persistent', 'container', 'x')])
    expect(out.result).toMatchObject({ ok: true, results: [{ op: 'create', path: '/a/b/c/leaf' }] })
    for (const p of ['/a/b', '/a/b/c']) {
      const got = h.tree.get(p)!
      expect(got.stat).toMatchObject({ czxid: h.zxid, mzxid: h.zxid, pzxid: h.zxid, ctime: 7_000, cversion: 1, numChildren: 1, dataLength: 0 })
      expect(h.tree.kind(p)).toBe('container')
    }
    expect(h.tree.stat('/a/b/c/leaf')).toMatchObject({ czxid: h.zxid, dataLength: 1 })
    expect(h.tree.stat('/a')).toMatchObject({ cversion: 1, pzxid: h.zxid })
    // the events, parents first, every one at the entry's zxid
    expect(out.events.map((e) => `${e.type}:${e.path}@${e.zxid}`)).toEqual([
      `created:/a/b@${h.zxid}`,
      `children:/a@${h.zxid}`,
      `created:/a/b/c@${h.zxid}`,
      `children:/a/b@${h.zxid}`,
      `created:/a/b/c/leaf@${h.zxid}`,
      `children:/a/b/c@${h.zxid}`,
    ])
  })

  it("persistent parents are persistent; container parents are reaped once their last child went, deepest first", () => {
    const h = fresh()
    h.txn(S, [create('/p/q/x', 'ephemeral', 'persistent')])
    h.txn(S, [create('/c/d/x', 'ephemeral', 'container')])
    expect(h.tree.kind('/p/q')).toBe('persistent')
    expect(h.tree.kind('/c/d')).toBe('container')
    expect(h.tree.reapable(h.now + 1e9)).toEqual([])
    h.close(S) // the ephemerals go
    expect(h.tree.reapable(h.now).map((n) => n.path)).toEqual(['/c/d'])
    h.apply({ type: 'reap', nodes: h.tree.reapable(h.now), time: h.now })
    expect(h.tree.reapable(h.now).map((n) => n.path)).toEqual(['/c'])
    h.apply({ type: 'reap', nodes: h.tree.reapable(h.now), time: h.now })
    expect(h.tree.stat('/c')).toBeNull()
    expect(h.tree.children('/p')).toEqual(['q'])
  })

  it('numbers a sequential child of a parent it made from 0000000000, and of an existing one from its cversion', () => {
    const h = fresh()
    const first = h.txn(S, [create('/locks/x/lock-', 'ephemeral-sequential', 'container')]).result
    expect(first).toMatchObject({ ok: true, results: [{ path: '/locks/x/lock-0000000000' }] })
    const second = h.txn(S, [create('/locks/x/lock-', 'ephemeral-sequential', 'container')]).result
    expect(second).toMatchObject({ ok: true, results: [{ path: '/locks/x/lock-0000000001' }] })
    const bare = h.txn(S, [create('/q/', 'persistent-sequential', 'persistent')]).result
    expect(bare).toMatchObject({ ok: true, results: [{ path: '/q/0000000000' }] })
    // the stat of the create is the node's, so its czxid (a lock's fencing token) is known at once
    if (!second.ok || second.results[0]!.op !== 'create') throw new Error('expected a create result')
    expect(second.results[0]!.stat).toEqual(h.tree.stat('/locks/x/lock-0000000001'))
  })

  it('changes nothing when the parents exist: the same node, stats and events as a plain create', () => {
    const plain = fresh()
    const withParents = fresh()
    for (const h of [plain, withParents]) h.create(S, '/a')
    const a = plain.txn(S, [create('/a/b', 'persistent')])
    const b = withParents.txn(S, [create('/a/b', 'persistent', 'container')])
    expect(b.result).toEqual(a.result)
    expect(b.events).toEqual(a.events)
    expect(withParents.tree.kind('/a')).toBe('persistent')
  })

  it('is atomic with the create: a failing create (or a later failing op of its multi) makes no parent', () => {
    const h = fresh()
    const tooLarge = new ZTreeWithSmallData()
    tooLarge.open(S)
    expect(tooLarge.code(S, create('/big/x', 'persistent', 'container', 'too large'))).toBe('TOO_LARGE')
    expect(tooLarge.tree.stat('/big')).toBeNull()
    const out = h.txn(S, [create('/m/n/x', 'persistent', 'persistent'), { op: 'check', path: '/nowhere', version: -1 }], true)
    expect(out.result).toMatchObject({ ok: false, code: 'NO_NODE', opIndex: 1 })
    expect(out.events).toEqual([])
    expect(h.tree.children('/')).toEqual([])
    expect(h.tree.nodeCount).toBe(1)
  })

  it('refuses to put the made parents under an ephemeral (NO_CHILDREN_FOR_EPHEMERALS), and an existing node (NODE_EXISTS)', () => {
    const h = fresh()
    h.create(S, '/e', '', 'ephemeral')
    expect(h.code(S, create('/e/a/b', 'persistent', 'container'))).toBe('NO_CHILDREN_FOR_EPHEMERALS')
    expect(h.code(S, create('/e/a', 'persistent', 'persistent'))).toBe('NO_CHILDREN_FOR_EPHEMERALS')
    expect(h.tree.children('/e')).toEqual([])
    h.create(S, '/x')
    expect(h.code(S, create('/x', 'persistent', 'container'))).toBe('NODE_EXISTS')
    expect(h.code(S, create('/', 'persistent', 'container'))).toBe('NODE_EXISTS')
  })

  it('refuses ephemeral or unknown parent modes (BAD_ARGUMENTS), changing nothing', () => {
    const h = fresh()
    for (const parents of ['ephemeral', 'ephemeral-sequential', 'ttl', 'persistent-sequential', '', 'CONTAINER', 1, null]) {
      const op = { op: 'create', path: '/r/s/t', data: bytes(''), mode: 'persistent', parents } as unknown as TxnOp
      expect(h.code(S, op)).toBe('BAD_ARGUMENTS')
      const cmd: Command = { type: 'txn', session: S, seq: 0, ackedBelow: 0, multi: false, ops: [op], time: 0 }
      expectBadArguments(() => encodeCommand(cmd))
    }
    expect(h.tree.children('/')).toEqual([])
  })

  it('fires the watches of the parents it made, as if each was created on its own', () => {
    const h = fresh()
    const w = new WatchTable()
    w.add({ owner: 'm', key: 'exists', path: '/w', kind: 'exists' })
    w.add({ owner: 'm', key: 'root-children', path: '/', kind: 'children' })
    w.add({ owner: 'm', key: 'deep', path: '/w/v', kind: 'exists' })
    w.add({ owner: 'm', key: 'tree', path: '/w', kind: 'persistent-recursive' })
    const brief = (ds: Delivery[]): string[] => ds.map((d) => `${d.key}:${d.event.type}:${d.event.path}`).sort()
    expect(brief(w.fire(h.txn(S, [create('/w/v/leaf', 'persistent', 'container')]).events))).toEqual([
      'deep:created:/w/v',
      'exists:created:/w',
      'root-children:children:/',
      'tree:created:/w',
      'tree:created:/w/v',
      'tree:created:/w/v/leaf',
    ])
  })
})

describe('the parents field in the command codec', () => {
  it('round-trips, and a create without parents keeps the bytes it always had', () => {
    const base: TxnOp = { op: 'create', path: '/a', data: bytes('d'), mode: 'ephemeral-sequential' }
    const txn = (op: TxnOp): Command => ({ type: 'txn', session: 's', seq: 0, ackedBelow: 0, multi: false, ops: [op], time: 1 })
    for (const parents of ['container', 'persistent'] as const) {
      const cmd = txn({ ...base, parents })
      expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd)
    }
    const ttl = txn({ op: 'create', path: '/t', data: bytes(''), mode: 'ttl', ttlMs: 5, parents: 'persistent' })
    expect(decodeCommand(encodeCommand(ttl))).toEqual(ttl)
    // version, txn, session "s", seq, ackedBelow, multi, op count, op tag 0 (create), path "/a", data "d", mode 3, time
    expect(Array.from(encodeCommand(txn(base)))).toEqual([COMMAND_FORMAT_VERSION, 3, 1, 0x73, 0, 0, 0, 1, 0, 2, 0x2f, 0x61, 1, 0x64, 3, 1])
    // with parents: op tag 5 and the parents mode after the create's fields
    expect(Array.from(encodeCommand(txn({ ...base, parents: 'persistent' })))).toEqual([COMMAND_FORMAT_VERSION, 3, 1, 0x73, 0, 0, 0, 1, 5, 2, 0x2f, 0x61, 1, 0x64, 3, 1, 1])
  })

  it('refuses a forged parents mode, a tag-5 op cut short, and a parents byte on a plain create', () => {
    const txnBytes = (tag: number, tail: number[]): Uint8Array => {
      const e = encoding.createEncoder()
      for (const b of [COMMAND_FORMAT_VERSION, 3, 1, 0x73, 0, 0, 0, 1, tag, 2, 0x2f, 0x61, 0, 0]) encoding.writeUint8(e, b)
      for (const b of tail) encoding.writeUint8(e, b)
      return encoding.toUint8Array(e)
    }
    expect(decodeCommand(txnBytes(5, [0, 9]))).toMatchObject({ ops: [{ parents: 'container' }], time: 9 })
    expect(decodeCommand(txnBytes(0, [9]))).toMatchObject({ ops: [{ op: 'create', path: '/a' }], time: 9 })
    for (const forged of [2, 3, 0xff]) expectBadArguments(() => decodeCommand(txnBytes(5, [forged, 9])))
    expectBadArguments(() => decodeCommand(txnBytes(5, []))) // no parents byte, no time
    expectBadArguments(() => decodeCommand(txnBytes(0, [0, 9]))) // a stray byte: trailing
    expectBadArguments(() => decodeCommand(txnBytes(6, [0, 9]))) // no op has tag 6
  })
})

/** a tree whose data bound is 4 bytes, to make a create fail after its parents were listed */
class ZTreeWithSmallData extends Harness {
  constructor() {
    super(new ZTree({ maxDataBytes: 4 }))
  }
}
