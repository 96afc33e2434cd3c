// Attack (issue 13): get() handed out the tree's own buffer, so an app that
// changed the returned bytes (an in-place decode, a reused scratch buffer)
// changed its member's replica: that member's digest left the others', and
// every later read on it saw data no write produced. Every read that returns
// data must return bytes the app owns.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { stableCluster } from './arguments-cluster'

const allEqual = (digests: Map<string, string>): boolean => new Set(digests.values()).size === 1

describe('attack: mutating the bytes a read returned', () => {
  it('changing get().data on the leader and on a follower changes no replica', async () => {
    const { cluster, leader, follower } = await stableCluster(31)
    await leader.create('/x', 'original')
    await cluster.advance(1_000)
    expect(allEqual(cluster.digests())).toBe(true)

    for (const mesh of [leader, follower]) {
      const got = await mesh.get('/x')
      got.data.fill(0x41)
      const again = await mesh.get('/x', { linearizable: true })
      expect(again.text()).toBe('original')
      again.data.set([0x42], 0)
    }
    expect(allEqual(cluster.digests())).toBe(true)
    expect((await follower.get('/x')).text()).toBe('original')
    await cluster.close()
  })

  it('two reads of one node share no bytes', async () => {
    const cluster = createSimulatedCluster({ members: 1, seed: 32 })
    await cluster.stable()
    const [a] = cluster.meshes
    await a!.create('/y', 'abc')
    const first = await a!.get('/y')
    const second = await a!.get('/y')
    first.data[0] = 0x7a
    expect(second.text()).toBe('abc')
    await cluster.close()
  })

  it('bytes the app changes after handing them to a write are not what the write stores', async () => {
    const { cluster, follower } = await stableCluster(33)
    const bytes = new TextEncoder().encode('first')
    const done = follower.create('/z', bytes)
    bytes.fill(0x21)
    await done
    await cluster.advance(1_000)
    expect((await follower.get('/z')).text()).toBe('first')
    expect(allEqual(cluster.digests())).toBe(true)
    await cluster.close()
  })
})
