// A member whose links closed (its tab or device went away) keeps no session
// alive, so its sessions end after `vanishedAfterMs` instead of their
// timeout (driver/sessions.ts): an election recipe moves on within seconds
// (issue 17: a new app leader ≤ 3 s after the leader's device vanishes). A
// partition stalls links without closing them: sessions then live out their
// timeout as in ZooKeeper. Virtual time throughout.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { Mesh } from '../../src/shared/types'

const SESSION_TIMEOUT_MS = 10_000

async function leaderOf(meshes: Mesh[]): Promise<Mesh> {
  for (const m of meshes) if (m.isLeader) return m
  throw new Error('no leader')
}

describe('the sessions of a vanished member', () => {
  for (const [what, appLeaderIsRaftLeader] of [['a follower', false], ['the raft leader', true]] as const) {
    it(`end well before their timeout when ${what} crashes: the election recipe moves to the next candidate within 3 s`, async () => {
      const cluster = createSimulatedCluster({ members: 3, seed: appLeaderIsRaftLeader ? 71 : 72, sessionTimeoutMs: SESSION_TIMEOUT_MS })
      await cluster.stable()
      const raftLeader = await leaderOf(cluster.meshes)
      const others = cluster.meshes.filter((m) => m !== raftLeader)
      const first = appLeaderIsRaftLeader ? raftLeader : others[0]!
      const next = appLeaderIsRaftLeader ? others[0]! : others[1]!
      await first.election('/app').campaign()
      let electedAt: number | null = null
      const waiting = next.election('/app').campaign().then(() => (electedAt = cluster.clock.now()))
      await cluster.advance(500)
      expect(electedAt).toBeNull()
      const crashedAt = cluster.clock.now()
      cluster.crash(first)
      await cluster.settle(waiting)
      const took = electedAt! - crashedAt
      console.log(`[figure] election recipe after ${what} crashed (virtual time): ${took} ms`)
      expect(took).toBeLessThanOrEqual(3_000)
      expect((await next.election('/app').leader())?.id).toBe(next.id)
      await cluster.close()
    })
  }

  it("the raft leader's member crashes: the survivors elect a new leader without waiting out an election timeout", async () => {
    const took: number[] = []
    for (const seed of [74, 75, 76, 77]) {
      const cluster = createSimulatedCluster({ members: 3, seed, sessionTimeoutMs: SESSION_TIMEOUT_MS })
      await cluster.stable()
      const leader = await leaderOf(cluster.meshes)
      const rest = cluster.meshes.filter((m) => m !== leader)
      const crashedAt = cluster.clock.now()
      cluster.crash(leader)
      while (!rest.some((m) => m.isLeader) && cluster.clock.now() - crashedAt < 10_000) await cluster.advance(20)
      took.push(cluster.clock.now() - crashedAt)
      await cluster.close()
    }
    console.log(`[figure] raft failover after the leader's member crashed (virtual time, 4 seeds): ${took.join(', ')} ms`)
    // an election timeout is 1 s here (randomized up to 2 s): the survivors campaign after a third of it
    for (const t of took) expect(t).toBeLessThan(800)
  })

  it('a partition shorter than the session timeout ends no session, even once its stalled links fail and close: the cut member still leads the recipe when healed', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 73, sessionTimeoutMs: SESSION_TIMEOUT_MS })
    await cluster.stable()
    const raftLeader = await leaderOf(cluster.meshes)
    const [away, next] = cluster.meshes.filter((m) => m !== raftLeader) as [Mesh, Mesh]
    await away.election('/app').campaign()
    let elected = false
    void next.election('/app').campaign().then(() => (elected = true))
    await cluster.advance(500)
    cluster.partition([away], [raftLeader, next])
    // past the simulated data channels' consent timeout (5 s): the stalled links fail and close
    await cluster.advance(8_000)
    expect(away.state).toBe('suspended')
    cluster.heal()
    await cluster.advance(3_000)
    expect(elected).toBe(false)
    expect((await raftLeader.election('/app').leader())?.id).toBe(away.id)
    expect(away.state).toBe('connected')
    await cluster.close()
  })
})
