// The bookkeeping behind the transport's bounds against hostile peers and
// servers (issue 13), on hand-driven clocks: who introduced whom
// (introductions.ts), how many attempts run (attempt-slots.ts), whether a
// sealed signal is fresh (signal-freshness.ts), how often bad signaling is
// reported (report-throttle.ts).
import { describe, expect, it } from 'vitest'
import { AttemptSlots } from '../../src/transport/attempt-slots'
import { Introductions } from '../../src/transport/introductions'
import { ReportThrottle } from '../../src/transport/report-throttle'
import { SignalFreshness } from '../../src/transport/signal-freshness'

describe('Introductions', () => {
  it('an introducer brings at most its share of unsettled peers; settling frees a place', () => {
    const book = new Introductions({ perIntroducer: 2 })
    expect([book.admit('m'), book.admit('m'), book.admit('m')]).toEqual([true, true, false])
    expect(book.admit('other')).toBe(true)
    book.settle('m', 'neutral')
    expect(book.admit('m')).toBe(true)
  })

  it('an introducer is to be refused once its junk reaches the bound and outweighs what proved real', () => {
    const book = new Introductions({ perIntroducer: 100, junkToRefuse: 3 })
    for (let i = 0; i < 10; i++) book.admit('m')
    for (let i = 0; i < 3; i++) book.settle('m', 'real')
    // 3 junk against 3 real: not mostly junk yet
    expect([book.settle('m', 'junk'), book.settle('m', 'junk'), book.settle('m', 'junk')]).toEqual([false, false, false])
    expect(book.settle('m', 'junk')).toBe(true)
    // its record starts over
    expect(book.settle('m', 'junk')).toBe(false)
  })
})

describe('AttemptSlots', () => {
  it('runs at most max attempts; unvouched peers get at most their share; vouched waiters go first', () => {
    const vouched = new Set(['v1', 'v2', 'v3'])
    const slots = new AttemptSlots<string>({ max: 3, maxUnvouched: 1 }, (p) => vouched.has(p))
    expect(slots.take('u1', true)).toBe(true)
    expect(slots.take('u2', true)).toBe(false) // the unvouched share is taken
    expect(slots.take('v1', true)).toBe(true)
    expect(slots.take('v2', true)).toBe(true)
    expect(slots.take('v3', true)).toBe(false) // all slots taken
    expect(slots.take('answer', false)).toBe(false) // not queued
    expect(slots.running).toBe(3)
    slots.release('v1')
    expect(slots.next()).toBe('v3') // vouched first, though u2 waited longer
    expect(slots.take('v3', true)).toBe(true)
    slots.release('u1')
    expect(slots.next()).toBe('u2')
    expect(slots.next()).toBeUndefined()
  })

  it('among unvouched waiters, the one with the most failed tries goes first', () => {
    const failures = new Map([['fresh', 0], ['tried', 1]])
    const slots = new AttemptSlots<string>({ max: 1 }, () => false, (p) => failures.get(p) ?? 0)
    expect(slots.take('running', true)).toBe(true)
    expect([slots.take('fresh', true), slots.take('tried', true)]).toEqual([false, false])
    slots.release('running')
    expect(slots.next()).toBe('tried')
  })
})

describe('AttemptSlots: answers', () => {
  it('an answer to an offer may use up to max more slots than our own attempts (an unanswered offer costs its initiator a connect timeout)', () => {
    const slots = new AttemptSlots<string>({ max: 2 }, () => true)
    expect([slots.take('a', true), slots.take('b', true)]).toEqual([true, true])
    expect(slots.take('c', true)).toBe(false) // our own attempts wait
    expect([slots.take('x', false, true), slots.take('y', false, true)]).toEqual([true, true])
    expect(slots.take('z', false, true)).toBe(false) // twice max at most
  })

  it('unvouched answers still get only their share', () => {
    const slots = new AttemptSlots<string>({ max: 2, maxUnvouched: 1 }, (p) => p.startsWith('v'))
    expect(slots.take('u1', false, true)).toBe(true)
    expect(slots.take('u2', false, true)).toBe(false)
  })
})

describe('SignalFreshness', () => {
  const nonce = (i: number) => i.toString(16).padStart(32, '0')

  it('takes a signal once, inside the window only, and refuses unstamped ones', () => {
    let now = 1_000_000
    const f = new SignalFreshness(() => now, { windowMs: 1_000 })
    const { t, n } = f.stamp()
    expect(f.check('a/t', t, n)).toBeNull()
    expect(f.check('a/t', t, n)).toBe('replay')
    expect(f.check('b/t', t, n)).toBeNull() // another sender's nonce space
    expect(f.check('a/t', now - 1_001, nonce(1))).toBe('stale')
    expect(f.check('a/t', now + 1_001, nonce(2))).toBe('stale')
    expect(f.check('a/t', undefined, nonce(3))).toBe('malformed')
    expect(f.check('a/t', now, 'short')).toBe('malformed')
    now += 2_000
    expect(f.check('a/t', t, n)).toBe('stale') // the window refuses what the set forgot
  })

  it('a bounded seen-set: a nonce evicted early is still refused, by the sender floor', () => {
    const now = 1_000_000
    const f = new SignalFreshness(() => now, { windowMs: 60_000, perSender: 4 })
    for (let i = 0; i < 10; i++) expect(f.check('a/t', now - 100 + i, nonce(i))).toBeNull()
    expect(f.check('a/t', now - 100, nonce(0))).toBe('replay')
    expect(f.check('a/t', now - 99, nonce(1))).toBe('replay')
    expect(f.check('a/t', now, nonce(99))).toBeNull() // a fresh one still passes
  })

  it('a bounded set of senders: forgetting one raises a floor for all, so its replays stay refused', () => {
    const now = 1_000_000
    const f = new SignalFreshness(() => now, { windowMs: 60_000, maxSenders: 2 })
    expect(f.check('a/t', now - 10, nonce(1))).toBeNull()
    expect(f.check('b/t', now - 5, nonce(2))).toBeNull()
    expect(f.check('c/t', now - 1, nonce(3))).toBeNull() // a/t is forgotten
    expect(f.check('a/t', now - 10, nonce(1))).toBe('replay')
    expect(f.check('a/t', now, nonce(4))).toBeNull()
  })
})

describe('ReportThrottle', () => {
  it('a sender once per window, and a bounded number per window over all senders', () => {
    let now = 0
    const throttle = new ReportThrottle(() => now, { windowMs: 100, maxPerWindow: 2 })
    expect(throttle.allow('z')).toBe(true)
    expect(throttle.allow('z')).toBe(false)
    expect(throttle.allow('y')).toBe(true)
    expect(throttle.allow('x')).toBe(false) // the window's reports are spent
    now = 100
    expect([throttle.allow('z'), throttle.allow('x'), throttle.allow('w')]).toEqual([true, true, false])
  })
})
