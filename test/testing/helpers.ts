import { expect } from 'vitest'
import type { SimulatedCluster } from '../../src/testing/index'
import type { Mesh } from '../../src/shared/types'

/** Every live replica catches up with the leader, then all tree digests agree. */
export async function expectConverged(cluster: SimulatedCluster, meshes: Mesh[] = cluster.meshes): Promise<void> {
  const live = meshes.filter((m) => m.state !== 'closed')
  await cluster.advance(2_000)
  for (const m of live) await m.sync()
  const digests = cluster.digests()
  const values = live.map((m) => digests.get(m.id))
  expect(values.every((d) => d !== undefined)).toBe(true)
  expect(new Set(values).size).toBe(1)
}

/** The members that consider themselves leader. */
export function leaders(cluster: SimulatedCluster): Mesh[] {
  return cluster.meshes.filter((m) => m.state !== 'closed' && m.isLeader)
}

export async function caught<T>(p: Promise<T>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected the promise to reject')
}
