// Issue 17, deliverable 3: two devices, one closes → the other commits again;
// an even split (4 members) loses one and still commits.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { Mesh } from '../../src/shared/types'
import type { DivergedEvent } from '../../src/shared/types'
import { caught, expectConverged, leaders } from './helpers'

describe('a graceful close leaves the configuration before it goes', () => {
  for (const closing of ['leader', 'follower'] as const) {
    it(`2 members, the ${closing} closes: the other commits alone`, async () => {
      const cluster = createSimulatedCluster({ members: 2, seed: 11 })
      await cluster.stable()
      await cluster.meshes[0]!.create('/before', 'x')
      const leader = leaders(cluster)[0]!
      const closer = closing === 'leader' ? leader : cluster.meshes.find((m) => m !== leader)!
      const survivor = cluster.meshes.find((m) => m !== closer)!
      await closer.close()
      await survivor.create('/after', 'y')
      expect((await survivor.get('/after')).text()).toBe('y')
      expect(survivor.members().filter((m) => m.voter).map((m) => m.id)).toEqual([survivor.id])
      expect(survivor.state).toBe('connected')
    })
  }

  it('4 members (an even split) lose one to a close and still commit, then another', async () => {
    const cluster = createSimulatedCluster({ members: 4, seed: 12 })
    await cluster.stable()
    await cluster.advance(2_000)
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    await a.close()
    await b.create('/one-gone', 'x')
    await c.close()
    await b.create('/two-gone', 'y')
    expect((await b.get('/two-gone')).text()).toBe('y')
  })
})

describe('forceNewCluster: the survivor of a crash takes the cluster over', () => {
  it('2 members, one crashes: NO_QUORUM, then forceNewCluster, then the survivor commits; the crashed one rejoins', async () => {
    const cluster = createSimulatedCluster({ members: 2, seed: 21 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    await a.create('/both', 'x')
    await b.sync()
    cluster.crash(a)
    await cluster.advance(5_000)
    expect(await caught(b.create('/alone', 'y'))).toMatchObject({ code: 'NO_QUORUM' })
    expect(b.state).not.toBe('connected')
    await b.forceNewCluster()
    await b.create('/alone', 'y')
    expect(b.members().filter((m) => m.voter).map((m) => m.id)).toEqual([b.id])
    expect(b.state).toBe('connected')
    // the crashed device comes back: nothing it committed is missing here (two voters commit only together)
    const diverged: DivergedEvent[] = []
    a.on('diverged', (e) => diverged.push(e))
    await cluster.restart(a)
    await cluster.advance(5_000)
    await a.sync()
    expect((await a.get('/alone')).text()).toBe('y')
    expect(diverged).toEqual([])
    await expectConverged(cluster)
  })

  it('a member that had writes the taker lacks rejoins reporting them (diverged, forced)', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 22 })
    await cluster.stable()
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    await a.create('/shared', 'x')
    await b.sync()
    // b misses a write a and c commit, then a and c crash
    cluster.partition([a, c], [b])
    await cluster.advance(3_000)
    const writer = a.isLeader || c.isLeader ? (a.isLeader ? a : c) : a
    await writer.create('/only-a-and-c', 'z')
    await a.sync()
    cluster.crash(a)
    cluster.crash(c)
    cluster.heal()
    await b.forceNewCluster()
    await b.create('/after-takeover', 'y')
    const diverged: DivergedEvent[] = []
    a.on('diverged', (e) => diverged.push(e))
    await cluster.restart(a)
    await cluster.advance(10_000)
    expect(diverged).toHaveLength(1)
    expect(diverged[0]!.forced).toBe(true)
    expect(diverged[0]!.nodes.map((n) => n.path)).toContain('/only-a-and-c')
    await a.sync()
    expect((await a.get('/after-takeover')).text()).toBe('y')
    expect(await a.exists('/only-a-and-c')).toBeNull()
  })
})
