// The rules every Storage applies to a member's log, as pure functions, so the
// memory and IndexedDB implementations cannot drift apart:
//   - a batch's entries are consecutive and replace any stored suffix from
//     entries[0].index (Raft overwrites a conflicting tail, never a prefix gap);
//   - a snapshot drops every entry at or below its index;
//   - load returns the entries after the snapshot, contiguous.
import type { Entry, Snapshot } from '../raft/types'
import type { SaveBatch } from './types'
import { StorageError } from './errors'

/** Reject a batch that breaks the contract before anything is written:
 *  entries must be consecutive, meta must name this member, and a snapshot
 *  may not go back behind the stored one (etcd's ErrSnapOutOfDate). */
export function validateBatch(batch: SaveBatch, member: string, storedSnapshotIndex: number, slot: string): void {
  const entries = batch.entries ?? []
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (!Number.isSafeInteger(e.index) || e.index < 1 || !Number.isSafeInteger(e.term) || e.term < 0) {
      throw new StorageError('INVALID_BATCH', slot, `entry ${i} has a bad index or term`)
    }
    if (!(e.data instanceof Uint8Array)) throw new StorageError('INVALID_BATCH', slot, `entry ${e.index} data is not bytes`)
    if (i > 0 && e.index !== entries[i - 1]!.index + 1) {
      throw new StorageError('INVALID_BATCH', slot, `entries are not consecutive at ${e.index}`)
    }
  }
  if (batch.meta !== undefined && batch.meta.member !== member) {
    throw new StorageError('INVALID_BATCH', slot, `meta names member ${batch.meta.member}`)
  }
  if (batch.snapshot !== undefined && batch.snapshot.meta.index < storedSnapshotIndex) {
    throw new StorageError('INVALID_BATCH', slot, `snapshot ${batch.snapshot.meta.index} is older than the stored ${storedSnapshotIndex}`)
  }
}

/** The index below which a batch's entries are dropped: the newest snapshot
 *  index known (the stored one, or the batch's own if it carries one). */
export function snapshotIndexAfter(batch: SaveBatch, storedSnapshotIndex: number): number {
  return batch.snapshot === undefined ? storedSnapshotIndex : batch.snapshot.meta.index
}

/** The entries of a batch that survive the snapshot (index > snapshotIndex). */
export function entriesToStore(batch: SaveBatch, snapshotIndex: number): Entry[] {
  return (batch.entries ?? []).filter((e) => e.index > snapshotIndex)
}

/** Entries (sorted by index) cut to the contiguous run that starts right
 *  after the snapshot. Anything beyond a gap can never be reached by Raft, so
 *  it is not returned. */
export function contiguousAfter(sorted: readonly Entry[], snapshot: Snapshot | null): Entry[] {
  const out: Entry[] = []
  let next = (snapshot?.meta.index ?? 0) + 1
  for (const e of sorted) {
    if (e.index < next) continue
    if (e.index !== next) break
    out.push(e)
    next++
  }
  return out
}

/** A deep copy, so no caller can mutate what a storage holds (or what it
 *  returned) through a shared Uint8Array or array. */
export function copyEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() }
}

export function copySnapshot(s: Snapshot): Snapshot {
  const c = s.meta.conf
  return {
    meta: {
      index: s.meta.index,
      term: s.meta.term,
      conf: {
        voters: [...c.voters],
        learners: [...c.learners],
        votersOutgoing: [...c.votersOutgoing],
        learnersNext: [...c.learnersNext],
        autoLeave: c.autoLeave,
      },
    },
    data: s.data.slice(),
  }
}
