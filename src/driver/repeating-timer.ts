// A repeating timer on the injected clock (src/shared/clock.ts): the member's
// tick and every periodic job run through it, on real or virtual time alike.
import type { Clock, TimerHandle } from '../shared/clock'

/**
 * What a RepeatingTimer hands over when its callback throws: the callback's
 * error as `cause`. Typed, so the owner can tell its own tick failing from
 * anything else it reports.
 */
export class TimerCallbackError extends Error {
  readonly code = 'TIMER_CALLBACK_FAILED'

  constructor(cause: unknown) {
    super(`TIMER_CALLBACK_FAILED: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'TimerCallbackError'
  }
}

/**
 * A repeating timer on a Clock. Re-arms itself after `fn` runs, so a slow
 * `fn` never stacks calls; `stop()` is idempotent.
 *
 * What must stay true: the timer re-arms whatever `fn` does. A throw is
 * caught and handed to `onError` (a throw from `onError` is dropped too): one
 * bad callback must not stop a member ticking, and an exception escaping
 * into the event loop would end a Node process.
 */
export class RepeatingTimer {
  private handle: TimerHandle | null = null
  private stopped = false

  constructor(
    private readonly scheduler: Clock,
    private readonly everyMs: number,
    private readonly fn: () => void,
    private readonly onError: (err: TimerCallbackError) => void,
  ) {
    this.arm()
  }

  private arm(): void {
    if (this.stopped) return
    this.handle = this.scheduler.setTimeout(() => {
      this.handle = null
      if (this.stopped) return
      try {
        this.fn()
      } catch (err) {
        this.report(err)
      }
      this.arm()
    }, this.everyMs)
  }

  private report(err: unknown): void {
    try {
      this.onError(new TimerCallbackError(err))
    } catch {
      // the reporter failed as well: nothing is left to tell, keep ticking
    }
  }

  stop(): void {
    this.stopped = true
    if (this.handle !== null) this.scheduler.clearTimeout(this.handle)
    this.handle = null
  }
}
