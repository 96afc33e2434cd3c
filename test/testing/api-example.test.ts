import { expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'

// shared/api.md, "Testing", as written there.
it('the api.md example runs as written', async () => {
  const cluster = createSimulatedCluster({ members: 3, seed: 42 })
  const [a, b, c] = cluster.meshes
  await a!.create('/x', 'hello')
  cluster.partition([a!], [b!, c!])
  cluster.heal()
  cluster.crash(b!)
  await cluster.restart(b!)
  await cluster.advance(5_000)
  await b!.sync()
  expect((await b!.get('/x')).text()).toBe('hello')
  expect((await c!.get('/x', { linearizable: true })).text()).toBe('hello')
})
