// The IndexedDB schema of meshkeeper's databases, and how a version upgrades.
//
// Layout (schema 2): a database per member slot, and one per room.
//   "meshkeeper-slot:<room>:<member>"  (both parts URI-encoded) holds the
//       slot's Raft state and its meta, so a save of meta + hard state +
//       entries stays one transaction;
//   "meshkeeper:<room>" holds the room's index of slots: `members` (member ->
//       MemberMeta, a copy written with each meta save), read by listMembers.
// Why a database per slot: a readwrite transaction waits for every earlier
// readwrite transaction over overlapping stores of its database, whichever
// tab issued it. With one database per room (schema 1) the tabs of a browser
// queued behind each other on every save (bench: each follower write's 6
// transactions over 3 tabs waited 2-3 ms each for another tab's); transactions
// in different databases do not wait for each other.
//
// Both kinds share one set of object stores, keyed by member id (out-of-line
// keys), so one member slot's records are the same wherever they live:
//   members    member            -> MemberMeta
//   hardStates member            -> HardState
//   snapshots  member            -> Snapshot
//   entries    [member, index]   -> a run of entries from that index, packed
//                                   (schema 3, log-runs.ts), or one Entry (schema 2)
// A slot database holds one member; a room database holds the index in
// `members`, and in its other stores the Raft state of slots written by schema
// 1, which a slot moves into its own database when it opens (idb-legacy.ts).
import type { DBSchema, IDBPDatabase, StoreNames } from 'idb'
import type { HardState, Snapshot } from '../raft/types'
import type { LogRecord } from './log-runs'
import type { MemberMeta, SaveBatch } from './types'

/** Bump together with a new branch in `upgradeSchema`. */
export const SCHEMA_VERSION = 3

export interface MeshkeeperDb extends DBSchema {
  members: { key: string; value: MemberMeta }
  hardStates: { key: string; value: HardState }
  snapshots: { key: string; value: Snapshot }
  entries: { key: [string, number]; value: LogRecord }
}

export type StoreName = StoreNames<MeshkeeperDb>
export const ALL_STORES: StoreName[] = ['members', 'hardStates', 'snapshots', 'entries']
/** the stores of a slot's Raft state (not its meta) */
export const STATE_STORES: StoreName[] = ['hardStates', 'snapshots', 'entries']

/** The database name of a room (its index of slots). */
export function databaseName(room: string): string {
  return `meshkeeper:${room}`
}

/** The database name of one member slot of a room. Its own prefix and the
 *  encoded parts keep it apart from every room's name and every other slot's
 *  (a ':' in a room or member id cannot shift the boundary). */
export function slotDatabaseName(room: string, member: string): string {
  return `meshkeeper-slot:${encodeURIComponent(room)}:${encodeURIComponent(member)}`
}

/** One branch per version step; each must work from the one before. */
export function upgradeSchema(db: IDBPDatabase<MeshkeeperDb>, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('members')
    db.createObjectStore('hardStates')
    db.createObjectStore('snapshots')
    db.createObjectStore('entries')
  }
  // 1 -> 2: no store changes; the Raft state moved to slot databases. The
  // bump is what matters: a tab still running schema-1 code hears
  // `versionchange` and stops (VERSION_CHANGE), and cannot open the room
  // again (VersionError), so it never reads or writes a slot's state in the
  // room database after a newer tab moved it out.
  // 2 -> 3: no store changes; a save writes its entries as one packed run
  // (log-runs.ts), which schema-2 code cannot read: the bump stops it, as
  // above. Schema 2's one-entry records read as runs of one: no migration.
}

/** The stores a batch writes, and no other: a transaction's scope is what it
 *  locks, so a hard-state-only save does not wait on (or block) the log. */
export function storesOf(batch: SaveBatch): StoreName[] {
  const stores: StoreName[] = []
  if (batch.meta !== undefined) stores.push('members')
  if (batch.hardState !== undefined) stores.push('hardStates')
  if (batch.snapshot !== undefined) stores.push('snapshots')
  if (batch.snapshot !== undefined || (batch.entries?.length ?? 0) > 0) stores.push('entries')
  return stores
}

/** The keys of one member's log from `from` to `to` (inclusive, or up to
 *  `to` exclusive with `toOpen`). */
export function memberRange(member: string, from: number, to = Infinity, toOpen = false): IDBKeyRange {
  return IDBKeyRange.bound([member, from], [member, to], false, toOpen)
}
