// Where a member's key is kept (issue 13): the key its id derives from
// (src/wire/member-key.ts) belongs to the member slot, like its log. A tab
// that takes a slot back (a reload, a dead tab's slot) takes its key with it;
// a slot without a key (made before member ids were keys) cannot prove its id
// to anyone and is left alone (identity.ts).
//
// In a browser the keys live in IndexedDB (browser-member-keys.ts): a
// non-extractable CryptoKey is stored by structured clone and still signs
// after a reload, but its private bytes are never readable. Memory storage
// (tests, Node, storage: 'memory') keeps them in memory, as it keeps slots.
import { isMemberKey } from '../wire/member-key'
import type { MemberKey } from '../wire/member-key'

export interface MemberKeyStore {
  /** the key of `member`'s slot in `room`, or null (none, or not a key that owns that id) */
  get(room: string, member: string): Promise<MemberKey | null>
  /** keep `key` with the slot `key.id` of `room` */
  put(room: string, key: MemberKey): Promise<void>
}

/** Keys in memory: the companion of MemoryStorageProvider. */
export class MemoryMemberKeyStore implements MemberKeyStore {
  private readonly keys = new Map<string, MemberKey>()

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a throw rejects, as the MemberKeyStore contract promises
  async get(room: string, member: string): Promise<MemberKey | null> {
    return checkedKey(this.keys.get(slotKey(room, member)), member)
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a throw rejects, as the MemberKeyStore contract promises
  async put(room: string, key: MemberKey): Promise<void> {
    this.keys.set(slotKey(room, key.id), key)
  }
}

/** the store's key of a slot: room and member, unambiguous (ids have no NUL) */
export const slotKey = (room: string, member: string): string => `${room}\u0000${member}`

/** What a store read back, if it is a key that owns `member`'s id (stored data is checked before use). */
export function checkedKey(value: unknown, member: string): MemberKey | null {
  return isMemberKey(value) && value.id === member ? value : null
}
