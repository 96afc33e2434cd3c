// Bounded fan-out (issue 17, item 5; src/driver/link-policy.ts) in the
// simulator, on the real MeshTransport and on the VirtualHub stand-in: in a mesh of many members a learner keeps
// links to the voters only, commits still flow both ways, and when the
// leader crashes the new configuration's voters are linked again.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { SimulatedCluster } from '../../src/testing/index'
import type { Mesh } from '../../src/shared/types'
import { expectConverged } from './helpers'

const MEMBERS = 12
const MAX_VOTERS = 5

function roles(cluster: SimulatedCluster, mesh: Mesh): { voters: string[]; learners: string[] } {
  const conf = cluster.memberOf(mesh).conf
  return { voters: [...conf.voters], learners: [...conf.learners] }
}

/** run virtual time until every live learner links to exactly the voters (and nothing else) */
async function untilBounded(cluster: SimulatedCluster, live: Mesh[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { voters } = roles(cluster, live[0]!)
    const ok = live.every((m) => {
      const id = cluster.memberOf(m).id
      if (voters.includes(id)) return true
      return JSON.stringify(cluster.linksOf(m)) === JSON.stringify([...voters].sort())
    })
    if (ok) return
    await cluster.advance(100)
  }
}

describe.each(['mesh', 'virtual'] as const)('bounded links in a mesh of many members (%s transport)', (transport) => {
  it(`with ${MEMBERS} members a learner links to the ${MAX_VOTERS} voters only, and commits from a learner flow through the leader`, async () => {
    const cluster = createSimulatedCluster({ members: MEMBERS, seed: 3, transport, bootstrap: 'join' })
    await cluster.stable()
    await cluster.advance(5_000) // promotions and pruning settle
    const meshes = cluster.meshes
    await untilBounded(cluster, meshes)
    const { voters, learners } = roles(cluster, meshes[0]!)
    expect(voters).toHaveLength(MAX_VOTERS)
    expect(learners).toHaveLength(MEMBERS - MAX_VOTERS)
    for (const m of meshes) {
      const id = cluster.memberOf(m).id
      const links = cluster.linksOf(m)
      if (voters.includes(id)) expect(links).toHaveLength(MEMBERS - 1)
      else expect(links).toEqual([...voters].sort())
    }
    const learner = meshes.find((m) => learners.includes(cluster.memberOf(m).id))!
    await cluster.settle(learner.create('/from-learner', 'a'))
    const other = meshes.filter((m) => learners.includes(cluster.memberOf(m).id))[1]!
    expect((await cluster.settle(other.get('/from-learner', { linearizable: true }))).text()).toBe('a')

    // the leader crashes: a learner is promoted in its place, and every
    // learner links to the new voter (its links still bounded by the voters)
    const leader = meshes.find((m) => cluster.memberOf(m).isLeader)!
    const leaderId = cluster.memberOf(leader).id
    cluster.crash(leader)
    const live = meshes.filter((m) => m !== leader)
    await cluster.stable()
    await cluster.advance(20_000)
    await untilBounded(cluster, live)
    const after = roles(cluster, live[0]!)
    expect(after.voters).toHaveLength(MAX_VOTERS)
    expect(after.voters).not.toContain(leaderId)
    for (const m of live) {
      const id = cluster.memberOf(m).id
      if (!after.voters.includes(id)) expect(cluster.linksOf(m)).toEqual([...after.voters].sort())
    }
    await cluster.settle(other.create('/after-crash', 'b'))
    expect((await cluster.settle(learner.get('/after-crash', { linearizable: true }))).text()).toBe('b')
    await expectConverged(cluster)
    await cluster.close()
  })
})
