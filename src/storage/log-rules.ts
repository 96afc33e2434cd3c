// The rules every Storage applies to a member's log, as pure functions, so the
// memory and IndexedDB implementations cannot drift apart:
//   - a batch's entries are consecutive and replace any stored suffix from
//     entries[0].index (Raft overwrites a conflicting tail, never a prefix gap);
//   - a snapshot drops every entry at or below its index;
//   - load returns the entries after the snapshot, contiguous;
//   - saves made while one is on the disk merge into one (group commit) only
//     when the merged batch has the same effect as the saves one by one.
import type { Entry, HardState, Snapshot } from '../raft/types'
import type { MemberMeta, SaveBatch } from './types'
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

/** What one member slot holds; the memory storage keeps exactly this, the
 *  IndexedDB storage keeps it across four object stores. */
export interface SlotState {
  meta: MemberMeta | null
  hardState: HardState | null
  snapshot: Snapshot | null
  /** sorted by index */
  entries: Entry[]
}

/** The slot after a (validated) batch: the one statement of what a save does.
 *  The memory storage applies it as is; the IndexedDB storage issues the
 *  requests with the same effect (idb-storage.ts), and the model test checks
 *  both against it. */
export function applyBatch(slot: SlotState, batch: SaveBatch): SlotState {
  const snapshot = batch.snapshot ?? slot.snapshot
  const snapIndex = snapshot?.meta.index ?? 0
  let entries = slot.entries.filter((e) => e.index > snapIndex)
  const added = batch.entries ?? []
  if (added.length > 0) {
    const from = added[0]!.index
    entries = entries.filter((e) => e.index < from).concat(entriesToStore(batch, snapIndex))
  }
  return { meta: batch.meta ?? slot.meta, hardState: batch.hardState ?? slot.hardState, snapshot, entries }
}

/** Group commit: one batch with the effect of saving `a` and then `b`, or null
 *  when no single batch has it (b's entries start past a gap after a's last
 *  entry: saved alone, b truncates what a did not write). Both batches were
 *  validated in this order, so b's snapshot (if any) is not older than a's.
 *  Neither input is modified; the result may share their entries. */
export function mergeBatches(a: SaveBatch, b: SaveBatch): SaveBatch | null {
  const entries = mergeEntries(a.entries ?? [], b.entries ?? [])
  if (entries === null) return null
  const out: SaveBatch = {}
  // relaxed only when every part may be: one save that must reach the disk makes the whole one strict
  if (a.sync === false && b.sync === false) out.sync = false
  const meta = b.meta ?? a.meta
  const hardState = b.hardState ?? a.hardState
  const snapshot = b.snapshot ?? a.snapshot
  if (meta !== undefined) out.meta = meta
  if (hardState !== undefined) out.hardState = hardState
  if (snapshot !== undefined) out.snapshot = snapshot
  if (entries.length > 0) out.entries = entries
  return out
}

function mergeEntries(a: readonly Entry[], b: readonly Entry[]): Entry[] | null {
  if (b.length === 0) return [...a]
  if (a.length === 0) return [...b]
  const from = b[0]!.index
  const aFirst = a[0]!.index
  // b's truncation from `from` removes all of a, or cuts a's tail (Raft's conflicting suffix)
  if (from <= aFirst) return [...b]
  if (from > a[a.length - 1]!.index + 1) return null
  return a.slice(0, from - aFirst).concat(b)
}

/** Whether a batch's entries overwrite stored ones (a conflicting suffix), so
 *  the stored range from entries[0].index must be deleted first. A plain
 *  append (entries[0].index > the last stored index) deletes nothing.
 *  `lastStored` may be too high (a harmless delete), never too low. */
export function truncatesStored(batch: SaveBatch, lastStored: number): boolean {
  const entries = batch.entries ?? []
  return entries.length > 0 && entries[0]!.index <= lastStored
}

/** An upper bound of the last stored entry index after a batch (see
 *  truncatesStored): the batch's last entry when it has entries, since the
 *  batch cut everything from its first one. */
export function lastStoredAfter(batch: SaveBatch, lastStored: number): number {
  const entries = batch.entries ?? []
  return entries.length > 0 ? entries[entries.length - 1]!.index : lastStored
}

/** A private copy of a batch, taken when save() is called: the caller may
 *  reuse its arrays at once, and a group commit writes the batch later. */
export function copyBatch(batch: SaveBatch): SaveBatch {
  const out: SaveBatch = {}
  if (batch.sync !== undefined) out.sync = batch.sync
  if (batch.meta !== undefined) out.meta = { ...batch.meta }
  if (batch.hardState !== undefined) out.hardState = { ...batch.hardState }
  if (batch.snapshot !== undefined) out.snapshot = copySnapshot(batch.snapshot)
  if (batch.entries !== undefined) out.entries = batch.entries.map(copyEntry)
  return out
}
