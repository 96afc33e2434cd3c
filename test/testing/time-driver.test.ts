import { describe, expect, it } from 'vitest'
import { TimeDriver } from '../../src/testing/time-driver'
import type { DrivableClock } from '../../src/testing/time-driver'

/** A minimal event queue on virtual ms, enough to exercise the driver. */
class TinyClock implements DrivableClock {
  private t = 0
  private seq = 0
  private events: Array<{ at: number; seq: number; fn: () => void }> = []
  now(): number {
    return this.t
  }
  setTimeout(fn: () => void, ms: number): void {
    this.events.push({ at: this.t + ms, seq: this.seq++, fn })
    this.events.sort((a, b) => a.at - b.at || a.seq - b.seq)
  }
  nextAt(): number | null {
    return this.events[0]?.at ?? null
  }
  runNext(): boolean {
    const e = this.events.shift()
    if (e === undefined) return false
    this.t = e.at
    e.fn()
    return true
  }
  jumpTo(to: number): void {
    this.t = to
  }
}

const sleep = (clock: TinyClock, ms: number): Promise<void> => new Promise((r) => clock.setTimeout(r, ms))

describe('TimeDriver', () => {
  it('runs virtual time while an awaited promise is pending, and no further', async () => {
    const clock = new TinyClock()
    const driver = new TimeDriver(clock, 60_000)
    let late = false
    clock.setTimeout(() => (late = true), 5_000)
    await driver.settle(sleep(clock, 1_000))
    expect(clock.now()).toBe(1_000)
    expect(late).toBe(false)
  })

  it('lets async chains with several awaits finish between events', async () => {
    const clock = new TinyClock()
    const driver = new TimeDriver(clock, 60_000)
    const steps: number[] = []
    const chain = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 100)
        await Promise.resolve()
        steps.push(clock.now())
      }
      return clock.now()
    }
    expect(await driver.settle(chain())).toBe(300)
    expect(steps).toEqual([100, 200, 300])
  })

  it('shares one loop among concurrent waits', async () => {
    const clock = new TinyClock()
    const driver = new TimeDriver(clock, 60_000)
    const [a, b] = await Promise.all([driver.settle(sleep(clock, 300).then(() => 'a')), driver.settle(sleep(clock, 100).then(() => 'b'))])
    expect([a, b]).toEqual(['a', 'b'])
    expect(clock.now()).toBe(300)
  })

  it('advance runs the events due within ms and lands exactly on the target', async () => {
    const clock = new TinyClock()
    const driver = new TimeDriver(clock, 60_000)
    const fired: number[] = []
    for (const at of [10, 500, 999, 1_001]) clock.setTimeout(() => fired.push(at), at)
    await driver.advance(1_000)
    expect(fired).toEqual([10, 500, 999])
    expect(clock.now()).toBe(1_000)
  })

  it('fails a wait that nothing can ever settle with TIMEOUT instead of hanging', async () => {
    const clock = new TinyClock()
    const driver = new TimeDriver(clock, 60_000)
    await expect(driver.settle(new Promise(() => {}))).rejects.toMatchObject({ code: 'TIMEOUT' })
  })

  it('fails a wait longer than maxWaitMs of virtual time with TIMEOUT', async () => {
    const clock = new TinyClock()
    const driver = new TimeDriver(clock, 1_000)
    const tick = (): void => clock.setTimeout(tick, 100)
    tick()
    await expect(driver.settle(new Promise(() => {}))).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(clock.now()).toBeGreaterThanOrEqual(1_000)
  })
})

describe('TimeDriver with a call left pending', () => {
  it('advance stops at its target even while an un-awaited call waits; awaiting it later drives on', async () => {
    const clock = new TinyClock()
    const driver = new TimeDriver(clock, 60_000)
    let settled = false
    const pending = driver.settle(sleep(clock, 5_000)).then(() => (settled = true))
    await driver.advance(1_500)
    expect(clock.now()).toBe(1_500)
    expect(settled).toBe(false)
    await pending
    expect(clock.now()).toBe(5_000)
  })
})
