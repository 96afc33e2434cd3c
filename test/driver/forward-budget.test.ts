// The leader's per-peer budget of forwards in flight (peer-budget.ts) against
// an honest follower that keeps that many writes in flight (requests.ts).
// The follower counts a write until IT applies it; the leader counts it until
// the leader applies it, and the follower may apply first: the leader's
// appends and commit index go out while its own save may still be on the
// disk (Raft thesis §10.2.1), and its Readies apply in order behind their
// saves. The follower's next writes then met a full budget and were dropped,
// to be resent only after retryMs: in the bench, 256 writers in a follower
// tab committed fewer writes/s than 64 (mesh3.throughput.writers256).
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { decodeNodeMessage } from '../../src/wire/node-messages'
import { MAX_FORWARDS_IN_FLIGHT } from '../../src/wire/limits'

describe('the leader\'s budget of a peer\'s forwards in flight', () => {
  it('an honest follower with the whole budget in flight has no forward dropped: every write crosses to the leader once', async () => {
    // disks slower than the network and uneven: the leader's own save is
    // often the last of the three, so it applies after a follower does
    const writers = MAX_FORWARDS_IN_FLIGHT
    const rounds = 16
    for (const seed of [1, 2, 3]) {
      const cluster = createSimulatedCluster({ members: 3, seed, transport: 'virtual', latencyMs: [1, 2], diskLatencyMs: [5, 30] })
      await cluster.stable()
      const follower = cluster.meshes.find((m) => !m.isLeader)!
      const leader = cluster.meshes.find((m) => m.isLeader)!
      await follower.create('/w', '')
      // commands the leader receives in `forward` and `forwards` frames from the follower
      let forwarded = 0
      cluster.network.observer = (e) => {
        if (e.kind !== 'deliver' || e.from !== follower.id || e.to !== leader.id) return
        const m = decodeNodeMessage(e.msg)
        if (m.type === 'forward') forwarded++
        else if (m.type === 'forwards') forwarded += m.commands.length
      }
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let r = 0; r < rounds; r++) await follower.create(`/w/n${w}-${r}`, '')
        }),
      )
      cluster.network.observer = null
      expect(leader.isLeader).toBe(true)
      expect({ seed, forwarded }).toEqual({ seed, forwarded: writers * rounds })
      await cluster.close()
    }
  })
})
