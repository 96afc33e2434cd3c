// multi: atomic, all ops share one zxid, per-op results, the failing op's index.
import { describe, expect, it } from 'vitest'
import { Harness, bytes } from './harness'

const S = 's'

describe('multi', () => {
  it('applies every op at one zxid and reports one result per op', () => {
    const h = new Harness()
    h.open(S)
    const out = h.txn(S, [
      { op: 'create', path: '/a', data: bytes('1'), mode: 'persistent' },
      { op: 'create', path: '/a/b', data: bytes(''), mode: 'persistent' },
      { op: 'set', path: '/a', data: bytes('22'), version: 0 },
      { op: 'check', path: '/a/b', version: 0 },
      { op: 'delete', path: '/a/b', version: 0 },
    ])
    const z = h.zxid
    expect(out.result.ok).toBe(true)
    if (!out.result.ok) return
    expect(out.result.results.map((r) => r.op)).toEqual(['create', 'create', 'set', 'check', 'delete'])
    expect(out.result.results[2]).toEqual({
      op: 'set',
      stat: { czxid: z, mzxid: z, pzxid: z, ctime: h.now, mtime: h.now, version: 1, cversion: 1, ephemeralOwner: null, dataLength: 2, numChildren: 1 },
    })
    expect(h.tree.stat('/a')).toMatchObject({ czxid: z, pzxid: z, cversion: 1, numChildren: 0, version: 1 })
    expect(out.events).toEqual([
      { type: 'created', path: '/a', zxid: z },
      { type: 'children', path: '/', zxid: z },
      { type: 'created', path: '/a/b', zxid: z },
      { type: 'children', path: '/a', zxid: z },
      { type: 'data', path: '/a', zxid: z },
      { type: 'deleted', path: '/a/b', zxid: z },
      { type: 'children', path: '/a', zxid: z },
    ])
  })

  it('a failing op undoes the earlier ones, reports its index and path, and emits nothing', () => {
    const h = new Harness()
    h.open(S)
    h.create(S, '/keep', 'k')
    h.create(S, '/gone', '')
    h.create(S, '/e', '', 'ephemeral')
    const digestBefore = observableState(h)
    const out = h.txn(S, [
      { op: 'create', path: '/new', data: bytes(''), mode: 'container' },
      { op: 'create', path: '/new/s-', data: bytes(''), mode: 'ephemeral-sequential' },
      { op: 'set', path: '/keep', data: bytes('changed'), version: -1 },
      { op: 'delete', path: '/gone', version: -1 },
      { op: 'delete', path: '/e', version: -1 },
      { op: 'check', path: '/keep', version: 0 }, // version is 1 after the set above
      { op: 'create', path: '/never', data: bytes(''), mode: 'persistent' },
    ])
    expect(out.result).toEqual({ ok: false, code: 'BAD_VERSION', path: '/keep', opIndex: 5, message: expect.any(String) })
    expect(out.events).toEqual([])
    expect(observableState(h)).toEqual(digestBefore)
    expect(h.tree.session(S)!.ephemerals).toEqual(['/e'])
    expect(h.tree.reapable(Number.MAX_SAFE_INTEGER)).toEqual([])
  })

  it('later ops are not evaluated after a failure (the first failure is reported)', () => {
    const h = new Harness()
    h.open(S)
    const r = h.txn(S, [
      { op: 'check', path: '/missing', version: -1 },
      { op: 'create', path: 'bad path', data: bytes(''), mode: 'persistent' },
    ]).result
    expect(r).toMatchObject({ ok: false, code: 'NO_NODE', opIndex: 0 })
  })

  it('ops see the effects of earlier ops in the same multi (sequential names included)', () => {
    const h = new Harness()
    h.open(S)
    const out = h.txn(S, [
      { op: 'create', path: '/q', data: bytes(''), mode: 'persistent' },
      { op: 'create', path: '/q/n-', data: bytes(''), mode: 'persistent-sequential' },
      { op: 'create', path: '/q/n-', data: bytes(''), mode: 'persistent-sequential' },
    ])
    expect(out.result.ok && out.result.results.map((r) => (r.op === 'create' ? r.path : ''))).toEqual(['/q', '/q/n-0000000000', '/q/n-0000000001'])
  })

  it('an empty multi succeeds with no results', () => {
    const h = new Harness()
    h.open(S)
    expect(h.txn(S, [], true).result).toEqual({ ok: true, results: [] })
  })

  it('a failed multi that re-creates what it deleted restores the original node', () => {
    const h = new Harness()
    h.open(S)
    h.create(S, '/a', 'orig')
    const stat = h.tree.stat('/a')
    const r = h.txn(S, [
      { op: 'delete', path: '/a', version: -1 },
      { op: 'create', path: '/a', data: bytes('new'), mode: 'persistent' },
      { op: 'check', path: '/nope', version: -1 },
    ]).result
    expect(r).toMatchObject({ ok: false, opIndex: 2 })
    expect(h.tree.stat('/a')).toEqual(stat)
    expect(new TextDecoder().decode(h.tree.get('/a')!.data)).toBe('orig')
  })
})

/** the state a failed txn must not touch: every node's stat and data, sessions, reapables */
function observableState(h: Harness): unknown {
  const out: Record<string, unknown> = {}
  const walk = (path: string): void => {
    const g = h.tree.get(path)!
    out[path] = { stat: g.stat, data: Array.from(g.data) }
    for (const c of h.tree.children(path)!) walk(path === '/' ? '/' + c : path + '/' + c)
  }
  walk('/')
  return { nodes: out, sessions: h.tree.sessions().map((s) => h.tree.session(s)) }
}
