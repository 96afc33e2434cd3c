// The dedup table: exactly-once application of client writes.
//
// A client numbers its writes per session (seq) and retries a write until it
// sees the result. The table keeps, per session, the result of each recent seq;
// a retry of a seq still in the table gets the original result and changes
// nothing. Each txn says `ackedBelow`: the client holds every result below it,
// so those entries are dropped and `floor` rises. A txn below the floor was
// applied once and acknowledged, so it is refused (never applied twice).
//
// Bound: at most MAX_RESULTS_PER_SESSION results per session. When a client has
// more unacknowledged writes than that, the oldest result is dropped and the
// floor rises past it; a retry of that seq is then refused instead of replayed.
// The table dies with its session (close or expire). The table is part of the
// replicated state: its evolution depends only on the applied commands.
import type { TxnResult } from './types'

export const MAX_RESULTS_PER_SESSION = 1024

export interface SessionDedup {
  /** seqs below floor have been acknowledged (or evicted): never apply them again */
  floor: number
  /** seq → result, in insertion order */
  results: Map<number, TxnResult>
}

export type DedupLookup =
  | { kind: 'new' }
  | { kind: 'replay'; result: TxnResult }
  | { kind: 'stale' }

export const newSessionDedup = (): SessionDedup => ({ floor: 0, results: new Map() })

/** What to do with (seq) from this session: apply it, replay a stored result, or refuse it as stale. */
export const lookup = (d: SessionDedup, seq: number): DedupLookup => {
  const r = d.results.get(seq)
  if (r !== undefined) return { kind: 'replay', result: r }
  return seq < d.floor ? { kind: 'stale' } : { kind: 'new' }
}

/** the client holds every result below ackedBelow: forget them */
export const acknowledge = (d: SessionDedup, ackedBelow: number): void => {
  if (ackedBelow <= d.floor) return
  d.floor = ackedBelow
  for (const seq of d.results.keys()) if (seq < ackedBelow) d.results.delete(seq)
}

/**
 * Records the result of a newly applied seq, evicting the oldest beyond the
 * bound. The table keeps the very object apply() returns (copying or freezing
 * it would cost more than the apply itself): callers must treat results as
 * read-only, since the table is replicated state (snapshots, digest).
 */
export const record = (d: SessionDedup, seq: number, result: TxnResult): void => {
  d.results.set(seq, result)
  if (d.results.size > MAX_RESULTS_PER_SESSION) {
    let lowest = Infinity
    for (const s of d.results.keys()) if (s < lowest) lowest = s
    d.results.delete(lowest)
    if (lowest + 1 > d.floor) d.floor = lowest + 1
  }
}

