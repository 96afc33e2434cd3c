// The replicated log as one member holds it: a snapshot (everything up to
// `snapshotIndex`, compacted) followed by entries, of which a suffix is not
// yet durable. etcd splits this into raftLog + unstable; we keep every entry
// after the snapshot in memory (compaction bounds it), and track how far the
// driver has been handed entries for persistence and how far it persisted.
//
// Invariants:
// - entries[i].index === snapshotIndex + 1 + i (contiguous);
// - applied <= committed <= lastIndex();
// - stableIndex <= inProgressIndex <= lastIndex(): entries up to stableIndex are
//   on disk; up to inProgressIndex they were handed out in a Ready.
import { PLANTED_BUGS } from './planted-bugs'
import type { Entry, Snapshot, SnapshotMeta } from './types'

/** Bytes an entry counts for in maxSizePerMsg and the uncommitted cap. */
export const entrySize = (e: Entry): number => e.data.length + 16

export class RaftLog {
  snapshotIndex: number
  snapshotTerm: number
  /** the latest snapshot with its data, what the leader sends to laggards */
  snapshot: Snapshot | null
  entries: Entry[]
  committed: number
  applied: number
  /** committed entries up to here were handed out to be applied */
  applying: number
  stableIndex: number
  inProgressIndex: number
  /** the lowest index whose entry was replaced since the last takeTruncation
   *  (0: none); acknowledgements still queued for replaced entries must not
   *  leave, they vouch for what never reached the disk */
  truncatedFrom = 0
  /** a snapshot received from the leader, not yet handed out in a Ready */
  pendingSnapshot: Snapshot | null = null
  /** handed out, not yet acknowledged by advance() */
  snapshotInProgress: Snapshot | null = null

  constructor(snapshot: Snapshot | null, entries: Entry[], committed: number) {
    this.snapshot = snapshot
    this.snapshotIndex = snapshot?.meta.index ?? 0
    this.snapshotTerm = snapshot?.meta.term ?? 0
    // keep only the contiguous run right after the snapshot
    const ents: Entry[] = []
    for (const e of entries) {
      if (e.index <= this.snapshotIndex) continue
      if (e.index !== this.snapshotIndex + 1 + ents.length) break
      ents.push(e)
    }
    this.entries = ents
    this.committed = Math.min(Math.max(committed, this.snapshotIndex), this.lastIndex())
    this.applied = this.snapshotIndex
    this.applying = this.snapshotIndex
    this.stableIndex = this.lastIndex()
    this.inProgressIndex = this.lastIndex()
  }

  firstIndex(): number {
    return this.snapshotIndex + 1
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length
  }

  lastTerm(): number {
    const n = this.entries.length
    return n === 0 ? this.snapshotTerm : this.entries[n - 1]!.term
  }

  /** The term at `i`, or undefined when `i` is compacted or beyond the log. */
  term(i: number): number | undefined {
    if (i === this.snapshotIndex) return this.snapshotTerm
    if (i < this.snapshotIndex) return undefined
    return this.entries[i - this.snapshotIndex - 1]?.term
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term
  }

  entryAt(i: number): Entry | undefined {
    return this.entries[i - this.snapshotIndex - 1]
  }

  /** §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ours = this.lastTerm()
    return lastTerm > ours || (lastTerm === ours && lastIndex >= this.lastIndex())
  }

  /**
   * The index of the first of `ents` that is not already in the log with the
   * same term (a conflict, or the first new entry), or 0 when all are present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index
    }
    return 0
  }

  /**
   * Fast backtracking (etcd's findConflictByTerm): the largest index <= `index`
   * whose term is <= `term`, with that term. Every entry in between has a
   * larger term, so it cannot match the other log's entries at those indexes.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    let i = Math.min(index, this.lastIndex())
    for (; i > this.snapshotIndex; i--) {
      const t = this.entries[i - this.snapshotIndex - 1]!.term
      if (t <= term) return [i, t]
    }
    if (i === this.snapshotIndex) return [i, this.snapshotTerm]
    return [i, 0]
  }

  /** Append, truncating any existing suffix from ents[0].index. */
  append(ents: readonly Entry[]): void {
    if (ents.length === 0) return
    const from = ents[0]!.index
    const keep = from - this.snapshotIndex - 1
    if (keep < this.entries.length) {
      this.entries.length = keep
      this.truncatedFrom = this.truncatedFrom === 0 ? from : Math.min(this.truncatedFrom, from)
      if (this.stableIndex >= from) this.stableIndex = from - 1
      if (this.inProgressIndex >= from) this.inProgressIndex = from - 1
    }
    for (const e of ents) this.entries.push(e)
  }

  /** The lowest replaced index since the last call (0: none), and reset. */
  takeTruncation(): number {
    const from = this.truncatedFrom
    this.truncatedFrom = 0
    return from
  }

  /**
   * The follower's side of MsgApp: if our log matches at (prevIndex, prevTerm),
   * append `ents` (truncating a conflicting suffix) and advance commit. Returns
   * the last index now known to match the leader, or -1 on mismatch.
   * `noTruncate` is the planted bug that keeps conflicting entries.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: readonly Entry[], noTruncate: boolean): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1
    const lastNew = prevIndex + ents.length
    const ci = this.findConflict(ents)
    if (ci !== 0) {
      // never overwrite committed entries: a leader asking for it is lying
      if (ci <= this.committed) return -1
      if (PLANTED_BUGS && noTruncate) {
        const last = this.lastIndex()
        this.append(ents.slice(Math.max(ci, last + 1) - prevIndex - 1))
      } else {
        this.append(ents.slice(ci - prevIndex - 1))
      }
    }
    this.commitTo(Math.min(leaderCommit, lastNew))
    return lastNew
  }

  commitTo(c: number): boolean {
    if (c > this.committed && c <= this.lastIndex()) {
      this.committed = c
      return true
    }
    return false
  }

  /** Entries [lo, hi), at most `maxBytes` of them but at least one. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    const off = this.snapshotIndex + 1
    const out: Entry[] = []
    let size = 0
    for (let i = lo; i < hi; i++) {
      const e = this.entries[i - off]
      if (e === undefined) break
      size += entrySize(e)
      if (out.length > 0 && size > maxBytes) break
      out.push(e)
    }
    return out
  }

  /** Entries to hand to the driver for persistence. */
  unstableEntries(): Entry[] {
    if (this.inProgressIndex >= this.lastIndex()) return []
    return this.entries.slice(this.inProgressIndex - this.snapshotIndex)
  }

  hasNextCommitted(): boolean {
    return this.committed > this.applying && this.pendingSnapshot === null
  }

  /** Committed entries not yet handed out for application. */
  nextCommitted(): Entry[] {
    if (!this.hasNextCommitted()) return []
    return this.entries.slice(this.applying - this.snapshotIndex, this.committed - this.snapshotIndex)
  }

  /** advance(): entries through (index, term) are durable. */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index > this.stableIndex) this.stableIndex = index
  }

  /** Replace the whole log by a snapshot received from the leader. */
  restore(snap: Snapshot): void {
    this.snapshot = snap
    this.snapshotIndex = snap.meta.index
    this.snapshotTerm = snap.meta.term
    this.entries = []
    this.committed = snap.meta.index
    // `applied` moves when the driver advances past the Ready carrying it
    this.applying = snap.meta.index
    this.stableIndex = snap.meta.index
    this.inProgressIndex = snap.meta.index
    this.pendingSnapshot = snap
  }

  /** Drop entries up to `meta.index`, which becomes the snapshot. */
  compact(meta: SnapshotMeta, data: Uint8Array): Snapshot {
    const snap: Snapshot = { meta, data }
    this.entries = this.entries.slice(meta.index - this.snapshotIndex)
    this.snapshotIndex = meta.index
    this.snapshotTerm = meta.term
    this.snapshot = snap
    if (this.stableIndex < meta.index) this.stableIndex = meta.index
    if (this.inProgressIndex < meta.index) this.inProgressIndex = meta.index
    return snap
  }
}
