import { describe, expect, it } from 'vitest'
import { SessionTracker } from '../../src/tree/session-tracker'
import { Harness } from './harness'

const treeWith = (sessions: Record<string, number>): Harness => {
  const h = new Harness()
  for (const [id, timeoutMs] of Object.entries(sessions)) h.open(id, timeoutMs)
  return h
}

describe('SessionTracker (the leader’s view of liveness)', () => {
  it('a session silent for longer than its timeout is expired; a touched one is not', () => {
    const h = treeWith({ a: 1_000, b: 1_000 })
    const t = new SessionTracker()
    t.touch('a', 0)
    t.touch('b', 0)
    t.touch('b', 900)
    expect(t.expired(1_000, h.tree)).toEqual([])
    expect(t.expired(1_001, h.tree)).toEqual(['a'])
    expect(t.expired(1_901, h.tree)).toEqual(['a', 'b'])
  })

  it('each session uses its own timeout', () => {
    const h = treeWith({ short: 100, long: 10_000 })
    const t = new SessionTracker()
    t.grantAll(h.tree.sessions(), 0)
    expect(t.expired(5_000, h.tree)).toEqual(['short'])
  })

  it('grantAll (a new leader) gives every session a fresh timeout', () => {
    const h = treeWith({ a: 1_000 })
    const t = new SessionTracker()
    t.touch('a', 0)
    t.grantAll(h.tree.sessions(), 5_000)
    expect(t.expired(5_500, h.tree)).toEqual([])
    expect(t.expired(6_001, h.tree)).toEqual(['a'])
  })

  it('a session the tracker never saw starts its timeout at the first check', () => {
    const h = treeWith({ a: 1_000 })
    const t = new SessionTracker()
    expect(t.expired(50_000, h.tree)).toEqual([])
    expect(t.expired(51_001, h.tree)).toEqual(['a'])
  })

  it('sessions gone from the tree are forgotten and never reported', () => {
    const h = treeWith({ a: 1_000 })
    const t = new SessionTracker()
    t.touch('a', 0)
    h.close('a')
    expect(t.expired(10_000, h.tree)).toEqual([])
    expect(t.lastSeenAt('a')).toBeUndefined()
  })

  it('a touch never moves time backwards', () => {
    const t = new SessionTracker()
    t.touch('a', 500)
    t.touch('a', 100)
    expect(t.lastSeenAt('a')).toBe(500)
  })
})
