import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'

describe('commitIndex and appliedIndex', () => {
  it('move with the log: a write is applied at its zxid, and a synced member has applied what it knew committed', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 8 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [(typeof cluster.meshes)[0], (typeof cluster.meshes)[0]]
    await a.create('/i', 'x')
    const czxid = (await a.exists('/i'))!.czxid
    expect(a.appliedIndex).toBeGreaterThanOrEqual(czxid)
    expect(a.commitIndex).toBeGreaterThanOrEqual(a.appliedIndex)
    await b.sync()
    expect(b.appliedIndex).toBeGreaterThanOrEqual(czxid)
    expect(b.commitIndex).toBeGreaterThanOrEqual(czxid)
  })
})
