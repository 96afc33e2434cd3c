// The transport's clock (invariant 7: no global timer or Date below the entry
// points). Shaped like the node's Scheduler (src/node/scheduler.ts), so the
// node can hand its own down; the entry points that build a transport
// without one get `realClock`.

export type TransportTimer = unknown

export interface TransportClock {
  /** milliseconds; used for differences and for the freshness of sealed signals */
  now(): number
  setTimeout(fn: () => void, ms: number): TransportTimer
  clearTimeout(handle: TransportTimer): void
}

export const realClock: TransportClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
}
