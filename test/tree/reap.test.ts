// Containers and TTL nodes: the leader finds them with reapable(now) and
// proposes a `reap`; each replica deletes a node only if it still qualifies.
import { describe, expect, it } from 'vitest'
import { Harness, bytes } from './harness'

const S = 's'
const setup = (): Harness => {
  const h = new Harness()
  h.open(S)
  return h
}

describe('containers', () => {
  it('a container that never had a child is not reapable', () => {
    const h = setup()
    h.create(S, '/c', '', 'container')
    expect(h.tree.reapable(h.now + 1e9)).toEqual([])
  })

  it('a container whose last child went is reapable; reap deletes it with events', () => {
    const h = setup()
    h.create(S, '/c', '', 'container')
    h.create(S, '/c/x', '', 'ephemeral')
    expect(h.tree.reapable(h.now)).toEqual([])
    h.close(S)
    const czxid = h.tree.stat('/c')!.czxid
    expect(h.tree.reapable(h.now)).toEqual([{ path: '/c', czxid }])
    const out = h.apply({ type: 'reap', nodes: h.tree.reapable(h.now), time: h.now })
    expect(out.result).toEqual({ ok: true, results: [{ op: 'delete' }] })
    expect(out.events).toEqual([
      { type: 'deleted', path: '/c', zxid: h.zxid },
      { type: 'children', path: '/', zxid: h.zxid },
    ])
    expect(h.tree.stat('/c')).toBeNull()
  })

  it('reap skips a container that gained a child since, and one re-created under the same path', () => {
    const h = setup()
    h.create(S, '/c', '', 'container')
    h.create(S, '/c/x')
    h.ok(S, { op: 'delete', path: '/c/x', version: -1 })
    const proposal = h.tree.reapable(h.now)
    h.create(S, '/c/y')
    expect(h.apply({ type: 'reap', nodes: proposal, time: h.now }).result).toEqual({ ok: true, results: [] })
    expect(h.tree.stat('/c')).not.toBeNull()
    h.ok(S, { op: 'delete', path: '/c/y', version: -1 })
    h.ok(S, { op: 'delete', path: '/c', version: -1 })
    h.create(S, '/c', '', 'container')
    expect(h.apply({ type: 'reap', nodes: proposal, time: h.now }).events).toEqual([])
    expect(h.tree.stat('/c')).not.toBeNull()
  })
})

describe('TTL nodes', () => {
  it('expire when unchanged and childless for longer than their ttl', () => {
    const h = setup()
    h.now = 10_000
    h.create(S, '/t', '', 'ttl', 500)
    expect(h.tree.reapable(10_500)).toEqual([])
    expect(h.tree.reapable(10_501)).toEqual([{ path: '/t', czxid: h.tree.stat('/t')!.czxid }])
  })

  it('a set restarts the clock (mtime)', () => {
    const h = setup()
    h.now = 10_000
    h.create(S, '/t', '', 'ttl', 500)
    h.now = 10_400
    h.set(S, '/t', 'touch')
    expect(h.tree.reapable(10_600)).toEqual([])
    expect(h.tree.reapable(10_901).map((n) => n.path)).toEqual(['/t'])
  })

  it('a TTL node with children never expires; the clock restarts when its last child goes', () => {
    const h = setup()
    h.now = 0
    h.create(S, '/t', '', 'ttl', 100)
    h.create(S, '/t/c')
    expect(h.tree.reapable(1_000)).toEqual([])
    h.now = 1_000
    h.ok(S, { op: 'delete', path: '/t/c', version: -1 })
    expect(h.tree.reapable(1_050)).toEqual([])
    expect(h.tree.reapable(1_101).map((n) => n.path)).toEqual(['/t'])
  })

  it('each replica re-checks at the reap command time: a node touched after the proposal stays', () => {
    const h = setup()
    h.now = 0
    h.create(S, '/t', '', 'ttl', 100)
    const proposal = h.tree.reapable(200)
    h.now = 150
    h.set(S, '/t', 'touched')
    expect(h.apply({ type: 'reap', nodes: proposal, time: 200 }).result).toEqual({ ok: true, results: [] })
    expect(h.tree.stat('/t')).not.toBeNull()
    expect(h.apply({ type: 'reap', nodes: proposal, time: 251 }).result).toEqual({ ok: true, results: [{ op: 'delete' }] })
  })

  it('reap never deletes persistent or ephemeral nodes, even when named', () => {
    const h = setup()
    h.create(S, '/p')
    h.create(S, '/e', '', 'ephemeral')
    const nodes = ['/p', '/e'].map((path) => ({ path, czxid: h.tree.stat(path)!.czxid }))
    expect(h.apply({ type: 'reap', nodes, time: 1e12 }).events).toEqual([])
    expect(h.tree.children('/')).toEqual(['e', 'p'])
  })

  it('reapable lists sorted by path', () => {
    const h = setup()
    h.now = 0
    for (const p of ['/z', '/a', '/m']) h.txn(S, [{ op: 'create', path: p, data: bytes(''), mode: 'ttl', ttlMs: 1 }])
    expect(h.tree.reapable(10).map((n) => n.path)).toEqual(['/a', '/m', '/z'])
  })
})
