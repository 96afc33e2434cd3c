import { describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'

describe('VirtualClock', () => {
  it('runs events in due-time order, ties in insertion order, with now() at the due time', () => {
    const clock = new VirtualClock()
    const seen: string[] = []
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20)
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10)
    clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20)
    clock.advance(15)
    expect(seen).toEqual(['a@10'])
    expect(clock.now()).toBe(15)
    clock.advance(100)
    expect(seen).toEqual(['a@10', 'b@20', 'c@20'])
    expect(clock.now()).toBe(115)
  })

  it('never runs a cleared timeout, and an interval repeats until cleared (even from inside)', () => {
    const clock = new VirtualClock()
    let fired = 0
    const id = clock.setTimeout(() => fired++, 5)
    clock.clearTimeout(id)
    const ticks: number[] = []
    const iv = clock.setInterval(() => {
      ticks.push(clock.now())
      if (ticks.length === 3) clock.clearInterval(iv)
    }, 10)
    clock.advance(1000)
    expect(fired).toBe(0)
    expect(ticks).toEqual([10, 20, 30])
    expect(clock.nextAt()).toBeNull()
    expect(clock.runNext()).toBe(false)
  })

  it('runUntil stops when the predicate holds, or at the deadline', () => {
    const clock = new VirtualClock()
    let n = 0
    clock.setInterval(() => n++, 7)
    expect(clock.runUntil(() => n === 3, 1000)).toBe(true)
    expect(clock.now()).toBe(21)
    expect(clock.runUntil(() => n === 1000, 70)).toBe(false)
    expect(clock.now()).toBe(91)
    expect(n).toBe(13)
  })

  it('jumpTo refuses to skip a due event', () => {
    const clock = new VirtualClock()
    clock.setTimeout(() => {}, 10)
    expect(() => clock.jumpTo(11)).toThrow()
    clock.jumpTo(10)
    expect(clock.now()).toBe(10)
  })
})

function world(seed: number, opts = {}) {
  const clock = new VirtualClock()
  const net = new VirtualNetwork<number>(clock, prng.create(seed), opts)
  const inbox = new Map<string, Array<[string, number]>>()
  for (const id of ['a', 'b', 'c']) {
    inbox.set(id, [])
    net.register(id, (from, msg) => inbox.get(id)!.push([from, msg]))
  }
  return { clock, net, inbox }
}

describe('VirtualNetwork', () => {
  it('delivers within [minDelay, maxDelay], in order on a link when reorderRate is 0', () => {
    const { clock, net, inbox } = world(1, { minDelay: 3, maxDelay: 50 })
    const arrivals: number[] = []
    net.observer = (e) => {
      if (e.kind === 'deliver') arrivals.push(clock.now())
    }
    for (let i = 0; i < 100; i++) net.send('a', 'b', i)
    clock.advance(1000)
    expect(inbox.get('b')!.map(([, m]) => m)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(Math.min(...arrivals)).toBeGreaterThanOrEqual(3)
    expect(Math.max(...arrivals)).toBeLessThanOrEqual(50)
  })

  it('reorders, drops and duplicates at the configured rates', () => {
    const { clock, net, inbox } = world(2, { minDelay: 1, maxDelay: 50, reorderRate: 1 })
    for (let i = 0; i < 200; i++) net.send('a', 'b', i)
    clock.advance(1000)
    const got = inbox.get('b')!.map(([, m]) => m)
    expect(got).toHaveLength(200)
    expect(got).not.toEqual([...got].sort((x, y) => x - y))
    net.configure({ dropRate: 1 })
    net.send('a', 'c', 1)
    net.configure({ dropRate: 0, duplicateRate: 1 })
    net.send('a', 'c', 2)
    clock.advance(1000)
    expect(inbox.get('c')!.map(([, m]) => m)).toEqual([2, 2])
    expect(net.stats.duplicated).toBe(1)
  })

  it('partitions are symmetric, cuts one-way, isolation total, heal restores all', () => {
    const { clock, net, inbox } = world(3)
    net.partition(['a'], ['b', 'c'])
    net.send('a', 'b', 1)
    net.send('c', 'a', 2)
    net.send('b', 'c', 3)
    clock.advance(100)
    expect(inbox.get('a')).toEqual([])
    expect(inbox.get('b')).toEqual([])
    expect(inbox.get('c')).toEqual([['b', 3]])
    net.heal()
    net.cut('a', 'b')
    net.send('a', 'b', 4)
    net.send('b', 'a', 5)
    net.isolate('c')
    net.send('c', 'a', 6)
    net.send('b', 'c', 7)
    clock.advance(100)
    expect(inbox.get('a')).toEqual([['b', 5]])
    expect(inbox.get('b')).toEqual([])
    expect(inbox.get('c')).toEqual([['b', 3]])
    net.heal()
    net.send('a', 'b', 8)
    clock.advance(100)
    expect(inbox.get('b')).toEqual([['a', 8]])
  })

  it('loses messages in flight when a link breaks or the receiver crashes and restarts', () => {
    const { clock, net, inbox } = world(4, { minDelay: 10, maxDelay: 10 })
    net.send('a', 'b', 1)
    net.send('a', 'c', 2)
    clock.advance(5)
    net.partition(['a'], ['b'])
    net.unregister('c')
    net.register('c', (from, msg) => inbox.get('c')!.push([from, msg]))
    clock.advance(10)
    expect(inbox.get('b')).toEqual([])
    expect(inbox.get('c')).toEqual([])
    net.unregister('c')
    net.heal()
    net.send('a', 'c', 3)
    clock.advance(20)
    expect(inbox.get('c')).toEqual([])
    expect(net.stats.dropped).toBe(3)
  })

  it('holds deliveries to a frozen member and releases them in order', () => {
    const { clock, net, inbox } = world(5)
    net.hold('b')
    for (let i = 0; i < 5; i++) net.send('a', 'b', i)
    clock.advance(100)
    expect(inbox.get('b')).toEqual([])
    net.release('b')
    expect(inbox.get('b')!.map(([, m]) => m)).toEqual([0, 1, 2, 3, 4])
  })

  it('is deterministic per seed', () => {
    const run = (seed: number) => {
      const { clock, net, inbox } = world(seed, { minDelay: 1, maxDelay: 30, dropRate: 0.2, duplicateRate: 0.2, reorderRate: 0.5 })
      for (let i = 0; i < 50; i++) net.send(i % 2 ? 'a' : 'c', 'b', i)
      clock.advance(1000)
      return JSON.stringify(inbox.get('b'))
    }
    expect(run(7)).toBe(run(7))
    expect(run(7)).not.toBe(run(8))
  })
})
