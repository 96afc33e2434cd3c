// Attack: a linked peer (any peer without a room secret; an insider with one)
// claims another cluster of the room exists — `clusterId: '0'`, a made-up huge
// weight, a "yield" order — hoping every member believes it lost a meet and
// wipes its slot. A claim is evidence to weigh, never an order: a cluster's
// weight counts only the members that vouch for it on their own links, and a
// member follows a yield only from its own leader.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { encodeNodeMessage } from '../../src/wire/node-messages'
import type { NodeMessage } from '../../src/wire/node-messages'
import { expectConverged } from '../testing/helpers'

describe('attack: forged cluster claims', () => {
  it("a linked peer claiming cluster '0' with a huge weight wipes no member: no diverged event, the cluster keeps committing", async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 1301 })
    const [a, b] = cluster.meshes as [typeof cluster.meshes[0], typeof cluster.meshes[0]]
    await a.create('/before', 'kept')
    await cluster.stable()
    const diverged: string[] = []
    for (const m of cluster.meshes) m.on('diverged', () => diverged.push(m.id))
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const forger = (await cluster.connectPeer({ member: 'forger', tab: 't1', browser: 'forged-browser' })).transport
    const forged: NodeMessage[] = [
      { type: 'cluster', clusterId: '0', browser: 'forged-browser', commit: 2 ** 50, yieldTo: '' } as NodeMessage,
      { type: 'cluster', clusterId: '0', browser: '', commit: Number.MAX_SAFE_INTEGER, yieldTo: '' } as NodeMessage,
      // an order to yield, as if from this cluster's leader
      { type: 'cluster', clusterId: `sim-1301`, browser: 'forged-browser', commit: 2 ** 50, yieldTo: '0' } as NodeMessage,
    ]
    // keep claiming for a minute of virtual time, on every link
    for (let round = 0; round < 60; round++) {
      for (const link of forger.links().values()) for (const msg of forged) if (link.open) link.send(encodeNodeMessage(msg))
      await cluster.advance(1_000)
    }
    expect(diverged).toEqual([])
    expect(cluster.meshes.every((m) => m.state === 'connected')).toBe(true)
    expect((await b.get('/before', { linearizable: true })).text()).toBe('kept')
    await b.create('/after', 'still committing')
    expect(leader.term).toBeGreaterThan(0)
    await expectConverged(cluster)
  })
})
