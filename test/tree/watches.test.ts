// Watch matching with ZooKeeper's semantics, driven by the tree's real events.
import { describe, expect, it } from 'vitest'
import { WatchTable } from '../../src/tree/watches'
import type { Delivery, WatchKind } from '../../src/tree/watches'
import { Harness, bytes } from './harness'

const S = 's'
const setup = (): { h: Harness; w: WatchTable } => {
  const h = new Harness()
  h.open(S)
  return { h, w: new WatchTable() }
}
const watch = (w: WatchTable, path: string, kind: WatchKind, key: string = kind, owner = 'm1'): void => w.add({ owner, key, path, kind })
const brief = (ds: Delivery[]): string[] => ds.map((d) => `${d.key}:${d.event.type}:${d.event.path}`)

describe('one-shot watches', () => {
  it('a data watch fires once on data, then is gone', () => {
    const { h, w } = setup()
    h.create(S, '/a')
    watch(w, '/a', 'data')
    expect(brief(w.fire(h.txn(S, [{ op: 'set', path: '/a', data: bytes('1'), version: -1 }]).events))).toEqual(['data:data:/a'])
    expect(w.fire(h.txn(S, [{ op: 'set', path: '/a', data: bytes('2'), version: -1 }]).events)).toEqual([])
    expect(w.size).toBe(0)
  })

  it('a data watch fires on deleted; not on children or created', () => {
    const { h, w } = setup()
    h.create(S, '/a')
    watch(w, '/a', 'data')
    expect(w.fire(h.txn(S, [{ op: 'create', path: '/a/c', data: bytes(''), mode: 'persistent' }]).events)).toEqual([])
    h.ok(S, { op: 'delete', path: '/a/c', version: -1 })
    expect(brief(w.fire(h.txn(S, [{ op: 'delete', path: '/a', version: -1 }]).events))).toEqual(['data:deleted:/a'])
  })

  it('an exists watch fires on created, on data and on deleted', () => {
    for (const [setupOps, trigger, expected] of [
      [[], { op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }, 'exists:created:/a'],
      [[{ op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }], { op: 'set', path: '/a', data: bytes('x'), version: -1 }, 'exists:data:/a'],
      [[{ op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }], { op: 'delete', path: '/a', version: -1 }, 'exists:deleted:/a'],
    ] as const) {
      const { h, w } = setup()
      for (const op of setupOps) h.ok(S, op)
      watch(w, '/a', 'exists')
      expect(brief(w.fire(h.txn(S, [trigger]).events))).toEqual([expected])
      expect(w.size).toBe(0)
    }
  })

  it('a child watch fires on children (create or delete of a child) and on deleted, not on data', () => {
    const { h, w } = setup()
    h.create(S, '/p')
    watch(w, '/p', 'children')
    expect(w.fire(h.txn(S, [{ op: 'set', path: '/p', data: bytes('x'), version: -1 }]).events)).toEqual([])
    expect(brief(w.fire(h.txn(S, [{ op: 'create', path: '/p/c', data: bytes(''), mode: 'persistent' }]).events))).toEqual(['children:children:/p'])
    watch(w, '/p', 'children')
    expect(brief(w.fire(h.txn(S, [{ op: 'delete', path: '/p/c', version: -1 }]).events))).toEqual(['children:children:/p'])
    watch(w, '/p', 'children')
    expect(brief(w.fire(h.txn(S, [{ op: 'delete', path: '/p', version: -1 }]).events))).toEqual(['children:deleted:/p'])
  })

  it('one event reaches a watcher once even when several of its registrations match; all those one-shots are used up', () => {
    const { h, w } = setup()
    h.create(S, '/a')
    w.add({ owner: 'm1', key: 'cb', path: '/a', kind: 'data' })
    w.add({ owner: 'm1', key: 'cb', path: '/a', kind: 'children' })
    w.add({ owner: 'm2', key: 'cb', path: '/a', kind: 'data' })
    const ds = w.fire(h.txn(S, [{ op: 'delete', path: '/a', version: -1 }]).events)
    expect(ds.map((d) => `${d.owner}/${d.key}:${d.event.type}`)).toEqual(['m1/cb:deleted', 'm2/cb:deleted'])
    expect(w.size).toBe(0)
  })

  it('registering the same watch twice keeps one', () => {
    const w = new WatchTable()
    watch(w, '/a', 'data')
    watch(w, '/a', 'data')
    expect(w.size).toBe(1)
  })
})

describe('persistent watches', () => {
  it('a persistent watch hears every event of its path and stays', () => {
    const { h, w } = setup()
    watch(w, '/a', 'persistent')
    const events = [
      ...h.txn(S, [{ op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }]).events,
      ...h.txn(S, [{ op: 'set', path: '/a', data: bytes('1'), version: -1 }]).events,
      ...h.txn(S, [{ op: 'create', path: '/a/c', data: bytes(''), mode: 'persistent' }]).events,
      ...h.txn(S, [{ op: 'delete', path: '/a/c', version: -1 }]).events,
      ...h.txn(S, [{ op: 'delete', path: '/a', version: -1 }]).events,
    ]
    expect(brief(w.fire(events))).toEqual([
      'persistent:created:/a',
      'persistent:data:/a',
      'persistent:children:/a',
      'persistent:children:/a',
      'persistent:deleted:/a',
    ])
    expect(w.size).toBe(1)
  })

  it('a recursive watch hears created, data and deleted of the path and all descendants, never children', () => {
    const { h, w } = setup()
    h.create(S, '/app')
    watch(w, '/app', 'persistent-recursive', 'rec')
    const events = [
      ...h.txn(S, [{ op: 'create', path: '/app/x', data: bytes(''), mode: 'persistent' }]).events,
      ...h.txn(S, [{ op: 'create', path: '/app/x/y', data: bytes(''), mode: 'persistent' }]).events,
      ...h.txn(S, [{ op: 'set', path: '/app/x/y', data: bytes('1'), version: -1 }]).events,
      ...h.txn(S, [{ op: 'create', path: '/application', data: bytes(''), mode: 'persistent' }]).events,
      ...h.txn(S, [{ op: 'delete', path: '/app/x/y', version: -1 }]).events,
      ...h.txn(S, [{ op: 'set', path: '/app', data: bytes('1'), version: -1 }]).events,
    ]
    expect(brief(w.fire(events))).toEqual(['rec:created:/app/x', 'rec:created:/app/x/y', 'rec:data:/app/x/y', 'rec:deleted:/app/x/y', 'rec:data:/app'])
  })

  it('a recursive watch on the root hears everything', () => {
    const { h, w } = setup()
    watch(w, '/', 'persistent-recursive', 'all')
    expect(brief(w.fire(h.txn(S, [{ op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }]).events))).toEqual(['all:created:/a'])
  })

  it('remove and removeOwner end registrations', () => {
    const w = new WatchTable()
    watch(w, '/a', 'persistent', 'k1', 'm1')
    watch(w, '/b', 'data', 'k2', 'm1')
    watch(w, '/b', 'data', 'k3', 'm2')
    expect(w.remove({ owner: 'm1', key: 'k1', path: '/a', kind: 'persistent' })).toBe(true)
    expect(w.remove({ owner: 'm1', key: 'k1', path: '/a', kind: 'persistent' })).toBe(false)
    expect(w.removeOwner('m1')).toBe(1)
    expect(w.registrations()).toEqual([{ owner: 'm2', key: 'k3', path: '/b', kind: 'data' }])
  })
})

describe('fire ordering', () => {
  it('delivers in zxid order, events of one zxid in their order', () => {
    const w = new WatchTable()
    watch(w, '/', 'persistent-recursive', 'r')
    const ds = w.fire([
      { type: 'data', path: '/b', zxid: 9 },
      { type: 'created', path: '/a', zxid: 7 },
      { type: 'deleted', path: '/c', zxid: 7 },
    ])
    expect(ds.map((d) => `${d.event.zxid}${d.event.path}`)).toEqual(['7/a', '7/c', '9/b'])
  })

  it('refuses a bad path at registration', () => {
    expect(() => new WatchTable().add({ owner: 'o', key: 'k', path: 'x/', kind: 'data' })).toThrow(/bad path/)
  })
})

describe('missedSince (ZooKeeper setWatches after a reconnect)', () => {
  it('fires what changed after the client’s last zxid and registers the rest', () => {
    const { h, w } = setup()
    h.create(S, '/data')
    h.create(S, '/kids')
    h.create(S, '/gone')
    h.create(S, '/quiet')
    const seen = h.zxid
    h.set(S, '/data', 'new')
    h.create(S, '/kids/k')
    h.ok(S, { op: 'delete', path: '/gone', version: -1 })
    h.create(S, '/born')
    const ds = w.missedSince(
      [
        { owner: 'm', key: 'd', path: '/data', kind: 'data' },
        { owner: 'm', key: 'c', path: '/kids', kind: 'children' },
        { owner: 'm', key: 'g', path: '/gone', kind: 'data' },
        { owner: 'm', key: 'b', path: '/born', kind: 'exists' },
        { owner: 'm', key: 'q', path: '/quiet', kind: 'data' },
        { owner: 'm', key: 'n', path: '/never', kind: 'exists' },
        { owner: 'm', key: 'p', path: '/kids', kind: 'persistent' },
      ],
      seen,
      h.tree,
    )
    expect(brief(ds)).toEqual(['d:data:/data', 'c:children:/kids', 'p:children:/kids', 'g:deleted:/gone', 'b:created:/born'])
    // fired one-shots are used up; the quiet ones and the persistent one are registered
    expect(w.registrations().map((r) => r.key).sort()).toEqual(['n', 'p', 'q'])
    // and they keep working
    expect(brief(w.fire(h.txn(S, [{ op: 'set', path: '/quiet', data: bytes('x'), version: -1 }]).events))).toEqual(['q:data:/quiet'])
  })

  it('a recursive watch reports creations and data changes in its subtree since the zxid', () => {
    const { h, w } = setup()
    h.create(S, '/app')
    h.create(S, '/app/old')
    h.create(S, '/app/still')
    const seen = h.zxid
    h.create(S, '/app/new')
    h.set(S, '/app/old', 'x')
    h.create(S, '/elsewhere')
    const ds = w.missedSince([{ owner: 'm', key: 'r', path: '/app', kind: 'persistent-recursive' }], seen, h.tree)
    expect(brief(ds)).toEqual(['r:created:/app/new', 'r:data:/app/old'])
    expect(w.size).toBe(1)
  })

  it('nothing fires when nothing changed', () => {
    const { h, w } = setup()
    h.create(S, '/a')
    expect(w.missedSince([{ owner: 'm', key: 'k', path: '/a', kind: 'data' }], h.zxid, h.tree)).toEqual([])
    expect(w.size).toBe(1)
  })
})
