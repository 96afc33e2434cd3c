// MemoryStorageProvider: member slots kept in a JavaScript Map, for Node tests
// and the simulator. It follows exactly the rules of the IndexedDB storage
// (log-rules.ts) and passes the same acceptance suite.
//
// Modelling a crash. A save takes effect only when the provider's `persist`
// hook has resolved for it; until then `load()` and a newly opened storage do
// not see it. A simulator holds each save "on the platter" by returning a
// promise it settles on virtual time:
//
//   const held: Array<() => void> = []
//   const provider = new MemoryStorageProvider({
//     persist: () => new Promise<void>((resolve) => held.push(resolve)),
//   })
//   // ... the member saves; resolve held[i]() when its latency has passed ...
//   // crash: drop the old Storage and `held` without resolving; open() again
//   // sees only the saves whose persist resolved.
//
// Rejecting from `persist` simulates a disk failure: the save rejects with a
// StorageError (reason QUOTA_EXCEEDED / ABORTED when the hook rejects with a
// DOMException of that name, FAILED otherwise), onFailure listeners fire, and
// the storage is dead.
//
// Saves, loads and destroy of one storage run one after another in call
// order, as the transactions of one IndexedDB connection over the same stores
// do; so a save whose persist is held also holds the ones behind it.
import type { Entry, HardState, Snapshot } from '../raft/types'
import type { MemberMeta, MemberRecord, SaveBatch, Storage, StorageProvider } from './types'
import { FailureLatch, StorageError, reasonOfPlatformError, type StorageFailureListener } from './errors'
import { contiguousAfter, copyEntry, copySnapshot, entriesToStore, snapshotIndexAfter, validateBatch } from './log-rules'

/** What a `persist` hook is told about the save it must make durable. */
export interface MemoryPersistRequest {
  room: string
  member: string
  /** a private copy of the batch; the hook may keep it */
  batch: SaveBatch
}

export interface MemoryStorageOptions {
  /** Called once per save, in call order; the save becomes durable when the
   *  returned promise resolves, and fails (for good) when it rejects. */
  persist?: (req: MemoryPersistRequest) => Promise<void> | void
}

/** One member's durable state. Entries are sorted and consecutive. */
interface MemorySlot {
  meta: MemberMeta | null
  hardState: HardState | null
  snapshot: Snapshot | null
  entries: Entry[]
}

export class MemoryStorageProvider implements StorageProvider {
  /** room -> member -> slot; per instance (no module state: two providers are two browsers) */
  private readonly rooms = new Map<string, Map<string, MemorySlot>>()

  constructor(private readonly options: MemoryStorageOptions = {}) {}

  // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw is a rejection, as from IndexedDB
  async listMembers(room: string): Promise<MemberMeta[]> {
    const slots = this.rooms.get(room)
    if (slots === undefined) return []
    const out: MemberMeta[] = []
    for (const slot of slots.values()) if (slot.meta !== null) out.push({ ...slot.meta })
    return out.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw is a rejection, as from IndexedDB
  async open(room: string, member: string): Promise<Storage> {
    return new MemoryStorage(room, member, this.rooms, this.options.persist)
  }
}

class MemoryStorage implements Storage {
  private readonly slotName: string
  private readonly latch = new FailureLatch()
  /** the tail of this storage's operation queue */
  private queue: Promise<unknown> = Promise.resolve()
  /** snapshot index as of the last queued save (see indexeddb.ts: same rule) */
  private queuedSnapshotIndex: number

  constructor(
    private readonly room: string,
    private readonly member: string,
    private readonly rooms: Map<string, Map<string, MemorySlot>>,
    private readonly persist: MemoryStorageOptions['persist'],
  ) {
    this.slotName = `${room}/${member}`
    this.queuedSnapshotIndex = this.slot(false)?.snapshot?.meta.index ?? 0
  }

  onFailure(fn: StorageFailureListener): () => void {
    return this.latch.on(fn)
  }

  load(): Promise<MemberRecord | null> {
    try {
      this.latch.check()
    } catch (err) {
      return Promise.reject(err)
    }
    // eslint-disable-next-line @typescript-eslint/require-await -- an async op keeps the queue's microtask timing (the simulator's traces depend on it)
    return this.enqueue(async () => {
      this.latch.checkFailed()
      const slot = this.slot(false)
      if (slot === undefined) return null
      if (slot.meta === null) {
        if (slot.hardState === null && slot.snapshot === null && slot.entries.length === 0) return null
        throw this.latch.fail(new StorageError('CORRUPT', this.slotName, 'Raft state without member meta'))
      }
      return {
        meta: { ...slot.meta },
        durable: {
          hardState: slot.hardState === null ? { term: 0, vote: null, commit: 0 } : { ...slot.hardState },
          snapshot: slot.snapshot === null ? null : copySnapshot(slot.snapshot),
          entries: contiguousAfter(slot.entries, slot.snapshot).map(copyEntry),
        },
      }
    })
  }

  save(batch: SaveBatch): Promise<void> {
    try {
      this.latch.check()
      validateBatch(batch, this.member, this.queuedSnapshotIndex, this.slotName)
    } catch (err) {
      return Promise.reject(err)
    }
    // copy now: the caller may reuse its arrays as soon as save() returns
    const copy = copyBatch(batch)
    this.queuedSnapshotIndex = snapshotIndexAfter(copy, this.queuedSnapshotIndex)
    return this.enqueue(async () => {
      this.latch.checkFailed()
      if (this.persist !== undefined) {
        try {
          await this.persist({ room: this.room, member: this.member, batch: copyBatch(copy) })
        } catch (cause) {
          // a hook that rejects with a platform-like error (QuotaExceededError,
          // AbortError) gets the reason IndexedDB would give; anything else is FAILED
          const reason = reasonOfPlatformError(cause, 'FAILED')
          throw this.latch.fail(new StorageError(reason, this.slotName, 'the persist hook rejected', cause))
        }
        this.latch.checkFailed()
      }
      applyBatch(this.slot(true)!, copy)
    })
  }

  destroy(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/require-await -- an async op keeps the queue's microtask timing (the simulator's traces depend on it)
    return this.enqueue(async () => {
      this.latch.check()
      const slots = this.rooms.get(this.room)
      slots?.delete(this.member)
      if (slots?.size === 0) this.rooms.delete(this.room)
      this.latch.fail(new StorageError('CLOSED', this.slotName, 'the member slot was destroyed'), false)
    })
  }

  close(): Promise<void> {
    // like an IndexedDB connection: queued saves still complete, new ones reject
    const done = this.queue.then(
      () => undefined,
      () => undefined,
    )
    this.latch.fail(new StorageError('CLOSED', this.slotName, 'the storage is closed'), false)
    return done
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op, op)
    this.queue = result.catch(() => undefined)
    return result
  }

  private slot(create: boolean): MemorySlot | undefined {
    let slots = this.rooms.get(this.room)
    if (slots === undefined) {
      if (!create) return undefined
      slots = new Map()
      this.rooms.set(this.room, slots)
    }
    let slot = slots.get(this.member)
    if (slot === undefined && create) {
      slot = { meta: null, hardState: null, snapshot: null, entries: [] }
      slots.set(this.member, slot)
    }
    return slot
  }
}

/** Apply one batch to a slot, by the rules in log-rules.ts. */
function applyBatch(slot: MemorySlot, batch: SaveBatch): void {
  if (batch.meta !== undefined) slot.meta = batch.meta
  if (batch.hardState !== undefined) slot.hardState = batch.hardState
  if (batch.snapshot !== undefined) {
    const snapIndex = batch.snapshot.meta.index
    slot.snapshot = batch.snapshot
    slot.entries = slot.entries.filter((e) => e.index > snapIndex)
  }
  const entries = batch.entries ?? []
  if (entries.length > 0) {
    const from = entries[0]!.index
    const kept = slot.entries.filter((e) => e.index < from)
    slot.entries = kept.concat(entriesToStore(batch, slot.snapshot?.meta.index ?? 0))
  }
}

function copyBatch(batch: SaveBatch): SaveBatch {
  const out: SaveBatch = {}
  if (batch.meta !== undefined) out.meta = { ...batch.meta }
  if (batch.hardState !== undefined) out.hardState = { ...batch.hardState }
  if (batch.snapshot !== undefined) out.snapshot = copySnapshot(batch.snapshot)
  if (batch.entries !== undefined) out.entries = batch.entries.map(copyEntry)
  return out
}
