// The IndexedDB schema of a room's database, and how a version upgrades.
//
// Layout: one database per room ("meshkeeper:<room>"), shared by every member
// slot of that room in this browser profile, with four object stores keyed by
// member id (out-of-line keys):
//   members    member            -> MemberMeta
//   hardStates member            -> HardState
//   snapshots  member            -> Snapshot
//   entries    [member, index]   -> Entry
// so one member's log is the key range [member, -Inf]..[member, +Inf], and a
// slot is isolated from its neighbours by its key prefix.
import type { DBSchema, IDBPDatabase, StoreNames } from 'idb'
import type { Entry, HardState, Snapshot } from '../raft/types'
import type { MemberMeta, SaveBatch } from './types'

/** Bump together with a new branch in `upgradeSchema`. */
export const SCHEMA_VERSION = 1

export interface MeshkeeperDb extends DBSchema {
  members: { key: string; value: MemberMeta }
  hardStates: { key: string; value: HardState }
  snapshots: { key: string; value: Snapshot }
  entries: { key: [string, number]; value: Entry }
}

export type StoreName = StoreNames<MeshkeeperDb>
export const ALL_STORES: StoreName[] = ['members', 'hardStates', 'snapshots', 'entries']

/** The database name of a room. */
export function databaseName(room: string): string {
  return `meshkeeper:${room}`
}

/** One branch per version step; each must work from the one before. */
export function upgradeSchema(db: IDBPDatabase<MeshkeeperDb>, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('members')
    db.createObjectStore('hardStates')
    db.createObjectStore('snapshots')
    db.createObjectStore('entries')
  }
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

/** The keys of one member's log from `from` to `to` (inclusive). */
export function memberRange(member: string, from: number, to = Infinity): IDBKeyRange {
  return IDBKeyRange.bound([member, from], [member, to])
}
