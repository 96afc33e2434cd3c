// A simulated cluster on the real MeshTransport (transport: 'mesh'):
// signaling, the hello/proof handshake with seeded keys, reconnects after a
// partition and a crash, all on virtual time and deterministic per seed.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { expectConverged } from './helpers'

async function run(seed: number) {
  const cluster = createSimulatedCluster({ members: 3, seed, transport: 'mesh' })
  expect(cluster.transport).toBe('mesh')
  await cluster.stable()
  const [a, b, c] = cluster.meshes as [(typeof cluster.meshes)[0], (typeof cluster.meshes)[0], (typeof cluster.meshes)[0]]
  await a.create('/x', 'one')
  cluster.partition([a, b], [c])
  await cluster.advance(10_000)
  await a.set('/x', 'two')
  cluster.heal()
  cluster.crash(b)
  await cluster.advance(2_000)
  await cluster.restart(b)
  await cluster.stable()
  expect((await c.get('/x', { linearizable: true })).text()).toBe('two')
  await expectConverged(cluster)
  const out = { time: cluster.clock.now(), digests: [...cluster.digests().values()], term: a.term }
  await cluster.close()
  return out
}

describe('createSimulatedCluster on the real MeshTransport', () => {
  it('members link through signaling and the signed handshake, and come back after a partition and a crash', async () => {
    await run(5)
  })

  it('the same seed runs the same', async () => {
    expect(await run(9)).toEqual(await run(9))
  })
})
