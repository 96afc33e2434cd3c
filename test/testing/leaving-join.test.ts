// A member that closes gracefully leaves for good: its `leaving` is final.
// A follower tells each new leader its facts with a `join` at its next tick;
// a member that learned of a new leader and closed before that tick used to
// send it all the same, after its `leaving`, and the leader, taking the join
// as a new ask, added the closed member back as a learner (seen when a tab's
// first write became fast enough to close within a tick of its leader being
// known: test/testing/cluster.test.ts, 'a closed mesh can be restarted').
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { leaders } from './helpers'

describe('a member that closes right after a leader change is not added back', () => {
  for (const seed of [1, 2, 3]) {
    it(`it closes as it hears of the new leader, before its next tick (seed ${seed})`, async () => {
      const cluster = createSimulatedCluster({ members: 4, seed })
      await cluster.stable()
      await cluster.advance(1_000)
      const old = leaders(cluster)[0]!
      const [a, b] = cluster.meshes.filter((m) => m !== old) as [(typeof cluster.meshes)[0], (typeof cluster.meshes)[0]]
      let closing: Promise<void> | null = null
      b.on('leader', (e) => {
        if (e.leader !== null && e.leader !== old.id) closing ??= b.close()
      })
      void old.close()
      for (let i = 0; i < 100 && closing === null; i++) await cluster.advance(100)
      expect(closing).not.toBeNull()
      await cluster.settle(closing!)
      await cluster.advance(3_000)
      expect(a.members().map((m) => m.id)).not.toContain(b.id)
      await cluster.close()
    })
  }
})
