// Schema 1's leftovers: before schema 2, every slot's Raft state lived in its
// room's database (idb-schema.ts). A slot that opens moves what it finds there
// into its own database, so a user's data survives the upgrade.
//
// Crash-safe in two steps: the copy is ONE transaction in the slot database,
// and the room's copy is deleted only after it. A slot database that holds
// anything is never overwritten (it is newer, or the copy already happened);
// what is left in the room database is then deleted at the next open. Schema
// 1's code cannot write the room database once it is at version 2, so the
// room's copy never changes after the move.
import type { IDBPDatabase } from 'idb'
import type { Entry, HardState, Snapshot } from '../raft/types'
import type { MemberMeta } from './types'
import { DecodeError } from '../codec/checked-reader'
import { StorageError } from './errors'
import { ALL_STORES, STATE_STORES, memberRange, type MeshkeeperDb } from './idb-schema'
import { replayRecords, type RunSpan } from './log-runs'

type Db = IDBPDatabase<MeshkeeperDb>

/** One member's records in a database, as stored. */
export interface StoredSlot {
  meta: MemberMeta | undefined
  hardState: HardState | undefined
  snapshot: Snapshot | undefined
  /** the log its records hold (log-runs.ts: replayed in key order) */
  entries: Entry[]
  /** each log record's live span, in key order */
  runs: RunSpan[]
}

/** Read every record of `member` in one transaction. A log record that does
 *  not decode fails with CORRUPT. */
export async function readSlot(db: Db, member: string): Promise<StoredSlot> {
  const tx = db.transaction(ALL_STORES, 'readonly')
  const [meta, hardState, snapshot, records] = await Promise.all([
    tx.objectStore('members').get(member),
    tx.objectStore('hardStates').get(member),
    tx.objectStore('snapshots').get(member),
    tx.objectStore('entries').getAll(memberRange(member, -Infinity)),
    tx.done,
  ])
  let log
  try {
    log = replayRecords(records)
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    throw new StorageError('CORRUPT', `${db.name}/${member}`, `a log record does not decode: ${err.reason}`, err)
  }
  return { meta, hardState, snapshot, entries: log.entries, runs: log.spans }
}

/** What a database just created holds of any member: nothing. */
export const EMPTY_SLOT: StoredSlot = Object.freeze({ meta: undefined, hardState: undefined, snapshot: undefined, entries: [], runs: [] })

function hasState(s: StoredSlot): boolean {
  return s.hardState !== undefined || s.snapshot !== undefined || s.entries.length > 0
}

/** Whether a database holds nothing of a member. */
export function isEmpty(s: StoredSlot): boolean {
  return s.meta === undefined && !hasState(s)
}

/**
 * Move `member`'s schema-1 records from the room database into its empty slot
 * database, then delete the room's copy of its Raft state. The room keeps the
 * meta: it is the room's index of slots (listMembers). Resolves to whether
 * anything was copied.
 */
export async function moveLegacySlot(room: Db, slot: Db, member: string, slotEmpty: boolean, roomHeld: StoredSlot, durability: 'strict' | 'relaxed'): Promise<boolean> {
  let copied = false
  if (slotEmpty && !isEmpty(roomHeld)) {
    const tx = slot.transaction(ALL_STORES, 'readwrite', { durability })
    const writes: Promise<unknown>[] = [tx.done]
    if (roomHeld.meta !== undefined) writes.push(tx.objectStore('members').put(roomHeld.meta, member))
    if (roomHeld.hardState !== undefined) writes.push(tx.objectStore('hardStates').put(roomHeld.hardState, member))
    if (roomHeld.snapshot !== undefined) writes.push(tx.objectStore('snapshots').put(roomHeld.snapshot, member))
    // one record per entry, as schema 1 kept them (a run must be gapless; what schema 1 left may not be)
    for (const e of roomHeld.entries) writes.push(tx.objectStore('entries').put(e, [member, e.index]))
    await Promise.all(writes)
    copied = true
  }
  if (hasState(roomHeld)) await forget(room, member, durability, false)
  return copied
}

/** Delete `member`'s Raft state from a database, and its meta if `withMeta`,
 *  in one transaction. */
export async function forget(db: Db, member: string, durability: 'strict' | 'relaxed', withMeta: boolean): Promise<void> {
  const tx = db.transaction(withMeta ? ALL_STORES : STATE_STORES, 'readwrite', { durability })
  await Promise.all([
    withMeta ? tx.objectStore('members').delete(member) : null,
    tx.objectStore('hardStates').delete(member),
    tx.objectStore('snapshots').delete(member),
    tx.objectStore('entries').delete(memberRange(member, -Infinity)),
    tx.done,
  ])
}
