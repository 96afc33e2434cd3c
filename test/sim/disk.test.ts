// The simulated disk: a write is durable only after its latency, writes finish
// in order, a crash loses what had not finished, and entries overwrite the
// log's suffix from their first index.
import { describe, expect, it } from 'vitest'
import { VirtualClock } from '../../src/testing/virtual-time'
import type { Entry } from '../../src/raft/types'
import { RaftDisk } from './disk'

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) })
const hs = (term: number, vote: string | null = null, commit = 0) => ({ term, vote, commit })

describe('RaftDisk', () => {
  it('makes a write durable only after its latency, and finishes writes in order', () => {
    const clock = new VirtualClock()
    const disk = new RaftDisk(clock)
    const done: string[] = []
    disk.write({ hardState: hs(1), entries: [e(1, 1)], snapshot: null }, 10, () => done.push('first'))
    disk.write({ hardState: hs(2), entries: [e(2, 2)], snapshot: null }, 1, () => done.push('second'))
    clock.advance(5)
    expect(disk.durable.entries).toEqual([])
    expect(disk.busy).toBe(true)
    clock.advance(5)
    expect(done).toEqual(['first', 'second'])
    expect(disk.durable.hardState.term).toBe(2)
    expect(disk.durable.entries.map((x) => x.index)).toEqual([1, 2])
  })

  it('loses every unfinished write in a crash', () => {
    const clock = new VirtualClock()
    const disk = new RaftDisk(clock)
    let finished = false
    disk.write({ hardState: hs(1, 'a'), entries: [e(1, 1)], snapshot: null }, 0, () => {})
    clock.advance(0)
    disk.write({ hardState: hs(2, 'b'), entries: [e(2, 2)], snapshot: null }, 10, () => (finished = true))
    disk.crash()
    clock.advance(100)
    expect(finished).toBe(false)
    expect(disk.load()).toEqual({ hardState: hs(1, 'a'), snapshot: null, entries: [e(1, 1)] })
  })

  it('overwrites the log suffix from the first new entry, and a snapshot drops what it covers', () => {
    const clock = new VirtualClock()
    const disk = new RaftDisk(clock)
    disk.write({ hardState: null, entries: [e(1, 1), e(2, 1), e(3, 1)], snapshot: null }, 0, () => {})
    disk.write({ hardState: null, entries: [e(2, 2)], snapshot: null }, 0, () => {})
    clock.advance(0)
    expect(disk.durable.entries.map((x) => `${x.index}/${x.term}`)).toEqual(['1/1', '2/2'])
    const conf = { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
    disk.compactTo({ meta: { index: 1, term: 1, conf }, data: new Uint8Array() })
    expect(disk.durable.entries.map((x) => x.index)).toEqual([2])
    expect(disk.durable.snapshot?.meta.index).toBe(1)
  })
})
