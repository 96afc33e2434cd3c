// Clusters that meet (README, "Clusters that meet"; src/driver/cluster-meet.ts):
// two or more clusters of one room, grown apart, find each other. Always
// exactly one survives, the one that holds more (browsers, then members, then
// commit index, then id), whatever the clocks say and whenever each was
// founded; nothing acknowledged on the winning side is lost; the losers get
// their tree in `diverged`, rejoin the winner and catch up.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { SimulatedCluster } from '../../src/testing/index'
import type { DivergedEvent, Mesh } from '../../src/shared/types'
import { expectConverged } from './helpers'

const YEAR_MS = 365 * 24 * 3600 * 1000
/** wall clocks of today's devices, and of one set years back or ahead */
const NOW_MS = 1_780_000_000_000

function recordDiverged(cluster: SimulatedCluster): Map<string, DivergedEvent> {
  const seen = new Map<string, DivergedEvent>()
  for (const m of cluster.meshes) m.on('diverged', (e) => seen.set(m.id, e))
  return seen
}

/** The meet is over: the losers (and only they) diverged, everyone is in the
 *  winner's configuration, the winner's acknowledged writes are everywhere,
 *  the lost tree reached the app, and a write after the meet commits. */
async function expectWinner(
  cluster: SimulatedCluster,
  diverged: Map<string, DivergedEvent>,
  winners: Mesh[],
  losers: Mesh[],
  kept: Record<string, string>,
  lost: string[],
): Promise<void> {
  await cluster.stable()
  expect([...diverged.keys()].sort()).toEqual(losers.map((m) => m.id).sort())
  const ids = cluster.meshes.map((m) => m.id).sort()
  for (const m of cluster.meshes) expect(m.members().map((x) => x.id)).toEqual(ids)
  for (const m of cluster.meshes) {
    await m.sync()
    for (const [path, text] of Object.entries(kept)) expect((await m.get(path)).text()).toBe(text)
    for (const path of lost) expect(await m.exists(path)).toBeNull()
  }
  const lostPaths = new Set<string>()
  for (const m of losers) {
    const e = diverged.get(m.id)!
    expect(e.winner).not.toBe(e.clusterId)
    for (const n of e.nodes) lostPaths.add(n.path)
  }
  for (const path of lost) expect([...lostPaths]).toContain(path)
  const winnerClusters = new Set(losers.map((m) => diverged.get(m.id)!.winner))
  expect(winnerClusters.size).toBe(1)
  await losers[0]!.create('/after-meet', winners[0]!.id)
  await expectConverged(cluster)
}

describe('clusters that meet', () => {
  it('a lone cluster founded long before a 5-member cluster loses to it', async () => {
    const cluster = createSimulatedCluster({ members: 1, seed: 1401, bootstrap: 'join' })
    const lone = cluster.meshes[0]!
    await lone.create('/lone', 'first')
    await cluster.advance(10 * 60_000)
    // five devices form their cluster apart from the lone one, ten minutes later
    cluster.network.partition(['m1'], ['m2', 'm3', 'm4', 'm5', 'm6'])
    const big = [await cluster.addMember({ founder: true })]
    for (let i = 0; i < 4; i++) big.push(await cluster.addMember())
    await cluster.advance(10_000)
    expect(big[0]!.members().map((m) => m.id)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6'])
    await big[3]!.create('/big', 'acknowledged')
    const diverged = recordDiverged(cluster)
    cluster.heal()
    await cluster.advance(15_000)
    await expectWinner(cluster, diverged, big, [lone], { '/big': 'acknowledged' }, ['/lone'])
  })

  for (const [when, offset] of [['years behind', -6 * YEAR_MS], ['years ahead', 6 * YEAR_MS]] as const) {
    it(`a lone device whose clock is ${when} loses to a two-device cluster`, async () => {
      const cluster = createSimulatedCluster({ members: 3, seed: 1402, bootstrap: 'join', founders: [0, 1], clockOffsetsMs: [NOW_MS + offset, NOW_MS, NOW_MS] })
      const [lone, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
      cluster.partition([lone], [b, c])
      await lone.create('/lone', 'x')
      await b.create('/pair', 'acknowledged')
      await cluster.advance(5_000)
      expect(b.members().map((m) => m.id)).toEqual(['m2', 'm3'])
      const diverged = recordDiverged(cluster)
      cluster.heal()
      await cluster.advance(15_000)
      await expectWinner(cluster, diverged, [b, c], [lone], { '/pair': 'acknowledged' }, ['/lone'])
    })
  }

  it('two equal clusters: exactly one wins, the same on both sides', async () => {
    const cluster = createSimulatedCluster({ members: 4, seed: 1403, bootstrap: 'join', founders: [0, 2] })
    const [a, b, c, d] = cluster.meshes as [Mesh, Mesh, Mesh, Mesh]
    cluster.partition([a, b], [c, d])
    await a.create('/ab', 'ab')
    await c.create('/cd', 'cd')
    await cluster.advance(5_000)
    const diverged = recordDiverged(cluster)
    cluster.heal()
    await cluster.advance(15_000)
    const losers = [...diverged.keys()].sort()
    expect([['m1', 'm2'], ['m3', 'm4']]).toContainEqual(losers)
    const [winners, lost, kept] = losers[0] === 'm1' ? [[c, d], [a, b], '/cd'] : [[a, b], [c, d], '/ab']
    await expectWinner(cluster, diverged, winners, lost, { [kept]: kept.slice(1) }, [kept === '/ab' ? '/cd' : '/ab'])
  })

  it('three clusters meeting at once: the biggest wins, both others rejoin it', async () => {
    const cluster = createSimulatedCluster({ members: 6, seed: 1404, bootstrap: 'join', founders: [0, 1, 3] })
    const [a, b, c, d, e, f] = cluster.meshes as [Mesh, Mesh, Mesh, Mesh, Mesh, Mesh]
    cluster.partition([a], [b, c], [d, e, f])
    await a.create('/one', '1')
    await b.create('/two', '2')
    await d.create('/three', '3')
    await cluster.advance(8_000)
    expect(f.members().map((m) => m.id)).toEqual(['m4', 'm5', 'm6'])
    const diverged = recordDiverged(cluster)
    cluster.heal()
    await cluster.advance(20_000)
    await expectWinner(cluster, diverged, [d, e, f], [a, b, c], { '/three': '3' }, ['/one', '/two'])
  })

  it('a meet during a partition: the lone device sees only part of the bigger cluster, and still loses to it', async () => {
    const cluster = createSimulatedCluster({ members: 4, seed: 1405, bootstrap: 'join', founders: [0, 1] })
    const [lone, b, c, d] = cluster.meshes as [Mesh, Mesh, Mesh, Mesh]
    cluster.partition([lone], [b, c, d])
    await lone.create('/lone', 'x')
    await d.create('/big', 'acknowledged')
    await cluster.advance(5_000)
    expect(b.members().map((m) => m.id)).toEqual(['m2', 'm3', 'm4'])
    const diverged = recordDiverged(cluster)
    // the lone device reaches b and c only; d is cut off from everyone
    cluster.heal()
    cluster.partition([lone, b, c], [d])
    await cluster.advance(15_000)
    expect([...diverged.keys()]).toEqual(['m1'])
    expect(await b.children('/', { linearizable: true })).toEqual(['big'])
    cluster.heal()
    await cluster.advance(5_000)
    await expectWinner(cluster, diverged, [b, c, d], [lone], { '/big': 'acknowledged' }, ['/lone'])
  })

  it('a meet during a leader change on both sides: the losing side, leaderless, decides alone; the winner loses nothing', async () => {
    const cluster = createSimulatedCluster({ members: 5, seed: 1406, bootstrap: 'join', founders: [0, 2] })
    const [a, b, c, d, e] = cluster.meshes as [Mesh, Mesh, Mesh, Mesh, Mesh]
    cluster.partition([a, b], [c, d, e])
    await a.create('/ab', 'x')
    await cluster.advance(8_000)
    expect(e.members().map((m) => m.id)).toEqual(['m3', 'm4', 'm5'])
    const written: string[] = []
    for (let i = 0; i < 5; i++) written.push(await e.create(`/w${i}`, `${i}`))
    const diverged = recordDiverged(cluster)
    // the moment they meet, each side loses its leader
    const smallLeader = [a, b].find((m) => m.isLeader)!
    const bigLeader = [c, d, e].find((m) => m.isLeader)!
    cluster.heal()
    cluster.crash(smallLeader)
    cluster.crash(bigLeader)
    await cluster.advance(15_000)
    const smallRest = [a, b].find((m) => m !== smallLeader)!
    expect([...diverged.keys()]).toEqual([smallRest.id])
    await cluster.restart(bigLeader)
    await cluster.restart(smallLeader)
    await cluster.advance(20_000)
    const kept = Object.fromEntries(written.map((p, i) => [p, `${i}`]))
    await expectWinner(cluster, diverged, [c, d, e], [a, b], kept, ['/ab'])
  })
})
