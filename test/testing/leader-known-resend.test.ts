// Writes in flight when a leader closes reach its successor as soon as the
// writer learns of it, not at the writer's next tick (up to tickMs later).
// Virtual time: before the Ready loop handed them over at once, the three
// writes below committed 94-102 ms after the writer heard of the new leader
// (its next 100 ms tick); now 12-20 ms (a few message hops).
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { leaders } from './helpers'

const TICK_MS = 100

describe('a new leader gets the writes in flight at once', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`the leader closes with a follower's writes in flight: they commit well within a tick of the successor being known (seed ${seed})`, async () => {
      const cluster = createSimulatedCluster({ members: 3, seed, timing: { tickMs: TICK_MS } })
      await cluster.stable()
      await cluster.advance(1_000)
      const old = leaders(cluster)[0]!
      const writer = cluster.meshes.find((m) => m !== old)!
      let knownAt: number | null = null
      writer.on('leader', (e) => {
        if (e.leader !== null && e.leader !== old.id) knownAt ??= cluster.clock.now()
      })
      const writes = Promise.all([1, 2, 3].map((i) => writer.create(`/w${i}`, 'x')))
      const closing = old.close()
      await writes
      const committedAt = cluster.clock.now()
      await closing
      expect(knownAt).not.toBeNull()
      expect(committedAt - knownAt!).toBeLessThan(TICK_MS / 2)
      for (const i of [1, 2, 3]) expect((await writer.get(`/w${i}`)).text()).toBe('x')
    })
  }
})
