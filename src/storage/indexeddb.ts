// IndexedDbStorageProvider: member slots in IndexedDB, through idb. The parts,
// a file each: the schema and its upgrades (idb-schema.ts: a database per slot
// and one per room), the shared connections (idb-connections.ts), a member
// slot (idb-storage.ts), the group commit of its saves (group-commit.ts) and
// the move of a slot out of schema 1's room database (idb-legacy.ts).
import type { MemberMeta, Storage, StorageProvider } from './types'
import { StorageError, reasonOfPlatformError } from './errors'
import { DatabaseConnections, takeCreated } from './idb-connections'
import { databaseName, slotDatabaseName } from './idb-schema'
import { IndexedDbStorage } from './idb-storage'

export { SCHEMA_VERSION, databaseName, slotDatabaseName, type MeshkeeperDb } from './idb-schema'

export interface IndexedDbStorageOptions {
  /** IndexedDB commit durability: 'strict' waits for the disk (default),
   *  'relaxed' for the OS buffers (faster; a power cut may lose the tail). */
  durability?: 'strict' | 'relaxed'
  /** how long opening waits for older connections (another tab on an older
   *  schema) to give way before it fails with BLOCKED; default 10 s */
  blockedTimeoutMs?: number
}

/** ms the room's database stays open after listMembers, for the next user (DatabaseConnections.release) */
const LIST_LINGER_MS = 1_000

export class IndexedDbStorageProvider implements StorageProvider {
  private readonly durability: 'strict' | 'relaxed'
  private readonly connections: DatabaseConnections

  constructor(options: IndexedDbStorageOptions = {}) {
    this.durability = options.durability ?? 'strict'
    this.connections = new DatabaseConnections(options.blockedTimeoutMs ?? 10_000)
  }

  async listMembers(room: string): Promise<MemberMeta[]> {
    const name = databaseName(room)
    const conn = await this.connections.acquire(name)
    try {
      const metas = await conn.db.getAll('members')
      return metas.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
    } catch (err) {
      throw new StorageError(reasonOfPlatformError(err), databaseName(room), 'listing members failed', err)
    } finally {
      // left open a moment: a joining tab lists the slots again at once (its
      // choice under the room lock, the check that its slot is still listed)
      // and then opens its slot, which uses the room's database too
      this.connections.release(name, conn, LIST_LINGER_MS)
    }
  }

  async open(room: string, member: string): Promise<Storage> {
    const roomName = databaseName(room)
    const slotName = slotDatabaseName(room, member)
    // both at once: a slot's open reads the room only once both are open
    const [roomOpen, slotOpen] = await Promise.allSettled([this.connections.acquire(roomName), this.connections.acquire(slotName)])
    if (roomOpen.status === 'rejected' || slotOpen.status === 'rejected') {
      if (roomOpen.status === 'fulfilled') this.connections.release(roomName, roomOpen.value)
      if (slotOpen.status === 'fulfilled') this.connections.release(slotName, slotOpen.value)
      throw roomOpen.status === 'rejected' ? roomOpen.reason : (slotOpen as PromiseRejectedResult).reason
    }
    const roomConn = roomOpen.value
    const conn = slotOpen.value
    const storage = new IndexedDbStorage(room, member, conn, roomConn, this.durability, () => {
      this.connections.release(slotName, conn)
      this.connections.release(roomName, roomConn)
    })
    conn.storages.add(storage)
    roomConn.storages.add(storage)
    try {
      await storage.init(takeCreated(conn))
    } catch (err) {
      await storage.close()
      throw err
    }
    return storage
  }
}
