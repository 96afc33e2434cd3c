// An in-memory FramePort pair: two ends of an ordered, reliable pipe in one
// process, delivering asynchronously (as a data channel does) and exerting
// backpressure once `capacityFrames` frames are in flight. For unit tests of
// FramedLink and for MemoryTransport.
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'
import type { FramePort } from './link'

type Events = Parameters<FramePort['attach']>[0]

export interface MemoryPortOptions {
  /** frames in flight before write() asks the sender to wait (default 64) */
  capacityFrames?: number
  /** what delivers the frames on a later turn (default: real zero-delay timers) */
  clock?: Clock
}

class MemoryPort implements FramePort {
  twin: MemoryPort | null = null
  private events: Events | null = null
  private inFlight = 0
  private closed = false
  /** frames handed to write(), in order (tests inspect these) */
  readonly written: Uint8Array[] = []

  constructor(
    private readonly capacity: number,
    private readonly record: boolean,
    private readonly clock: Clock,
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
    this.clock.setTimeout(() => {
      this.inFlight--
      if (twin !== null && !twin.closed) twin.events?.frame(copy)
      if (this.inFlight === Math.floor(this.capacity / 2) && !this.closed) this.events?.drain()
    }, 0)
    return this.inFlight < this.capacity
  }

  close(): void {
    this.shut('closed')
    const twin = this.twin
    // the far end learns of it after the frames already in flight
    if (twin !== null) this.clock.setTimeout(() => twin.shut('closed by peer'), 0)
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
  const clock = opts.clock ?? realClock
  const a = new MemoryPort(capacity, opts.record ?? false, clock)
  const b = new MemoryPort(capacity, opts.record ?? false, clock)
  a.twin = b
  b.twin = a
  return [a, b]
}
