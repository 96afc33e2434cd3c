// The injected clock (invariant 7: one code path). The member never touches a
// global timer or Date: in a browser it gets `realScheduler`, in the simulator
// a VirtualClock, so the same driver code runs on real and on virtual time.

export type TimerHandle = unknown

export interface Scheduler {
  /** milliseconds; only differences and leader-stamped times are meaningful */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
}

/**
 * A repeating timer on a Scheduler. Re-arms itself after `fn` runs, so a slow
 * `fn` never stacks calls; `stop()` is idempotent.
 */
export class RepeatingTimer {
  private handle: TimerHandle | null = null
  private stopped = false

  constructor(
    private readonly scheduler: Scheduler,
    private readonly everyMs: number,
    private readonly fn: () => void,
  ) {
    this.arm()
  }

  private arm(): void {
    if (this.stopped) return
    this.handle = this.scheduler.setTimeout(() => {
      this.handle = null
      if (this.stopped) return
      this.fn()
      this.arm()
    }, this.everyMs)
  }

  stop(): void {
    this.stopped = true
    if (this.handle !== null) this.scheduler.clearTimeout(this.handle)
    this.handle = null
  }
}
