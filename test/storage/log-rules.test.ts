// The pure rules both storages share (src/storage/log-rules.ts): group
// commit's merge must have exactly the effect of the saves one by one.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Entry, Snapshot } from '../../src/raft/types'
import type { SaveBatch } from '../../src/storage/types'
import { applyBatch, lastStoredAfter, mergeBatches, truncatesStored, type SlotState } from '../../src/storage/log-rules'

const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index, term]) })
const run = (from: number, count: number, term: number): Entry[] => Array.from({ length: count }, (_, i) => entry(from + i, term))
const snap = (index: number): Snapshot => ({
  meta: { index, term: 1, conf: { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
  data: new Uint8Array([index]),
})
const empty: SlotState = { meta: null, hardState: null, snapshot: null, entries: [] }

/** A batch as Raft makes them: entries from anywhere in 1..12, maybe a snapshot, maybe a hard state. */
const batchArb: fc.Arbitrary<SaveBatch> = fc
  .record({
    entries: fc.option(fc.record({ from: fc.integer({ min: 1, max: 12 }), count: fc.integer({ min: 1, max: 5 }), term: fc.integer({ min: 1, max: 5 }) })),
    snapshot: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 4 }),
    commit: fc.option(fc.nat(20)),
  })
  .map(({ entries, snapshot, commit }) => {
    const b: SaveBatch = {}
    if (entries !== null) b.entries = run(entries.from, entries.count, entries.term)
    if (snapshot !== null) b.snapshot = snap(snapshot)
    if (commit !== null) b.hardState = { term: 1, vote: null, commit }
    return b
  })

describe('mergeBatches (group commit)', () => {
  it('has the effect of saving a then b, whenever it merges', () => {
    fc.assert(
      fc.property(batchArb, batchArb, batchArb, (base, a, b) => {
        // a snapshot never goes back (validateBatch refuses it before a merge)
        if (a.snapshot !== undefined && b.snapshot !== undefined && b.snapshot.meta.index < a.snapshot.meta.index) return
        const start = applyBatch(empty, base)
        if (a.snapshot !== undefined && start.snapshot !== null && a.snapshot.meta.index < start.snapshot.meta.index) return
        if (b.snapshot !== undefined && start.snapshot !== null && b.snapshot.meta.index < start.snapshot.meta.index) return
        const merged = mergeBatches(a, b)
        if (merged === null) {
          // the only refusal: b's entries start past a gap after a's last entry
          expect(b.entries![0]!.index).toBeGreaterThan(a.entries!.at(-1)!.index + 1)
          return
        }
        expect(applyBatch(start, merged)).toEqual(applyBatch(applyBatch(start, a), b))
      }),
      { numRuns: 3000 },
    )
  })

  it('merges an append and a conflicting suffix behind it into one run; the later hard state wins', () => {
    const merged = mergeBatches({ entries: run(4, 3, 1), hardState: { term: 1, vote: 'a', commit: 2 } }, { entries: run(5, 3, 2), hardState: { term: 2, vote: null, commit: 3 } })
    expect(merged!.entries!.map((e) => [e.index, e.term])).toEqual([[4, 1], [5, 2], [6, 2], [7, 2]])
    expect(merged!.hardState).toEqual({ term: 2, vote: null, commit: 3 })
  })

  it('refuses to merge across a gap, and leaves its inputs untouched', () => {
    const a = { entries: run(1, 2, 1) }
    const b = { entries: run(4, 1, 1) }
    expect(mergeBatches(a, b)).toBeNull()
    const merged = mergeBatches(a, { entries: run(3, 1, 1) })
    expect(merged!.entries).toHaveLength(3)
    expect(a.entries).toHaveLength(2)
  })
})

describe('truncatesStored / lastStoredAfter (no range delete for a plain append)', () => {
  it('an append right after the last stored entry deletes nothing; one that overlaps does', () => {
    expect(truncatesStored({ entries: run(6, 2, 1) }, 5)).toBe(false)
    expect(truncatesStored({ entries: run(5, 2, 2) }, 5)).toBe(true)
    expect(truncatesStored({ hardState: { term: 1, vote: null, commit: 1 } }, 5)).toBe(false)
  })

  it('the bound after a batch is never below what is stored (so a conflicting suffix is never missed)', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { maxLength: 8 }), (batches) => {
        let slot = empty
        let bound = 0
        for (const b of batches) {
          if (b.snapshot !== undefined && slot.snapshot !== null && b.snapshot.meta.index < slot.snapshot.meta.index) continue
          slot = applyBatch(slot, b)
          bound = lastStoredAfter(b, bound)
          expect(bound).toBeGreaterThanOrEqual(slot.entries.at(-1)?.index ?? 0)
        }
      }),
    )
  })
})
