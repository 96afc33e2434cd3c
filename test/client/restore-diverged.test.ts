// A readable `diverged` and restoreDiverged: when a cluster loses a meet, the
// app gets its lost tree as plain data (paths, data, stats, kinds, the last
// zxid) and can put the persistent nodes the winner lacks back, parent
// first, with every conflict reported and the winner's data kept.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { restoreDiverged } from '../../src/index'
import type { DivergedEvent, DivergedNode, Mesh } from '../../src/shared/types'
import { caught, expectConverged } from '../testing/helpers'

const text = (n: DivergedNode): string => new TextDecoder().decode(n.data)

/** a lone device and a two-device cluster both write, some paths alike, then meet */
async function lostMeet(seed: number): Promise<{ cluster: ReturnType<typeof createSimulatedCluster>; lone: Mesh; b: Mesh; c: Mesh; lost: DivergedEvent }> {
  const cluster = createSimulatedCluster({ members: 3, seed, bootstrap: 'join', founders: [0, 1] })
  const [lone, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
  cluster.partition([lone], [b, c])
  await lone.create('/shared', 'lone')
  await lone.create('/same', 'same')
  await lone.create('/only-lone', 'L')
  await lone.create('/only-lone/child', 'C')
  await lone.create('/box', '', { mode: 'container' })
  await lone.create('/box/item', 'I')
  await lone.create('/eph', 'e', { mode: 'ephemeral' })
  await lone.create('/seq-', 'lone seq', { mode: 'persistent-sequential' })
  await b.create('/shared', 'big')
  await b.create('/same', 'same')
  await c.create('/seq-', 'big seq', { mode: 'persistent-sequential' })
  await cluster.advance(5_000)
  let lost: DivergedEvent | null = null
  lone.on('diverged', (e) => (lost = e))
  cluster.heal()
  await cluster.advance(15_000)
  await cluster.stable()
  expect(lost).not.toBeNull()
  return { cluster, lone, b, c, lost: lost! }
}

describe('a readable diverged', () => {
  it('carries the lost tree as plain data: parent-first paths, data, stats, kinds, the last zxid, the clusters', async () => {
    const { lost } = await lostMeet(1501)
    // a sequential node under the full name the lost side gave it (the root's 6th child)
    expect(lost.nodes.map((n) => n.path)).toEqual(['/box', '/box/item', '/eph', '/only-lone', '/only-lone/child', '/same', '/seq-0000000005', '/shared'])
    const byPath = new Map(lost.nodes.map((n) => [n.path, n]))
    expect(text(byPath.get('/shared')!)).toBe('lone')
    expect(text(byPath.get('/seq-0000000005')!)).toBe('lone seq')
    expect(byPath.get('/box')!.kind).toBe('container')
    expect(byPath.get('/eph')!.kind).toBe('ephemeral')
    expect(byPath.get('/eph')!.stat.ephemeralOwner).not.toBeNull()
    expect(byPath.get('/only-lone')!).toMatchObject({ kind: 'persistent', ttlMs: 0, stat: { version: 0, numChildren: 1, dataLength: 1 } })
    for (const n of lost.nodes) expect(n.stat.czxid).toBeLessThanOrEqual(lost.lastZxid)
    expect(lost.lastZxid).toBeGreaterThan(0)
    expect(lost.clusterId).not.toBe('')
    expect(lost.winner).not.toBe(lost.clusterId)
    expect(lost.snapshot).toBeInstanceOf(Uint8Array)
  })
})

describe('restoreDiverged', () => {
  it('re-creates the persistent nodes the winner lacks, parent first; a path both sides wrote is a conflict and the winner keeps its data', async () => {
    const { cluster, lone, c, lost } = await lostMeet(1502)
    const report = await lone.restoreDiverged(lost)
    // the winner's own sequential node got another number: no clash, the lost one comes back by its name
    expect(report.created).toEqual(['/only-lone', '/seq-0000000005', '/only-lone/child'])
    expect(report.unchanged).toEqual(['/same'])
    expect(report.skipped).toEqual([
      { path: '/box', kind: 'container' },
      { path: '/eph', kind: 'ephemeral' },
    ])
    expect(report.conflicts.map((x) => [x.path, x.reason])).toEqual([
      ['/shared', 'exists-with-other-data'],
      ['/box/item', 'parent-missing'],
    ])
    expect(text(report.conflicts[0]!.node)).toBe('lone')
    await c.sync()
    expect((await c.get('/shared')).text()).toBe('big')
    expect((await c.get('/seq-0000000005')).text()).toBe('lone seq')
    expect(await c.children('/')).toEqual(['only-lone', 'same', 'seq-0000000002', 'seq-0000000005', 'shared'])
    expect((await c.get('/only-lone/child')).text()).toBe('C')
    expect(await c.exists('/box')).toBeNull()
    // again, the nodes in any order: everything is there now, nothing is written twice
    const again = await restoreDiverged(c, { nodes: [...lost.nodes].reverse() })
    expect(again.created).toEqual([])
    expect(again.unchanged.sort()).toEqual(['/only-lone', '/only-lone/child', '/same', '/seq-0000000005'])
    await expectConverged(cluster)
  })

  it('refuses what is not a diverged event with BAD_ARGUMENTS, before writing anything', async () => {
    const cluster = createSimulatedCluster({ members: 1, seed: 1503 })
    const [a] = cluster.meshes as [Mesh]
    const good = { path: '/ok', data: new Uint8Array([1]), kind: 'persistent' }
    for (const bad of [
      null,
      {},
      { nodes: 'x' },
      { nodes: [good, { path: '/x', data: 'not bytes', kind: 'persistent' }] },
      { nodes: [good, { path: 'no-slash', data: new Uint8Array(), kind: 'persistent' }] },
      { nodes: [good, { path: '/k', data: new Uint8Array(), kind: 'weird' }] },
      { nodes: [good, good] },
    ]) {
      expect(await caught(a.restoreDiverged(bad as never))).toMatchObject({ code: 'BAD_ARGUMENTS' })
    }
    expect(await a.exists('/ok')).toBeNull()
  })
})
