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
// do; so a save whose persist is held also holds the ones behind it. Saves
// made while one is held are merged (group commit, group-commit.ts, the same
// rules as IndexedDB): `persist` is called once per merged group.
import type { MemberMeta, MemberRecord, SaveBatch, Storage, StorageProvider } from './types'
import { FailureLatch, StorageError, reasonOfPlatformError, type StorageFailureListener } from './errors'
import { GroupCommit } from './group-commit'
import { applyBatch, contiguousAfter, copyBatch, copyEntry, copySnapshot, type SlotState } from './log-rules'

/** What a `persist` hook is told about the save it must make durable. */
export interface MemoryPersistRequest {
  room: string
  member: string
  /** a private copy of the batch; the hook may keep it */
  batch: SaveBatch
}

export interface MemoryStorageOptions {
  /** Called once per write, in call order: one save, or the group of saves
   *  merged while the previous write was held (their batches merged into one);
   *  they become durable when the returned promise resolves, and fail (for
   *  good) when it rejects. */
  persist?: (req: MemoryPersistRequest) => Promise<void> | void
}

/** One member's durable state. Entries are sorted and consecutive. */
type MemorySlot = SlotState

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
  /** this storage's operation queue, merging saves made while one is held */
  private readonly queue: GroupCommit

  constructor(
    private readonly room: string,
    private readonly member: string,
    private readonly rooms: Map<string, Map<string, MemorySlot>>,
    private readonly persist: MemoryStorageOptions['persist'],
  ) {
    this.slotName = `${room}/${member}`
    this.queue = new GroupCommit({ latch: this.latch, member, slotName: this.slotName }, (batch) => this.write(batch))
    this.queue.startAt(this.slot(false)?.snapshot?.meta.index ?? 0)
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
    return this.queue.save(batch)
  }

  /** One write of the queue: a save, or a group of them merged. */
  private async write(batch: SaveBatch): Promise<void> {
    this.latch.checkFailed()
    if (this.persist !== undefined) {
      try {
        await this.persist({ room: this.room, member: this.member, batch: copyBatch(batch) })
      } catch (cause) {
        // a hook that rejects with a platform-like error (QuotaExceededError,
        // AbortError) gets the reason IndexedDB would give; anything else is FAILED
        const reason = reasonOfPlatformError(cause, 'FAILED')
        throw this.latch.fail(new StorageError(reason, this.slotName, 'the persist hook rejected', cause))
      }
      this.latch.checkFailed()
    }
    const slot = this.slot(true)!
    Object.assign(slot, applyBatch(slot, batch))
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
    const done = this.queue.settled()
    this.latch.fail(new StorageError('CLOSED', this.slotName, 'the storage is closed'), false)
    return done
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    return this.queue.run(op)
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
