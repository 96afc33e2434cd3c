// OwnSession's keepalive (driver/sessions.ts): the tick sends it each period;
// a message from the leader sends it only when the ticks are late (a hidden
// tab's timers throttled), so a throttled tab keeps its session while the
// leader keeps talking, and a tab on time sends nothing more than before.
import { describe, expect, it } from 'vitest'
import { LeaderSessions, OwnSession } from '../../src/driver/sessions'
import type { SessionRoute } from '../../src/driver/sessions'

function session(): { own: OwnSession; sent: number[]; at: (ms: number) => void } {
  let now = 0
  const sent: number[] = []
  const route: SessionRoute = {
    now: () => now,
    submit: () => true,
    heartbeat: () => {
      sent.push(now)
      return true
    },
    leadership: () => 'l@1',
  }
  const own = new OwnSession('m.t.1.x', 3_000, route, { retryMs: 1_000, heartbeatMs: 1_000, tickMs: 100 })
  own.open = true
  return { own, sent, at: (ms) => (now = ms) }
}

describe('OwnSession keepalive', () => {
  it('on time, the tick sends it and messages from the leader add nothing', () => {
    const { own, sent, at } = session()
    for (let t = 0; t <= 3_000; t += 100) {
      at(t)
      own.tick(false)
      own.leaderHeard()
    }
    expect(sent).toEqual([0, 1_000, 2_000, 3_000])
  })

  it('with the ticks throttled to one per minute, the leader’s messages carry it every period', () => {
    const { own, sent, at } = session()
    at(0)
    own.tick(false)
    // no tick until 60 s; the leader's heartbeats arrive every 100 ms
    for (let t = 100; t < 60_000; t += 100) {
      at(t)
      own.leaderHeard()
    }
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!)
    expect(sent.length).toBeGreaterThanOrEqual(50)
    // never silent past the period and two ticks, far below the 3 s session timeout
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1_200)
  })

  it('sends nothing for a session not yet open', () => {
    const { own, sent, at } = session()
    own.open = false
    at(10_000)
    own.leaderHeard()
    expect(sent).toEqual([])
  })
})

describe('LeaderSessions after the leader slept', () => {
  const tree = (sessions: string[]) => ({ sessions: () => sessions, session: () => ({ timeoutMs: 3_000 }) })

  it('sessions of members heard while the leader slept live on; a silent member’s still expire', () => {
    const leader = new LeaderSessions(1_000)
    const t = tree(['alive.t.1.a', 'dead.t.1.b'])
    leader.takeOver(t, 0)
    // the leader's next tick comes a minute later; `alive` answered its messages at 59 s, `dead` never
    const heard = new Map([['alive', 59_000]])
    leader.slept(t, 60_000, 0, (m) => heard.get(m))
    expect(leader.due(t, 60_000)).toEqual({ type: 'expire-sessions', sessions: ['dead.t.1.b'], time: 60_000 })
  })

  it('without it, a leader waking after a minute expires every session it did not hear on its own ticks', () => {
    const leader = new LeaderSessions(1_000)
    const t = tree(['alive.t.1.a'])
    leader.takeOver(t, 0)
    expect(leader.due(t, 60_000)?.type).toBe('expire-sessions')
  })
})
