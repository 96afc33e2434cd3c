// A member's log in IndexedDB as runs: each save writes the entries it
// appends as ONE record, keyed [member, its first index], holding them packed
// in bytes (schema 3, idb-schema.ts). Schema 2 wrote a record per entry.
//
// Why: the IndexedDB backend's cost grows with the records a transaction
// writes, not with their bytes. Measured in headless Chromium on this machine
// (strict transactions, 3 tabs at once as a 3-tab mesh saves; 120-byte
// entries; p50): 64 entries as 64 records 8.9-10.6 ms, as one record
// 0.7-0.8 ms; 256 entries 31-37 ms against 1.1-1.2 ms; one entry 0.9 ms
// either way. Under 64 concurrent writers a tab's save carries 64 entries and
// the backend was open 93% of the time (bench:
// mesh3.throughput.writers64.idb.openShare): the records were the ceiling.
//
// The rule that makes runs safe without ever rewriting one: replayed in key
// order, each record replaces the log from its first index on (a conflicting
// suffix is cut as a save's entries do: log-rules.ts). It holds because a save
// deletes every record keyed at or after its first new index before it writes
// its run, so of the records on disk a later-written one always has the
// greater key. A run partly cut by a later one keeps its shadowed tail on disk
// until a snapshot passes it; what is read back is the replay, never the tail.
// Schema 2's one-entry records follow the same rule (each is a run of one), so
// a slot written by either schema reads the same, and needs no migration.
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { DecodeError, readByte, readBytes, readCount, readVarUint, expectEnd } from '../codec/checked-reader'
import type { Entry } from '../raft/types'

/** What the entries store holds: a run (schema 3) or one entry (schema 2). */
export type LogRecord = Uint8Array | Entry

/** The first byte of a run: its layout, so a later one can be told apart. */
const RUN_FORMAT = 1
const ENTRY_TYPES = ['normal', 'conf'] as const

/** Pack consecutive entries (at least one) into one run record. */
export function encodeRun(entries: readonly Entry[]): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, RUN_FORMAT)
  encoding.writeVarUint(enc, entries[0]!.index)
  encoding.writeVarUint(enc, entries.length)
  for (const e of entries) {
    encoding.writeVarUint(enc, e.term)
    encoding.writeUint8(enc, e.type === 'conf' ? 1 : 0)
    encoding.writeVarUint8Array(enc, e.data)
  }
  return encoding.toUint8Array(enc)
}

/** A run's header: its format, first index and entry count (at least one). */
function readRunHeader(dec: decoding.Decoder, record: Uint8Array): { first: number; count: number } {
  if (readByte(dec, 'run format') !== RUN_FORMAT) throw new DecodeError('unknown run format')
  const first = readVarUint(dec, Number.MAX_SAFE_INTEGER, 'first index')
  // each entry takes at least 3 bytes (term, type, data length)
  const count = readCount(dec, record.length, 'run', 3)
  if (first < 1 || count < 1) throw new DecodeError('empty run')
  return { first, count }
}

/** The entries of one stored record; DecodeError when its bytes are not a run. */
export function decodeRecord(record: LogRecord): Entry[] {
  if (!(record instanceof Uint8Array)) return [record]
  const dec = decoding.createDecoder(record)
  const { first, count } = readRunHeader(dec, record)
  const entries: Entry[] = []
  for (let i = 0; i < count; i++) {
    const term = readVarUint(dec, Number.MAX_SAFE_INTEGER, 'term')
    const type = readByte(dec, 'entry type')
    if (type >= ENTRY_TYPES.length) throw new DecodeError('bad entry type')
    // a copy: the record's buffer is not kept alive by one entry
    entries.push({ term, index: first + i, type: ENTRY_TYPES[type]!, data: readBytes(dec, record.length, 'entry data') })
  }
  expectEnd(dec, 'run')
  return entries
}

/** The indexes a record holds, from its header alone (no entry decoded). */
export function recordSpan(record: LogRecord): RunSpan {
  if (!(record instanceof Uint8Array)) return { first: record.index, last: record.index }
  const { first, count } = readRunHeader(decoding.createDecoder(record), record)
  return { first, last: first + count - 1 }
}

/** A record's index span as stored; a later run may shadow its tail. */
export interface RunSpan {
  first: number
  last: number
}

/** The log the records read in key order hold (sorted by index; a gap is
 *  kept as found: contiguousAfter cuts it), and each record's live span. */
export function replayRecords(records: readonly LogRecord[]): { entries: Entry[]; spans: RunSpan[] } {
  const entries: Entry[] = []
  const spans = new StoredRuns([])
  for (const record of records) {
    const run = decodeRecord(record)
    const first = run[0]!.index
    // entries are sorted: the cut is a tail (amortized O(1) per entry)
    while (entries.length > 0 && entries[entries.length - 1]!.index >= first) entries.pop()
    for (const e of run) entries.push(e)
    spans.cut(first)
    spans.add(first, run[run.length - 1]!.index)
  }
  return { entries, spans: spans.list() }
}

/**
 * The live span of each record on disk once the saves issued so far complete
 * (the storage's model of its own writes, as `lastStored` is): which records a
 * snapshot makes useless. Kept in key order; a storage that fails a write
 * fails for good, so the model never drifts from a disk still in use.
 */
export class StoredRuns {
  private spans: RunSpan[]

  constructor(spans: readonly RunSpan[]) {
    this.spans = spans.map((s) => ({ ...s }))
  }

  /** A run is written from `first`: every record keyed at or after it is
   *  deleted, and a record before it that reaches it is shadowed from there. */
  cut(first: number): void {
    // spans are in key order: only a tail goes (amortized O(1): a replay at
    // open cuts once per record, and a filter made that quadratic — 40,000
    // one-entry records took 22 s to read)
    while (this.spans.length > 0 && this.spans[this.spans.length - 1]!.first >= first) this.spans.pop()
    const last = this.spans[this.spans.length - 1]
    if (last !== undefined && last.last >= first) last.last = first - 1
  }

  add(first: number, last: number): void {
    this.spans.push({ first, last })
  }

  /** A snapshot at `index` makes every record whose live entries all lie at
   *  or below it useless: they are the records keyed below the bound returned
   *  (exclusive), which a save deletes; the spans forget them. A record that
   *  straddles `index` stays (its entries after it are live). */
  dropThrough(index: number): number {
    const keep = this.spans.findIndex((s) => s.last > index)
    const bound = keep < 0 ? index + 1 : Math.min(this.spans[keep]!.first, index + 1)
    this.spans = keep < 0 ? [] : this.spans.slice(keep)
    return bound
  }

  list(): RunSpan[] {
    return this.spans.map((s) => ({ ...s }))
  }
}
