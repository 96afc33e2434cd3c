// The log's records in IndexedDB (src/storage/log-runs.ts): a run packs
// consecutive entries and reads back as them; a record that is not a run
// fails with DecodeError (the storage then fails with CORRUPT); the replay
// of records in key order is the log the saves made.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError } from '../../src/codec/checked-reader'
import type { Entry } from '../../src/raft/types'
import { StoredRuns, decodeRecord, encodeRun, recordSpan, replayRecords } from '../../src/storage/log-runs'

const run = (first: number, count: number, term: number): Entry[] =>
  Array.from({ length: count }, (_, i) => ({ term, index: first + i, type: i % 3 === 2 ? 'conf' : 'normal', data: new Uint8Array([first + i, term]) }))

describe('log runs', () => {
  it('a run reads back as the entries it packed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.array(fc.record({ term: fc.nat(), conf: fc.boolean(), data: fc.uint8Array({ maxLength: 40 }) }), { minLength: 1, maxLength: 30 }), (first, parts) => {
        const entries: Entry[] = parts.map((p, i) => ({ term: p.term, index: first + i, type: p.conf ? 'conf' : 'normal', data: p.data }))
        expect(decodeRecord(encodeRun(entries))).toEqual(entries)
        expect(recordSpan(encodeRun(entries))).toEqual({ first, last: first + entries.length - 1 })
      }),
    )
  })

  it('a schema-2 record (one Entry) reads as a run of one', () => {
    const [e] = run(7, 1, 2)
    expect(decodeRecord(e!)).toEqual([e])
    expect(recordSpan(e!)).toEqual({ first: 7, last: 7 })
  })

  it('bytes that are not a run fail with DecodeError: cut short, trailing bytes, an unknown format, a bad entry type, an empty run', () => {
    const good = encodeRun(run(3, 4, 1))
    const bad = [
      good.slice(0, good.length - 1),
      Uint8Array.of(...good, 0),
      Uint8Array.of(9, ...good.slice(1)),
      encodeRun([{ term: 1, index: 1, type: 'normal', data: new Uint8Array(0) }]).map((b, i, a) => (i === a.length - 2 ? 7 : b)),
      Uint8Array.of(1, 1, 0),
      new Uint8Array(0),
    ]
    for (const bytes of bad) expect(() => decodeRecord(bytes)).toThrow(DecodeError)
  })

  it('records replayed in key order: each replaces the log from its first index on', () => {
    const { entries, spans } = replayRecords([encodeRun(run(1, 5, 1)), encodeRun(run(4, 3, 2)), run(6, 1, 3)[0]!])
    expect(entries.map((e) => `${e.index}:${e.term}`)).toEqual(['1:1', '2:1', '3:1', '4:2', '5:2', '6:3'])
    expect(spans).toEqual([
      { first: 1, last: 3 },
      { first: 4, last: 5 },
      { first: 6, last: 6 },
    ])
  })

  it('a snapshot drops the records with nothing live after it, and keeps one it straddles', () => {
    const runs = new StoredRuns([
      { first: 1, last: 3 },
      { first: 4, last: 9 },
      { first: 10, last: 12 },
    ])
    // keys below 4 go: the run from 4 holds 5-9, live after a snapshot at 4
    expect(runs.dropThrough(4)).toBe(4)
    expect(runs.list()).toEqual([
      { first: 4, last: 9 },
      { first: 10, last: 12 },
    ])
    // a snapshot at the end of a run drops it whole
    expect(runs.dropThrough(9)).toBe(10)
    // past every record: all keys up to the snapshot go
    expect(runs.dropThrough(20)).toBe(21)
    expect(runs.list()).toEqual([])
  })
})
