// Attack (issue 13): a callback that throws inside the member's tick timer.
// RepeatingTimer armed its next run only after the callback returned, so one
// throw (an app argument the encoder refused on a resend) stopped the member
// ticking for good. The timer must re-arm whatever its callback does, and
// hand the error over, typed, instead of letting it escape into the event loop.
import { describe, expect, it } from 'vitest'
import { RepeatingTimer, TimerCallbackError } from '../../src/driver/repeating-timer'
import { VirtualClock } from '../../src/testing/virtual-time'

describe('attack: a throwing timer callback', () => {
  it('RepeatingTimer re-arms after its callback throws and reports each throw as a TimerCallbackError', () => {
    const clock = new VirtualClock()
    const reported: TimerCallbackError[] = []
    let runs = 0
    const boom = new Error('boom')
    const timer = new RepeatingTimer(
      clock,
      100,
      () => {
        runs++
        if (runs % 2 === 1) throw boom
      },
      (err) => reported.push(err),
    )
    clock.advance(1_000)
    expect(runs).toBe(10)
    expect(reported).toHaveLength(5)
    expect(reported[0]).toBeInstanceOf(TimerCallbackError)
    expect(reported[0]).toMatchObject({ code: 'TIMER_CALLBACK_FAILED', cause: boom })
    timer.stop()
    clock.advance(1_000)
    expect(runs).toBe(10)
  })

  it('a reporter that throws too does not stop the timer', () => {
    const clock = new VirtualClock()
    let runs = 0
    const timer = new RepeatingTimer(
      clock,
      100,
      () => {
        runs++
        throw new Error('tick')
      },
      () => {
        throw new Error('reporter')
      },
    )
    clock.advance(500)
    expect(runs).toBe(5)
    timer.stop()
  })

  it('a callback that stops its own timer is not re-armed', () => {
    const clock = new VirtualClock()
    let runs = 0
    const timer: RepeatingTimer = new RepeatingTimer(
      clock,
      100,
      () => {
        runs++
        timer.stop()
        throw new Error('last words')
      },
      () => {},
    )
    clock.advance(1_000)
    expect(runs).toBe(1)
  })
})
