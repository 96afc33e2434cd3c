// Issue 17, deliverable 3: two devices, one closes → the other commits again;
// an even split (4 members) loses one and still commits.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { Mesh } from '../../src/shared/types'
import { leaders } from './helpers'

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
