// A member's disk in the Raft simulator: the durable state (hard state,
// snapshot, log) behind a write latency on virtual time.
//
// A write becomes durable only when its latency has passed, and writes finish
// in the order they were issued (one IndexedDB connection's transactions do).
// A crash loses every write not yet finished — exactly what a tab that dies
// mid-transaction loses. What must stay true: `durable` only ever holds
// completed writes; a write's entries overwrite the log suffix from their
// first index, as the Ready contract says.
import type { VirtualClock, TimerId } from '../../src/testing/virtual-time'
import type { DurableState, Entry, HardState, Snapshot } from '../../src/raft/types'

/** One batch to make durable (the persistable part of a Ready). */
export interface DiskWrite {
  hardState: HardState | null
  entries: Entry[]
  snapshot: Snapshot | null
}

export class RaftDisk {
  private state: DurableState = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] }
  private readonly inFlight = new Set<TimerId>()
  private lastDoneAt = 0

  constructor(private readonly clock: VirtualClock) {}

  /** What survived on disk: a deep-enough copy for a restarting core (entries are never mutated). */
  load(): DurableState {
    return { hardState: { ...this.state.hardState }, snapshot: this.state.snapshot, entries: this.state.entries.slice() }
  }

  /** The durable state as it is now (read-only view for checkers). */
  get durable(): Readonly<DurableState> {
    return this.state
  }

  /** Whether a write is still waiting to become durable. */
  get busy(): boolean {
    return this.inFlight.size > 0
  }

  /**
   * Queue `w`; it becomes durable after `latency` ms (and after every earlier
   * write), then `done` runs. `onDurable` runs at the same moment, before
   * `done`, so checkers see the new durable state first.
   */
  write(w: DiskWrite, latency: number, done: () => void, onDurable?: (prev: HardState) => void): void {
    const at = Math.max(this.clock.now() + latency, this.lastDoneAt)
    this.lastDoneAt = at
    const id = this.clock.setTimeout(() => {
      this.inFlight.delete(id)
      const prev = this.state.hardState
      this.commitWrite(w)
      onDurable?.(prev)
      done()
    }, at - this.clock.now())
    this.inFlight.add(id)
  }

  /** Install a snapshot taken locally (compaction) at once: it covers only applied, durable entries. */
  compactTo(snap: Snapshot): void {
    this.commitWrite({ hardState: null, entries: [], snapshot: snap })
  }

  /** The tab died: every write not yet durable is lost. */
  crash(): void {
    for (const id of this.inFlight) this.clock.clearTimeout(id)
    this.inFlight.clear()
    this.lastDoneAt = 0
  }

  private commitWrite(w: DiskWrite): void {
    const s = this.state
    if (w.snapshot !== null && w.snapshot.meta.index > (s.snapshot?.meta.index ?? 0)) {
      const at = w.snapshot.meta.index
      s.snapshot = w.snapshot
      // Keep the log after the snapshot only if it continues it (same term at the snapshot index).
      const k = s.entries.findIndex((e) => e.index === at)
      s.entries = k >= 0 && s.entries[k]!.term === w.snapshot.meta.term ? s.entries.slice(k + 1) : []
    }
    if (w.entries.length > 0) {
      const first = w.entries[0]!.index
      const base = s.snapshot?.meta.index ?? 0
      const keep = s.entries.filter((e) => e.index < first)
      s.entries = keep.concat(w.entries.filter((e) => e.index > base))
    }
    if (w.hardState !== null) s.hardState = { ...w.hardState }
  }
}
