// Driving virtual time from awaiting code.
//
// On virtual time nothing happens unless someone runs the clock's events. An
// app test does `await mesh.create(...)` and expects it to resolve, so every
// promise a simulated Mesh hands out goes through `settle(p)`: while any such
// promise is pending, one driver loop runs the clock one event at a time and,
// between two events, yields a macrotask so that every microtask — storage
// saves resolving, the member's Ready loop continuing, the app's own `await`
// continuations — runs to completion before the next virtual event. The app
// therefore observes the world only between events, at points fixed by the
// seed: a run is deterministic although real async code is involved.
//
// Rules that keep it robust:
// - one loop at a time, however many promises wait (Promise.all of calls on
//   several meshes shares it);
// - the loop stops as soon as nothing waits: virtual time never runs ahead of
//   the app between its calls;
// - `advance(ms)` runs the events due within ms, then sets the clock to the
//   target, and shares the same loop; while it runs, waiting calls do not
//   drive time past its target;
// - a call left pending without an await (`const p = mesh.create(...)`)
//   still counts as waiting: it drives time whenever the loop runs, so the
//   next `await` of anything settled here moves the world on;
// - promises that are not a mesh's (a recipe's internal wait, a test's own
//   promise) do not drive time unless passed to `cluster.settle(p)`; recipe
//   objects handed out by a simulated mesh are wrapped so theirs do;
// - a wait longer than `maxWaitMs` of virtual time stops driving and rejects
//   that wait with TIMEOUT (a deadlocked test fails instead of spinning), and
//   a wait with no event left to run fails at once.
// Caveat: the world is frozen between the app's calls. A test that awaits a
// real timer (setTimeout) sees no virtual time pass; use `cluster.advance`.
import { MeshError } from '../shared/errors'

/** The clock operations the driver needs (VirtualClock has them). */
export interface DrivableClock {
  now(): number
  /** run the earliest pending event; false if none */
  runNext(): boolean
  /** virtual time of the earliest pending event, or null */
  nextAt(): number | null
  /** move to `to` (no event must be due before it) */
  jumpTo(to: number): void
}

const yieldMacrotask: () => Promise<void> =
  typeof setImmediate === 'function' ? () => new Promise((r) => setImmediate(r)) : () => new Promise((r) => setTimeout(r, 0))

export class TimeDriver {
  private waiting = 0
  private loop: Promise<void> | null = null
  /** pending advance() calls: each resolves once the clock reached its target */
  private readonly targets: { at: number; resolve: () => void }[] = []
  private readonly deadlines = new Set<{ at: number; fail: (e: MeshError) => void }>()

  constructor(
    private readonly clock: DrivableClock,
    private readonly maxWaitMs: number,
  ) {}

  /** Drive virtual time until `p` settles. */
  settle<T>(p: Promise<T>): Promise<T> {
    this.waiting++
    let entry: { at: number; fail: (e: MeshError) => void } | null = null
    const guarded = new Promise<T>((resolve, reject) => {
      entry = { at: this.clock.now() + this.maxWaitMs, fail: reject }
      this.deadlines.add(entry)
      p.then(resolve, reject)
    })
    const done = (): void => {
      this.waiting--
      if (entry !== null) this.deadlines.delete(entry)
    }
    guarded.then(done, done)
    this.kick()
    return guarded
  }

  /**
   * Run exactly `ms` of virtual time: the events due by then run (calls that
   * wait meanwhile make progress), none after; then the clock stands at the
   * target. A call still pending afterwards keeps driving time only while
   * something awaits.
   */
  advance(ms: number): Promise<void> {
    const at = this.clock.now() + Math.max(0, ms)
    return new Promise<void>((resolve) => {
      this.targets.push({ at, resolve })
      this.kick()
    })
  }

  private kick(): void {
    if (this.loop !== null) return
    this.loop = this.run().finally(() => {
      this.loop = null
      // a wait or an advance that arrived as the loop ended
      if (this.waiting > 0 || this.targets.length > 0) this.kick()
    })
  }

  private async run(): Promise<void> {
    for (;;) {
      await yieldMacrotask()
      const now = this.clock.now()
      for (const d of this.deadlines) {
        if (now >= d.at) {
          this.deadlines.delete(d)
          d.fail(new MeshError('TIMEOUT', `nothing settled the awaited call within ${this.maxWaitMs} ms of virtual time`))
        }
      }
      let target: number | null = null
      for (const t of this.targets) if (target === null || t.at < target) target = t.at
      if (this.waiting === 0 && target === null) return
      const next = this.clock.nextAt()
      if (target !== null && (next === null || next > target)) {
        // an advance is due: nothing else happens before its target
        if (this.clock.now() < target) this.clock.jumpTo(target)
        for (let i = this.targets.length - 1; i >= 0; i--) {
          const t = this.targets[i]!
          if (t.at <= this.clock.now()) {
            this.targets.splice(i, 1)
            t.resolve()
          }
        }
        continue
      }
      if (next === null) {
        // someone waits and nothing can ever happen: fail every wait rather than hang
        for (const d of this.deadlines) d.fail(new MeshError('TIMEOUT', 'virtual world is idle; the awaited call can never settle'))
        this.deadlines.clear()
        continue
      }
      this.clock.runNext()
    }
  }
}
