// Snapshots: exact round trips (digest and every stat equal), determinism,
// validation of untrusted snapshots, and a model check that a replica restored
// from a snapshot midway ends in the same state as one that applied everything.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TreeError } from '../../src/tree/errors'
import { ZTree } from '../../src/tree/ztree'
import type { Command } from '../../src/tree/types'
import { arbLog } from './arbitraries'
import { Harness, expectBadArguments } from './harness'

/** every node's path, stat and data, every session: what "the same state" means to a reader */
const everything = (t: ZTree): unknown => {
  const nodes: unknown[] = []
  const walk = (path: string): void => {
    const g = t.get(path)!
    nodes.push([path, g.stat, Array.from(g.data)])
    for (const c of t.children(path)!) walk(path === '/' ? '/' + c : path + '/' + c)
  }
  walk('/')
  return { nodes, sessions: t.sessions().map((s) => t.session(s)), lastZxid: t.lastZxid, reapable: t.reapable(1e15) }
}

const populated = (): Harness => {
  const h = new Harness()
  h.open('s1', 3_000)
  h.open('s2', 9_000)
  h.create('s1', '/app', 'config')
  h.create('s1', '/app/locks', '', 'container')
  h.create('s1', '/app/locks/l-', '', 'ephemeral-sequential')
  h.create('s2', '/app/locks/l-', '', 'ephemeral-sequential')
  h.create('s2', '/ttl', 'x', 'ttl', 60_000)
  h.create('s2', '/日本/'.slice(0, 3))
  h.set('s1', '/app', 'config v2')
  h.txn('s1', [{ op: 'delete', path: '/missing', version: -1 }]) // a failed result in the dedup table
  return h
}

describe('snapshot and restore', () => {
  it('round-trips exactly: every stat, data, session, the digest, and the snapshot bytes', () => {
    const h = populated()
    const snap = h.tree.snapshot()
    const back = ZTree.restore(snap)
    expect(everything(back)).toEqual(everything(h.tree))
    expect(back.digest()).toBe(h.tree.digest())
    expect(back.snapshot()).toEqual(snap)
  })

  it('carries the dedup table: a retry after restore is still replayed', () => {
    const h = populated()
    const back = new Harness(ZTree.restore(h.tree.snapshot()))
    const retry = back.apply({ type: 'txn', session: 's1', seq: 4, ackedBelow: 4, multi: false, ops: [{ op: 'delete', path: '/missing', version: -1 }], time: 0 })
    expect(retry.deduped).toBe(true)
    expect(retry.result).toMatchObject({ ok: false, code: 'NO_NODE' })
  })

  it('a restored tree continues like the original (sequence counters, ephemerals, reapables)', () => {
    const a = populated()
    const b = new Harness(ZTree.restore(a.tree.snapshot())).continueSeqsOf(a)
    for (const h of [a, b]) {
      h.now = 99_999
      h.create('s2', '/app/locks/l-', '', 'ephemeral-sequential')
      h.close('s1')
      h.apply({ type: 'reap', nodes: h.tree.reapable(h.now), time: h.now })
    }
    expect(everything(b.tree)).toEqual(everything(a.tree))
    expect(b.tree.digest()).toBe(a.tree.digest())
  })

  it('is deterministic: the same state built in a different order gives the same bytes', () => {
    const a = new Harness()
    const b = new Harness()
    for (const [h, order] of [
      [a, ['/x', '/y', '/z']],
      [b, ['/z', '/x', '/y']],
    ] as const) {
      h.open('s')
      for (const p of order) h.create('s', p)
      h.apply({ type: 'close-session', session: 's', time: 0 })
    }
    expect(a.tree.stat('/x')).not.toEqual(b.tree.stat('/x')) // different czxids: different states
    const c = new Harness()
    const d = new Harness()
    for (const h of [c, d]) h.open('s')
    c.create('s', '/p')
    d.create('s', '/p')
    c.txn('s', [{ op: 'create', path: '/p/a', data: new Uint8Array(), mode: 'persistent' }, { op: 'create', path: '/p/b', data: new Uint8Array(), mode: 'persistent' }])
    d.txn('s', [{ op: 'create', path: '/p/b', data: new Uint8Array(), mode: 'persistent' }, { op: 'create', path: '/p/a', data: new Uint8Array(), mode: 'persistent' }])
    // the create results in the dedup table differ (order of ops); forget them by acknowledging
    for (const h of [c, d]) h.apply({ type: 'txn', session: 's', seq: 2, ackedBelow: 3, multi: true, ops: [], time: 0 })
    expect(c.tree.snapshot()).toEqual(d.tree.snapshot())
    expect(c.tree.digest()).toBe(d.tree.digest())
  })

  it('the digest changes with any change', () => {
    const h = populated()
    const seen = new Set([h.tree.digest()])
    h.set('s1', '/app', 'config v3')
    seen.add(h.tree.digest())
    h.apply({ type: 'noop', time: 0 })
    seen.add(h.tree.digest())
    expect(seen.size).toBe(3)
  })

  it('refuses garbage with BAD_ARGUMENTS: empty, wrong version, every truncation, trailing bytes', () => {
    const snap = populated().tree.snapshot()
    expectBadArguments(() => ZTree.restore(new Uint8Array(0)))
    expectBadArguments(() => ZTree.restore(Uint8Array.of(9, ...snap.subarray(1))))
    for (let cut = 0; cut < snap.length; cut++) expectBadArguments(() => ZTree.restore(snap.subarray(0, cut)))
    expectBadArguments(() => ZTree.restore(Uint8Array.of(...snap, 0)))
  })

  it('carries the ended session ids in their order; a version 1 snapshot (written before they were kept) restores with none', () => {
    const h = populated()
    expect(h.tree.snapshot()[0]).toBe(2)
    const v1 = Uint8Array.of(1, ...h.tree.snapshot().subarray(1, -1)) // version 1: no ended list (here: an empty one, one 0 byte)
    expect(everything(ZTree.restore(v1))).toEqual(everything(h.tree))
    h.open('s3')
    h.close('s3')
    h.close('s2')
    const restored = new Harness(ZTree.restore(h.tree.snapshot()))
    expect(restored.tree.snapshot()).toEqual(h.tree.snapshot())
    for (const id of ['s2', 's3']) expect(restored.open(id).result).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' })
    // an ended id listed twice, or also live, is garbage
    const snap = h.tree.snapshot()
    // the snapshot ends with the list: count 2, then "s3" and "s2", each length-prefixed
    expect(Array.from(snap.subarray(snap.length - 7))).toEqual([2, 2, 0x73, 0x33, 2, 0x73, 0x32])
    const head = snap.subarray(0, snap.length - 3)
    expect(() => ZTree.restore(Uint8Array.of(...head, 2, 0x73, 0x32))).not.toThrow()
    expectBadArguments(() => ZTree.restore(Uint8Array.of(...head, 2, 0x73, 0x33))) // "s3" twice
    expectBadArguments(() => ZTree.restore(Uint8Array.of(...head, 2, 0x73, 0x31))) // "s1" is live
  })

  it('mutated snapshots either restore to a self-consistent tree or throw BAD_ARGUMENTS (fuzz)', () => {
    const snap = populated().tree.snapshot()
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bad = snap.slice()
        bad[at % bad.length] = value
        let t: ZTree
        try {
          t = ZTree.restore(bad)
        } catch (err) {
          if (!(err instanceof TreeError)) throw err
          expect(err.code).toBe('BAD_ARGUMENTS')
          return
        }
        // what restores must re-encode to the same bytes and satisfy the tree's invariants
        expect(t.snapshot()).toEqual(bad)
        for (const s of t.sessions()) for (const e of t.session(s)!.ephemerals) expect(t.stat(e)!.ephemeralOwner).toBe(s)
      }),
      { numRuns: 2_000 },
    )
  })

  it('a restored tree applies the rest of a random log to the same state as one that applied all of it (property)', () => {
    fc.assert(
      fc.property(arbLog(60), fc.nat(), (cmds, cutAt) => {
        const cut = cutAt % (cmds.length + 1)
        const whole = new ZTree()
        let half = new ZTree()
        cmds.forEach((cmd: Command, i) => {
          if (i === cut) half = ZTree.restore(half.snapshot())
          const a = whole.apply(i + 1, cmd)
          const b = half.apply(i + 1, cmd)
          expect(b).toEqual(a)
        })
        expect(half.digest()).toBe(whole.digest())
        expect(everything(half)).toEqual(everything(whole))
      }),
      { numRuns: 300 },
    )
  })

  it('restores a deep chain without overflowing the stack', () => {
    const h = new Harness()
    h.open('s')
    let path = ''
    for (let i = 0; i < 1_000; i++) {
      path += '/d'
      h.create('s', path)
    }
    const back = ZTree.restore(h.tree.snapshot())
    expect(back.stat(path)).toEqual(h.tree.stat(path))
  })
})
