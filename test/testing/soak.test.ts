import { describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import { createSimulatedCluster } from '../../src/testing/index'
import { MeshError } from '../../src/shared/errors'
import type { Mesh } from '../../src/shared/types'
import { expectConverged } from './helpers'

/**
 * Random faults (partitions, crashes, restarts, lossy network) while every
 * member writes. At the end, after healing: one leader, every replica's digest
 * equal, every acknowledged write present exactly once, nothing applied that
 * was never attempted.
 */
async function soak(seed: number): Promise<void> {
  const gen = prng.create(seed)
  const members = prng.oneOf(gen, [3, 5])
  const bootstrap = prng.oneOf(gen, ['static', 'join'] as const)
  const cluster = createSimulatedCluster({ members, seed, bootstrap, sessionTimeoutMs: 3_000, timing: { requestTimeoutMs: 4_000 } })
  const badInput: MeshError[] = []
  for (const m of cluster.meshes) m.on('error', (e) => badInput.push(e))
  const crashed = new Set<Mesh>()
  const acknowledged: string[] = []
  let attempted = 0
  await cluster.meshes[0]!.create('/log', '')
  for (let step = 0; step < Number(process.env.SOAK_STEPS ?? 25); step++) {
    const live = cluster.meshes.filter((m) => !crashed.has(m))
    switch (prng.uint32(gen, 0, 6)) {
      case 0: {
        const minority = live.filter(() => prng.bool(gen))
        cluster.partition(minority, cluster.meshes.filter((m) => !minority.includes(m)))
        break
      }
      case 1:
        cluster.heal()
        cluster.network.configure({ dropRate: 0, duplicateRate: 0, reorderRate: 0 })
        break
      case 2:
        if (crashed.size < Math.floor((members - 1) / 2)) {
          const victim = prng.oneOf(gen, live)
          cluster.crash(victim)
          crashed.add(victim)
        }
        break
      case 3:
        if (crashed.size > 0) {
          const back = [...crashed][0]!
          crashed.delete(back)
          await cluster.restart(back)
        }
        break
      case 4:
        cluster.network.configure({ dropRate: 0.05, duplicateRate: 0.05, reorderRate: 0.05 })
        break
      default: {
        const writers = live.slice(0, 2)
        const writes = writers.map(async (m) => {
          attempted++
          try {
            acknowledged.push(await m.create('/log/w-', `${seed}`, { mode: 'persistent-sequential' }))
          } catch (err) {
            if (!(err instanceof MeshError) || !['NO_QUORUM', 'TIMEOUT', 'SESSION_EXPIRED'].includes(err.code)) throw err
          }
        })
        await Promise.all(writes)
      }
    }
    await cluster.advance(prng.uint32(gen, 50, 1_500))
  }
  cluster.heal()
  cluster.network.configure({ dropRate: 0, duplicateRate: 0, reorderRate: 0 })
  for (const m of crashed) await cluster.restart(m)
  await cluster.stable(120_000)
  await expectConverged(cluster)
  const names = await cluster.meshes[0]!.children('/log', { linearizable: true })
  for (const path of acknowledged) expect(names).toContain(path.slice('/log/'.length))
  expect(new Set(acknowledged).size).toBe(acknowledged.length)
  expect(names.length).toBeLessThanOrEqual(attempted)
  expect(badInput.filter((e) => e.code === 'BAD_MESSAGE')).toEqual([])
}

describe('soak: random faults on the simulated cluster', () => {
  for (const seed of (process.env.SOAK_SEEDS ?? "101,102,103,104,105,106").split(",").map(Number)) {
    it(`seed ${seed}`, () => soak(seed))
  }
})
