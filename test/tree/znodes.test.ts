// ZooKeeper's znode operations, stat by stat.
import { describe, expect, it } from 'vitest'
import { ZTree } from '../../src/tree/ztree'
import { Harness, bytes } from './harness'

const S = 'session-1'
const fresh = (): Harness => {
  const h = new Harness()
  h.open(S)
  return h
}

describe('create', () => {
  it('a persistent node: czxid = mzxid = pzxid = the entry index, ctime = mtime = the command time, version 0', () => {
    const h = fresh()
    h.now = 5_000
    h.create(S, '/a', 'hello')
    const got = h.tree.get('/a')!
    expect(new TextDecoder().decode(got.data)).toBe('hello')
    expect(got.stat).toEqual({
      czxid: h.zxid,
      mzxid: h.zxid,
      pzxid: h.zxid,
      ctime: 5_000,
      mtime: 5_000,
      version: 0,
      cversion: 0,
      ephemeralOwner: null,
      dataLength: 5,
      numChildren: 0,
    })
  })

  it("moves the parent's pzxid, cversion and numChildren, not its mzxid or version", () => {
    const h = fresh()
    h.create(S, '/p')
    const before = h.tree.stat('/p')!
    h.create(S, '/p/c1')
    h.create(S, '/p/c2')
    const after = h.tree.stat('/p')!
    expect(after.pzxid).toBe(h.zxid)
    expect(after.cversion).toBe(before.cversion + 2)
    expect(after.numChildren).toBe(2)
    expect(after.mzxid).toBe(before.mzxid)
    expect(after.version).toBe(before.version)
    expect(h.tree.children('/p')).toEqual(['c1', 'c2'])
  })

  it('needs the parent (NO_NODE) and refuses an existing path (NODE_EXISTS), the root included', () => {
    const h = fresh()
    expect(h.code(S, { op: 'create', path: '/x/y', data: bytes(''), mode: 'persistent' })).toBe('NO_NODE')
    h.create(S, '/x')
    expect(h.code(S, { op: 'create', path: '/x', data: bytes(''), mode: 'persistent' })).toBe('NODE_EXISTS')
    expect(h.code(S, { op: 'create', path: '/', data: bytes(''), mode: 'persistent' })).toBe('NODE_EXISTS')
  })

  it('refuses bad paths with BAD_ARGUMENTS naming the path', () => {
    const h = fresh()
    const r = h.txn(S, [{ op: 'create', path: '/a/../b', data: bytes(''), mode: 'persistent' }]).result
    expect(r).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS', path: '/a/../b' })
  })

  it('refuses data above maxDataBytes with TOO_LARGE (default 1 MiB)', () => {
    const h = new Harness(new ZTree({ maxDataBytes: 4 }))
    h.open(S)
    expect(h.code(S, { op: 'create', path: '/a', data: bytes('12345'), mode: 'persistent' })).toBe('TOO_LARGE')
    expect(h.code(S, { op: 'create', path: '/a', data: bytes('1234'), mode: 'persistent' })).toBe('OK')
    expect(h.code(S, { op: 'set', path: '/a', data: bytes('12345'), version: -1 })).toBe('TOO_LARGE')
    const big = new Harness()
    big.open(S)
    expect(big.code(S, { op: 'create', path: '/m', data: new Uint8Array(1024 * 1024), mode: 'persistent' })).toBe('OK')
    expect(big.code(S, { op: 'create', path: '/n', data: new Uint8Array(1024 * 1024 + 1), mode: 'persistent' })).toBe('TOO_LARGE')
  })

  it('sequential: appends the parent cversion as 10 zero-padded digits (it counts creations, never decreases)', () => {
    const h = fresh()
    h.create(S, '/q')
    expect(h.create(S, '/q/item-', '', 'persistent-sequential')).toBe('/q/item-0000000000')
    expect(h.create(S, '/q/item-', '', 'persistent-sequential')).toBe('/q/item-0000000001')
    h.create(S, '/q/other')
    h.ok(S, { op: 'delete', path: '/q/other', version: -1 })
    // cversion is now 3: three creates (a delete moves pzxid, not cversion)
    expect(h.create(S, '/q/item-', '', 'persistent-sequential')).toBe('/q/item-0000000003')
    // a path ending in '/' makes the counter the whole name
    expect(h.create(S, '/q/', '', 'persistent-sequential')).toBe('/q/0000000004')
    expect(h.tree.children('/q')).toEqual(['0000000004', 'item-0000000000', 'item-0000000001', 'item-0000000003'])
  })

  it('sequential: NODE_EXISTS when the generated name is taken (as ZooKeeper)', () => {
    const h = fresh()
    h.create(S, '/q')
    h.create(S, '/q/n0000000001')
    // cversion 1 → the next sequential name is n0000000001
    expect(h.code(S, { op: 'create', path: '/q/n', data: bytes(''), mode: 'persistent-sequential' })).toBe('NODE_EXISTS')
  })

  it('ephemeral: owned by the creating session, no children allowed (NO_CHILDREN_FOR_EPHEMERALS)', () => {
    const h = fresh()
    h.create(S, '/e', '', 'ephemeral')
    expect(h.tree.stat('/e')!.ephemeralOwner).toBe(S)
    expect(h.tree.session(S)!.ephemerals).toEqual(['/e'])
    expect(h.code(S, { op: 'create', path: '/e/c', data: bytes(''), mode: 'persistent' })).toBe('NO_CHILDREN_FOR_EPHEMERALS')
    expect(h.create(S, '/es-', '', 'ephemeral-sequential')).toBe('/es-0000000001')
    expect(h.tree.stat('/es-0000000001')!.ephemeralOwner).toBe(S)
  })

  it('ttl modes need a positive ttlMs; other modes must not carry one', () => {
    const h = fresh()
    expect(h.code(S, { op: 'create', path: '/t', data: bytes(''), mode: 'ttl' })).toBe('BAD_ARGUMENTS')
    expect(h.code(S, { op: 'create', path: '/t', data: bytes(''), mode: 'ttl', ttlMs: 0 })).toBe('BAD_ARGUMENTS')
    expect(h.code(S, { op: 'create', path: '/t', data: bytes(''), mode: 'persistent', ttlMs: 5 })).toBe('BAD_ARGUMENTS')
    expect(h.code(S, { op: 'create', path: '/t', data: bytes(''), mode: 'ttl', ttlMs: 5 })).toBe('OK')
    expect(h.create(S, '/t-', '', 'ttl-sequential', 5)).toBe('/t-0000000001')
    expect(h.tree.stat('/t')!.ephemeralOwner).toBeNull()
  })

  it('emits created on the node and children on the parent', () => {
    const h = fresh()
    const out = h.txn(S, [{ op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }])
    expect(out.events).toEqual([
      { type: 'created', path: '/a', zxid: h.zxid },
      { type: 'children', path: '/', zxid: h.zxid },
    ])
  })

  it('keeps its own copy of the data', () => {
    const h = fresh()
    const data = bytes('abc')
    h.txn(S, [{ op: 'create', path: '/a', data, mode: 'persistent' }])
    data[0] = 0
    expect(new TextDecoder().decode(h.tree.get('/a')!.data)).toBe('abc')
  })
})

describe('set', () => {
  it('bumps version, mzxid and mtime; keeps czxid and ctime; reports the new stat', () => {
    const h = fresh()
    h.create(S, '/a', 'one')
    const created = h.tree.stat('/a')!
    h.now += 50
    const stat = h.set(S, '/a', 'three', 0)
    expect(stat).toEqual({ ...created, mzxid: h.zxid, mtime: h.now, version: 1, dataLength: 5 })
    expect(h.tree.stat('/a')).toEqual(stat)
  })

  it('BAD_VERSION on a mismatched expected version; -1 matches any', () => {
    const h = fresh()
    h.create(S, '/a')
    h.set(S, '/a', 'x')
    expect(h.code(S, { op: 'set', path: '/a', data: bytes('y'), version: 0 })).toBe('BAD_VERSION')
    expect(h.code(S, { op: 'set', path: '/a', data: bytes('y'), version: 1 })).toBe('OK')
    expect(h.code(S, { op: 'set', path: '/a', data: bytes('z'), version: -1 })).toBe('OK')
    expect(h.tree.stat('/a')!.version).toBe(3)
  })

  it('NO_NODE on a missing node; emits data on success', () => {
    const h = fresh()
    expect(h.code(S, { op: 'set', path: '/nope', data: bytes(''), version: -1 })).toBe('NO_NODE')
    h.create(S, '/a')
    expect(h.txn(S, [{ op: 'set', path: '/a', data: bytes('1'), version: -1 }]).events).toEqual([{ type: 'data', path: '/a', zxid: h.zxid }])
  })

  it('setting the root is allowed', () => {
    const h = fresh()
    h.set(S, '/', 'root data')
    expect(h.tree.stat('/')!.version).toBe(1)
  })
})

describe('delete', () => {
  it('removes the node and moves the parent pzxid and numChildren, not its cversion (as ZooKeeper)', () => {
    const h = fresh()
    h.create(S, '/p')
    h.create(S, '/p/c')
    const before = h.tree.stat('/p')!
    const out = h.txn(S, [{ op: 'delete', path: '/p/c', version: 0 }])
    expect(out.result.ok).toBe(true)
    expect(h.tree.get('/p/c')).toBeNull()
    expect(h.tree.stat('/p')).toEqual({ ...before, pzxid: h.zxid, numChildren: 0 })
    expect(out.events).toEqual([
      { type: 'deleted', path: '/p/c', zxid: h.zxid },
      { type: 'children', path: '/p', zxid: h.zxid },
    ])
  })

  it('NO_NODE, BAD_VERSION, NOT_EMPTY — checked in that order (as ZooKeeper)', () => {
    const h = fresh()
    expect(h.code(S, { op: 'delete', path: '/p', version: -1 })).toBe('NO_NODE')
    h.create(S, '/p')
    h.create(S, '/p/c')
    expect(h.code(S, { op: 'delete', path: '/p', version: 3 })).toBe('BAD_VERSION')
    expect(h.code(S, { op: 'delete', path: '/p', version: 0 })).toBe('NOT_EMPTY')
    expect(h.code(S, { op: 'delete', path: '/p', version: -1 })).toBe('NOT_EMPTY')
  })

  it('the root cannot be deleted', () => {
    const h = fresh()
    expect(h.code(S, { op: 'delete', path: '/', version: -1 })).toBe('BAD_ARGUMENTS')
    expect(h.tree.stat('/')).not.toBeNull()
  })

  it("deleting an ephemeral removes it from its session's list", () => {
    const h = fresh()
    h.create(S, '/e', '', 'ephemeral')
    h.ok(S, { op: 'delete', path: '/e', version: -1 })
    expect(h.tree.session(S)!.ephemerals).toEqual([])
  })
})

describe('check and fence', () => {
  it('check: NO_NODE, BAD_VERSION, or success without change', () => {
    const h = fresh()
    expect(h.code(S, { op: 'check', path: '/a', version: -1 })).toBe('NO_NODE')
    h.create(S, '/a')
    const digest = h.tree.digest()
    expect(h.code(S, { op: 'check', path: '/a', version: 1 })).toBe('BAD_VERSION')
    const out = h.txn(S, [{ op: 'check', path: '/a', version: 0 }])
    expect(out.result).toEqual({ ok: true, results: [{ op: 'check' }] })
    expect(out.events).toEqual([])
    expect(h.tree.stat('/a')!.version).toBe(0)
    expect(h.tree.digest()).not.toBe(digest) // lastZxid and the dedup table moved, nothing else
  })

  it('fence: passes only while the node at path has czxid === token (a lock holder still holds it)', () => {
    const h = fresh()
    const lock = h.create(S, '/lock-', '', 'ephemeral-sequential')
    const token = h.tree.stat(lock)!.czxid
    expect(h.code(S, { op: 'fence', path: lock, token })).toBe('OK')
    expect(h.code(S, { op: 'fence', path: lock, token: token + 1 })).toBe('FENCED')
    h.ok(S, { op: 'delete', path: lock, version: -1 })
    expect(h.code(S, { op: 'fence', path: lock, token })).toBe('FENCED')
  })

  it('a fenced set is refused as a whole', () => {
    const h = fresh()
    h.create(S, '/data', 'v0')
    const lock = h.create(S, '/lock', '', 'ephemeral')
    const token = h.tree.stat(lock)!.czxid
    h.ok(S, { op: 'delete', path: lock, version: -1 })
    const r = h.txn(S, [
      { op: 'fence', path: lock, token },
      { op: 'set', path: '/data', data: bytes('v1'), version: -1 },
    ]).result
    expect(r).toMatchObject({ ok: false, code: 'FENCED', opIndex: 0, path: lock })
    expect(new TextDecoder().decode(h.tree.get('/data')!.data)).toBe('v0')
  })
})

describe('reads', () => {
  it('get, stat and children return null for a missing node', () => {
    const h = fresh()
    expect(h.tree.get('/x')).toBeNull()
    expect(h.tree.stat('/x')).toBeNull()
    expect(h.tree.children('/x')).toBeNull()
  })

  it('children are sorted by name', () => {
    const h = fresh()
    for (const n of ['b', 'a', 'c', 'B', '10', '9']) h.create(S, '/' + n)
    expect(h.tree.children('/')).toEqual(['10', '9', 'B', 'a', 'b', 'c'])
  })

  it('a returned stat is a copy', () => {
    const h = fresh()
    h.create(S, '/a')
    h.tree.stat('/a')!.version = 99
    expect(h.tree.stat('/a')!.version).toBe(0)
  })
})

describe('apply', () => {
  it('lastZxid follows every applied entry, noop included', () => {
    const h = fresh()
    h.apply({ type: 'noop', time: 1 })
    expect(h.tree.lastZxid).toBe(h.zxid)
  })

  it('an entry at or below lastZxid changes nothing (already applied)', () => {
    const h = fresh()
    h.create(S, '/a')
    const digest = h.tree.digest()
    const out = h.tree.apply(h.zxid, { type: 'txn', session: S, seq: 50, ackedBelow: 0, multi: false, ops: [{ op: 'delete', path: '/a', version: -1 }], time: 1 })
    expect(out.result).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' })
    expect(out.deduped).toBe(true)
    expect(h.tree.digest()).toBe(digest)
  })

  it('a malformed command yields BAD_ARGUMENTS instead of throwing', () => {
    const h = fresh()
    const bad = [
      { type: 'open-session', session: '', timeoutMs: 10, time: 1 },
      { type: 'open-session', session: 'x', timeoutMs: -1, time: 1 },
      { type: 'what', time: 1 },
      { type: 'txn', session: S, seq: -1, ackedBelow: 0, multi: false, ops: [], time: 1 },
      { type: 'txn', session: S, seq: 900, ackedBelow: 0, multi: false, ops: [], time: 1 },
      { type: 'txn', session: S, seq: 901, ackedBelow: 0, multi: false, ops: [{ op: 'zap', path: '/' }], time: 1 },
      { type: 'txn', session: S, seq: 902, ackedBelow: 0, multi: true, ops: [{ op: 'set', path: '/', data: 'str', version: -1 }], time: 1 },
      { type: 'reap', nodes: [{ path: 'x', czxid: 1 }], time: 1 },
      null,
    ]
    for (const cmd of bad) {
      const out = h.tree.apply(++h.zxid, cmd as never)
      expect(out.result, JSON.stringify(cmd)).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' })
      expect(out.events).toEqual([])
    }
  })
})
