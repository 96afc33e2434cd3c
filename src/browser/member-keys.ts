// Member keys in this browser's IndexedDB (member-keys.ts): one small
// database of their own, `meshkeeper-member-keys`, store `keys`, keyed by
// room and member. Kept apart from the slots' databases so that the slot
// schema is untouched; a slot that is destroyed leaves its key behind, which
// names nothing (its id is never reused) and is harmless.
import { openDB } from 'idb'
import type { IDBPDatabase } from 'idb'
import type { MemberKey } from '../wire/member-key'
import { checkedKey, slotKey } from '../driver/member-keys'
import type { MemberKeyStore } from '../driver/member-keys'

const DB_NAME = 'meshkeeper-member-keys'
const STORE = 'keys'

export class IndexedDbMemberKeyStore implements MemberKeyStore {
  private db: Promise<IDBPDatabase> | null = null

  async get(room: string, member: string): Promise<MemberKey | null> {
    const db = await this.open()
    return checkedKey(await db.get(STORE, slotKey(room, member)), member)
  }

  async put(room: string, key: MemberKey): Promise<void> {
    const db = await this.open()
    // plain data and a CryptoKey: IndexedDB keeps the key usable, never readable
    await db.put(STORE, { id: key.id, algorithm: key.algorithm, publicKey: key.publicKey, privateKey: key.privateKey }, slotKey(room, key.id))
  }

  private open(): Promise<IDBPDatabase> {
    this.db ??= openDB(DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore(STORE)
      },
    }).catch((err: unknown) => {
      this.db = null // try again next time (a blocked or failed open is not forever)
      throw err
    })
    return this.db
  }
}
