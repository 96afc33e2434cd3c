// An in-memory FramePort pair: two ends of an ordered, reliable pipe in one
// process, delivering asynchronously (as a data channel does) and exerting
// backpressure once `capacityFrames` frames are in flight. For unit tests of
// FramedLink and for MemoryTransport.
//
// Delivery: frames written in one turn are queued and delivered together, in
// order, on a microtask (never inside write(), always before any timer). A
// zero-delay timer per frame cost ~1 ms each in Node (timers are clamped) and
// put a floor under every in-process commit; a clock given in the options
// keeps the timer per frame, for a caller that drives delivery by its time.
import type { Clock } from '../shared/clock'
import type { FramePort } from './link'
import { CLOSED_BY_PEER } from './types'

type Events = Parameters<FramePort['attach']>[0]

export interface MemoryPortOptions {
  /** frames in flight before write() asks the sender to wait (default 64) */
  capacityFrames?: number
  /** what delivers the frames on a later turn (default: a microtask per
   *  batch of frames written in one turn; with a clock: a timer per frame) */
  clock?: Clock
}

class MemoryPort implements FramePort {
  twin: MemoryPort | null = null
  private events: Events | null = null
  private inFlight = 0
  private closed = false
  /** frames handed to write(), in order (tests inspect these) */
  readonly written: Uint8Array[] = []

  /** deliveries not yet made, in write order (microtask mode) */
  private readonly queue: (() => void)[] = []
  private flushing = false

  constructor(
    private readonly capacity: number,
    private readonly record: boolean,
    private readonly clock: Clock | null,
  ) {}

  attach(events: Events): void {
    this.events = events
  }

  write(frame: Uint8Array): boolean {
    if (this.closed) return true
    if (this.record) this.written.push(frame)
    const twin = this.twin
    const copy = frame.slice()
    this.inFlight++
    this.later(() => {
      this.inFlight--
      if (twin !== null && !twin.closed) twin.events?.frame(copy)
      if (this.inFlight === Math.floor(this.capacity / 2) && !this.closed) this.events?.drain()
    })
    return this.inFlight < this.capacity
  }

  close(): void {
    this.shut('closed')
    const twin = this.twin
    // the far end learns of it after the frames already in flight
    if (twin !== null) this.later(() => twin.shut(CLOSED_BY_PEER))
  }

  /** Run `fn` on a later turn, after every delivery queued before it. */
  private later(fn: () => void): void {
    if (this.clock !== null) {
      this.clock.setTimeout(fn, 0)
      return
    }
    this.queue.push(fn)
    if (this.flushing) return
    this.flushing = true
    queueMicrotask(() => this.flush())
  }

  /** Deliver what was queued; a delivery that makes its receiver write (a
   *  reply) queues on the other port, and a write back into this one joins
   *  this flush's queue in order. */
  private flush(): void {
    let i = 0
    try {
      while (i < this.queue.length) this.queue[i++]!()
    } finally {
      // a throwing handler leaves the rest for the next microtask, in order
      this.queue.splice(0, i)
      this.flushing = this.queue.length > 0
      if (this.flushing) queueMicrotask(() => this.flush())
    }
  }

  /** cut the pipe without a goodbye, as a dying tab does */
  fail(reason = 'failed'): void {
    this.shut(reason)
    const twin = this.twin
    if (twin !== null) twin.shut(reason)
  }

  private shut(reason: string): void {
    if (this.closed) return
    this.closed = true
    this.events?.close(reason)
  }
}

export type { MemoryPort }

export function memoryPortPair(opts: MemoryPortOptions & { record?: boolean } = {}): [MemoryPort, MemoryPort] {
  const capacity = Math.max(2, opts.capacityFrames ?? 64)
  const clock = opts.clock ?? null
  const a = new MemoryPort(capacity, opts.record ?? false, clock)
  const b = new MemoryPort(capacity, opts.record ?? false, clock)
  a.twin = b
  b.twin = a
  return [a, b]
}
