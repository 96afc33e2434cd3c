// The storage layer: the Storage contract, its two implementations, its error.
export type { MemberMeta, MemberRecord, SaveBatch, Storage, StorageProvider } from './types'
export { StorageError, type StorageFailureListener, type StorageFailureReason } from './errors'
export { MemoryStorageProvider, type MemoryPersistRequest, type MemoryStorageOptions } from './memory'
export { IndexedDbStorageProvider, SCHEMA_VERSION, databaseName, slotDatabaseName, type IndexedDbStorageOptions, type MeshkeeperDb } from './indexeddb'
