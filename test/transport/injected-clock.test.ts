// Invariant 7 (one code path): MeshTransport's own timers — the connect
// timeout of an attempt, the backoff before the next — run on the clock it
// is given, and its jitter comes from the random it is given, so a simulator
// can drive it on virtual time. (The stand-in peers and the memory hub of
// this test still deliver on real zero timers.)
import { afterEach, expect, it } from 'vitest'
import type { Clock } from '../../src/shared/clock'
import { FakePeerNet } from './fake-peers'
import { MemorySignalingHub } from './memory-signaling'
import { MeshRig } from './mesh-rig'

/** a clock that only moves when the test says so */
class ManualClock implements Clock {
  ms = 0
  private seq = 0
  readonly timers = new Map<number, { at: number; fn: () => void }>()
  now = () => this.ms
  setTimeout = (fn: () => void, ms: number) => {
    this.timers.set(++this.seq, { at: this.ms + ms, fn })
    return this.seq
  }
  clearTimeout = (handle: unknown) => void this.timers.delete(handle as number)
  /** move to the next timer and run it */
  step(): void {
    const [id, next] = [...this.timers].sort((x, y) => x[1].at - y[1].at)[0]!
    this.timers.delete(id)
    this.ms = next.at
    next.fn()
  }
}

let rig: MeshRig
afterEach(() => rig.closeAll())

it('an unanswered attempt times out and is retried on the injected clock, with the injected jitter', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const clock = new ManualClock()
  const jitter: number[] = []
  const random = () => {
    jitter.push(0.5)
    return 0.5
  }
  const ghost = hub.channel()
  ghost.join('room', 'z/t') // announced on signaling, but nobody answers behind it
  const a = rig.start('a', { clock, random, connectTimeoutMs: 5_000, backoffBaseMs: 100, backoffMaxMs: 1_000 })
  await expect.poll(() => a.peersMade()).toBe(1)
  // the attempt's connect timeout is the only timer, on our clock
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([5_000])
  clock.step()
  expect(a.inFlight()).toBe(0)
  // the retry: base 100 × 2^1 failures × (0.5 + 0.5/2) = 150 ms after the timeout
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([5_150])
  expect(jitter).toEqual([0.5])
  clock.step()
  expect(a.peersMade()).toBe(2)
  ghost.close()
})
