// Virtual time: a deterministic event queue on virtual milliseconds.
//
// Nothing here touches real timers. Time moves only when someone runs events
// (`runNext`, `advance`, `runUntil`), and events run in (time, insertion)
// order, so two runs that schedule the same events in the same order behave
// identically. What must stay true:
// - `now()` never goes back;
// - an event never runs before its due time, and `now()` equals its due time
//   while it runs;
// - events due at the same time run in the order they were scheduled;
// - a cleared event never runs.
import { MeshError } from '../shared/errors'

/** A handle returned by setTimeout/setInterval (never 0, never reused). */
export type TimerId = number

interface ScheduledEvent {
  at: number
  seq: number
  id: TimerId
  fn: () => void
  /** repeat period for intervals, 0 for one-shot timeouts */
  every: number
}

/** A deterministic clock and event queue on virtual milliseconds. */
export class VirtualClock {
  private time = 0
  private seq = 0
  private nextId = 1
  /** binary min-heap on (at, seq) */
  private readonly heap: ScheduledEvent[] = []
  /** id -> event still pending (an interval keeps its id across repeats) */
  private readonly pending = new Map<TimerId, ScheduledEvent>()
  private eventsRun = 0

  /** Virtual milliseconds since the clock was created (starts at `start`, default 0). */
  constructor(start = 0) {
    this.time = start
  }

  /** The current virtual time in milliseconds. */
  now(): number {
    return this.time
  }

  /** How many events have run so far (for traces and statistics). */
  get executed(): number {
    return this.eventsRun
  }

  /** How many events are pending. */
  get size(): number {
    return this.pending.size
  }

  /** Run `fn` once, `ms` virtual milliseconds from now (negative counts as 0). */
  setTimeout(fn: () => void, ms: number): TimerId {
    return this.schedule(fn, ms, 0)
  }

  /** Cancel a pending timeout or interval; unknown or finished ids are ignored. */
  clearTimeout(id: TimerId | undefined | null): void {
    if (id == null) return
    this.pending.delete(id)
  }

  /** Run `fn` every `ms` virtual milliseconds (ms must be > 0), first after `ms`. */
  setInterval(fn: () => void, ms: number): TimerId {
    if (!(ms > 0)) throw new MeshError('BAD_ARGUMENTS', `interval must be positive, got ${ms}`)
    return this.schedule(fn, ms, ms)
  }

  /** Cancel an interval (same as clearTimeout). */
  clearInterval(id: TimerId | undefined | null): void {
    this.clearTimeout(id)
  }

  /** The due time of the earliest pending event, or null when none is pending. */
  nextAt(): number | null {
    const top = this.peekLive()
    return top === null ? null : top.at
  }

  /** Run the earliest pending event (moving time to its due time); false if none. */
  runNext(): boolean {
    const ev = this.peekLive()
    if (ev === null) return false
    this.popTop()
    this.time = Math.max(this.time, ev.at)
    if (ev.every > 0) {
      // Re-queue before running so the callback may clear its own interval.
      ev.at = this.time + ev.every
      ev.seq = this.seq++
      this.push(ev)
    } else {
      this.pending.delete(ev.id)
    }
    this.eventsRun++
    ev.fn()
    return true
  }

  /** Run every event due up to now + ms in time order, then set the time to now + ms. */
  advance(ms: number): void {
    const target = this.time + Math.max(0, ms)
    for (;;) {
      const at = this.nextAt()
      if (at === null || at > target) break
      this.runNext()
    }
    this.time = Math.max(this.time, target)
  }

  /** Move time forward to `to` without running anything; no event may be due before `to`. */
  jumpTo(to: number): void {
    const at = this.nextAt()
    if (at !== null && at < to) throw new MeshError('BAD_ARGUMENTS', `cannot jump to ${to}: an event is due at ${at}`)
    this.time = Math.max(this.time, to)
  }

  /**
   * Run events one at a time until `predicate()` holds (checked before each
   * event) or `maxMs` of virtual time has passed. Returns whether the predicate
   * held. Time ends at the moment the predicate held, or at now + maxMs.
   */
  runUntil(predicate: () => boolean, maxMs: number): boolean {
    const deadline = this.time + Math.max(0, maxMs)
    for (;;) {
      if (predicate()) return true
      const at = this.nextAt()
      if (at === null || at > deadline) break
      this.runNext()
    }
    this.time = Math.max(this.time, deadline)
    return predicate()
  }

  private schedule(fn: () => void, ms: number, every: number): TimerId {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
    const ev: ScheduledEvent = { at: this.time + delay, seq: this.seq++, id: this.nextId++, fn, every }
    this.pending.set(ev.id, ev)
    this.push(ev)
    return ev.id
  }

  /** The earliest event that is still pending; cleared ones are dropped lazily. */
  private peekLive(): ScheduledEvent | null {
    while (this.heap.length > 0) {
      const top = this.heap[0]!
      if (this.pending.get(top.id) === top) return top
      this.popTop()
    }
    return null
  }

  private before(a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  private push(ev: ScheduledEvent): void {
    const h = this.heap
    h.push(ev)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(h[i]!, h[parent]!)) break
      ;[h[i], h[parent]] = [h[parent]!, h[i]!]
      i = parent
    }
  }

  private popTop(): void {
    const h = this.heap
    const last = h.pop()!
    if (h.length === 0) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r
      if (m === i) break
      ;[h[i], h[m]] = [h[m]!, h[i]!]
      i = m
    }
  }
}
