// A member's disk in the simulator: memory storage behind a save latency on
// virtual time. A save becomes durable only when its latency has passed; a
// crash before that loses it (and everything after it), which is exactly the
// state a real member loses when its tab dies mid-transaction. Saves complete
// in the order they were made, as one IndexedDB connection's transactions do.
import * as prng from 'lib0/prng'
import type { MemberRecord, SaveBatch, Storage, StorageProvider } from '../storage/types'
import { MeshError } from '../shared/errors'

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export class SimDisk {
  private generation = 0
  private readonly timers = new Set<unknown>()
  /** when the last queued save completes: saves finish in order */
  private lastDoneAt = 0

  constructor(
    private readonly clock: Clock,
    private readonly gen: prng.PRNG,
    private readonly latencyMs: [number, number],
    private readonly provider: StorageProvider,
    private readonly room: string,
    private readonly member: string,
  ) {}

  /** A Storage for the member's next life. */
  open(): Storage {
    const generation = this.generation
    let inner: Promise<Storage> | null = null
    const storage = (): Promise<Storage> => (inner ??= this.provider.open(this.room, this.member))
    const alive = (): void => {
      if (generation !== this.generation) throw new MeshError('STORAGE', 'the disk of a crashed member')
    }
    return {
      load: async (): Promise<MemberRecord | null> => {
        alive()
        return (await storage()).load()
      },
      save: (batch: SaveBatch): Promise<void> => {
        if (generation !== this.generation) return Promise.reject(new MeshError('STORAGE', 'the disk of a crashed member'))
        const [lo, hi] = this.latencyMs
        const delay = lo >= hi ? lo : prng.uint32(this.gen, lo, hi)
        const at = Math.max(this.clock.now() + delay, this.lastDoneAt)
        this.lastDoneAt = at
        return new Promise<void>((resolve, reject) => {
          const timer = this.clock.setTimeout(() => {
            this.timers.delete(timer)
            if (generation !== this.generation) return
            storage()
              .then((s) => s.save(batch))
              .then(resolve, reject)
          }, at - this.clock.now())
          this.timers.add(timer)
        })
      },
      destroy: async () => {
        alive()
        await (await storage()).destroy()
      },
      close: async () => {
        if (inner !== null) await (await inner).close()
      },
    }
  }

  /** Lose every save not yet durable; the open Storage stops working. */
  crash(): void {
    this.generation++
    for (const t of this.timers) this.clock.clearTimeout(t)
    this.timers.clear()
    this.lastDoneAt = 0
  }
}
