// End-to-end stories in ZooKeeper recipe terms, as the node driver would run
// them: the leader's SessionTracker decides expiry, the tree applies it.
import { describe, expect, it } from 'vitest'
import { SessionTracker } from '../../src/tree/session-tracker'
import { WatchTable } from '../../src/tree/watches'
import { Harness, bytes } from './harness'

describe('lock with fencing (shared/design.md invariant 3)', () => {
  it('a holder whose session expires loses the lock, its fenced write is refused, the next waiter holds it', () => {
    const h = new Harness()
    const tracker = new SessionTracker()
    const watches = new WatchTable()
    h.now = 0
    h.open('alice', 1_000)
    h.open('bob', 1_000)
    tracker.grantAll(h.tree.sessions(), 0)
    h.create('alice', '/locks', '', 'container')
    const a = h.create('alice', '/locks/lock-', '', 'ephemeral-sequential')
    const b = h.create('bob', '/locks/lock-', '', 'ephemeral-sequential')
    expect([a, b]).toEqual(['/locks/lock-0000000000', '/locks/lock-0000000001'])
    const aliceToken = h.tree.stat(a)!.czxid
    // bob waits on the node just before his (the herd-free lock recipe)
    watches.add({ owner: 'bob-member', key: 'prev', path: a, kind: 'exists' })

    // alice freezes; bob keeps heartbeating
    for (const t of [400, 800, 1_200]) tracker.touch('bob', t)
    h.now = 1_200
    const expired = tracker.expired(h.now, h.tree)
    expect(expired).toEqual(['alice'])
    const out = h.apply({ type: 'expire-sessions', sessions: expired, time: h.now })
    expect(watches.fire(out.events).map((d) => `${d.key}:${d.event.type}:${d.event.path}`)).toEqual([`prev:deleted:${a}`])
    expect(h.tree.children('/locks')).toEqual(['lock-0000000001'])
    const bobToken = h.tree.stat(b)!.czxid
    expect(bobToken).toBeGreaterThan(aliceToken)

    // alice wakes up: her session stays ended; with a fresh one she writes with her old token: fenced
    expect(h.open('alice', 1_000).result).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' })
    h.open('alice-2', 1_000)
    const late = h.txn('alice-2', [
      { op: 'fence', path: a, token: aliceToken },
      { op: 'set', path: '/locks', data: bytes('alice was here'), version: -1 },
    ]).result
    expect(late).toMatchObject({ ok: false, code: 'FENCED', opIndex: 0 })
    expect(h.txn('bob', [
      { op: 'fence', path: b, token: bobToken },
      { op: 'set', path: '/locks', data: bytes('bob'), version: -1 },
    ]).result.ok).toBe(true)

    // bob releases: the container is now empty and the leader reaps it
    h.ok('bob', { op: 'delete', path: b, version: -1 })
    expect(h.tree.reapable(h.now).map((n) => n.path)).toEqual(['/locks'])
  })
})

describe('a new leader', () => {
  it('gives every session a fresh timeout instead of expiring them for heartbeats it never saw', () => {
    const h = new Harness()
    h.open('s', 1_000)
    h.create('s', '/e', '', 'ephemeral')
    const oldLeader = new SessionTracker()
    oldLeader.touch('s', 0)
    const newLeader = new SessionTracker()
    newLeader.grantAll(h.tree.sessions(), 10_000)
    expect(newLeader.expired(10_500, h.tree)).toEqual([])
    expect(oldLeader.expired(10_500, h.tree)).toEqual(['s'])
  })
})

describe('distributed queue', () => {
  it('sequential items come out in order; taking one is a versioned delete that only one taker wins', () => {
    const h = new Harness()
    h.open('producer')
    h.open('c1')
    h.open('c2')
    h.create('producer', '/queue')
    for (const item of ['x', 'y', 'z']) h.create('producer', '/queue/item-', item, 'persistent-sequential')
    const head = h.tree.children('/queue')![0]!
    expect(head).toBe('item-0000000000')
    const take = (s: string) => h.txn(s, [{ op: 'delete', path: `/queue/${head}`, version: 0 }]).result
    expect(take('c1').ok).toBe(true)
    expect(take('c2')).toMatchObject({ ok: false, code: 'NO_NODE' })
    expect(h.tree.children('/queue')).toEqual(['item-0000000001', 'item-0000000002'])
  })
})
