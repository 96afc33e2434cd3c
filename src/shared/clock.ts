// The one clock (invariant 7: no global timer or Date below the entry points).
// The driver, the transport, the recipes and the simulator's disk all take a
// `Clock`: in a browser or Node it is `realClock`, in the simulator a
// VirtualClock, so the same code runs on real and on virtual time.

/** what `setTimeout` returned; only ever handed back to `clearTimeout` */
export type TimerHandle = unknown

export interface Clock {
  /** milliseconds; used for differences and for the freshness of sealed signals */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** the longest delay a platform timer keeps (a signed 32-bit ms count); longer ones fire at once */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Epoch ms at the platform's sub-ms resolution: `performance.timeOrigin +
 * performance.now()`, so instants of different tabs of one machine compare
 * (each tab's `performance.now()` starts at its own origin); `Date.now()`
 * where there is no `performance`. The commit timeline reads it.
 */
export const epochNow: () => number =
  typeof globalThis.performance === 'undefined' ? () => Date.now() : () => globalThis.performance.timeOrigin + globalThis.performance.now()

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
}
