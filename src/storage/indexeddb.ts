// IndexedDbStorageProvider: member slots in IndexedDB, through idb. The parts,
// a file each: the schema and its upgrades (idb-schema.ts), the room's shared
// connection (idb-connections.ts), a member slot (idb-storage.ts) and the
// group commit of its saves (group-commit.ts).
import type { MemberMeta, Storage, StorageProvider } from './types'
import { StorageError, reasonOfPlatformError } from './errors'
import { RoomConnections } from './idb-connections'
import { databaseName } from './idb-schema'
import { IndexedDbStorage } from './idb-storage'

export { SCHEMA_VERSION, databaseName, type MeshkeeperDb } from './idb-schema'

export interface IndexedDbStorageOptions {
  /** IndexedDB commit durability: 'strict' waits for the disk (default),
   *  'relaxed' for the OS buffers (faster; a power cut may lose the tail). */
  durability?: 'strict' | 'relaxed'
  /** how long opening waits for older connections (another tab on an older
   *  schema) to give way before it fails with BLOCKED; default 10 s */
  blockedTimeoutMs?: number
}

export class IndexedDbStorageProvider implements StorageProvider {
  private readonly durability: 'strict' | 'relaxed'
  private readonly connections: RoomConnections

  constructor(options: IndexedDbStorageOptions = {}) {
    this.durability = options.durability ?? 'strict'
    this.connections = new RoomConnections(options.blockedTimeoutMs ?? 10_000)
  }

  async listMembers(room: string): Promise<MemberMeta[]> {
    const conn = await this.connections.acquire(room)
    try {
      const metas = await conn.db.getAll('members')
      return metas.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
    } catch (err) {
      throw new StorageError(reasonOfPlatformError(err), databaseName(room), 'listing members failed', err)
    } finally {
      this.connections.release(room, conn)
    }
  }

  async open(room: string, member: string): Promise<Storage> {
    const conn = await this.connections.acquire(room)
    const storage = new IndexedDbStorage(room, member, conn, this.durability, () => this.connections.release(room, conn))
    conn.storages.add(storage)
    try {
      await storage.init()
    } catch (err) {
      await storage.close()
      throw err
    }
    return storage
  }
}
