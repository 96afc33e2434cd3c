import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { WatchEvent } from '../../src/shared/types'
import { caught, expectConverged } from './helpers'

describe('createSimulatedCluster: snapshots, TTL and recipes', () => {
  it('a member cut off while the log is compacted catches up by snapshot, and its watches fire for what it missed', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 31, timing: { snapshotEntries: 8 } })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const lagger = cluster.meshes.find((m) => !m.isLeader)!
    await leader.create('/watched', '0')
    await lagger.sync()
    const seen: WatchEvent[] = []
    lagger.watch('/watched', (e) => seen.push(e), { recursive: true })
    cluster.partition([lagger], cluster.meshes.filter((m) => m !== lagger))
    for (let i = 1; i <= 30; i++) await leader.set('/watched', `${i}`)
    await leader.create('/watched/kid', 'k')
    // long enough for the links to the lagger to close (a data channel only
    // stalls for a short cut, then delivers what it held, entries included)
    await cluster.advance(10_000)
    cluster.heal()
    await cluster.stable()
    await lagger.sync()
    expect(cluster.memberOf(lagger).stats.snapshotsInstalled).toBeGreaterThan(0)
    expect((await lagger.get('/watched')).text()).toBe('30')
    expect(await lagger.children('/watched')).toEqual(['kid'])
    // what changed while it was away reaches its recursive watch, in zxid order
    expect(seen.some((e) => e.type === 'data' && e.path === '/watched')).toBe(true)
    expect(seen.some((e) => e.type === 'created' && e.path === '/watched/kid')).toBe(true)
    const zxids = seen.map((e) => e.zxid)
    expect([...zxids].sort((a, b) => a - b)).toEqual(zxids)
    await expectConverged(cluster)
  })

  it('a member restarts from its compacted log (snapshot on disk plus the entries after it)', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 35, timing: { snapshotEntries: 10 } })
    const [a, b] = cluster.meshes as [typeof cluster.meshes[0], typeof cluster.meshes[0]]
    for (let i = 0; i < 25; i++) await b.create(`/n${i}`, `${i}`)
    await b.sync()
    expect(cluster.memberOf(b).stats.snapshotIndex).toBeGreaterThan(0)
    cluster.crash(b)
    await cluster.restart(b)
    // before catching up with anyone, b already has what it persisted
    expect(cluster.memberOf(b).stats.snapshotIndex).toBeGreaterThan(0)
    expect(cluster.memberOf(b).tree.children('/')!.length).toBeGreaterThan(0)
    await b.sync()
    expect(await b.children('/')).toHaveLength(25)
    await a.create('/after', '')
    await expectConverged(cluster)
  })

  it('a tree larger than snapshotEntries is snapshotted no more often than every as many entries as it had nodes (a snapshot encodes the whole tree)', async () => {
    const cluster = createSimulatedCluster({ members: 1, seed: 36, timing: { snapshotEntries: 10 } })
    const [a] = cluster.meshes as [typeof cluster.meshes[0]]
    await cluster.stable()
    const member = cluster.memberOf(a)
    // each multi is one entry creating 20 nodes: the tree outgrows snapshotEntries at once
    for (let i = 0; i < 12; i++) await a.multi(Array.from({ length: 20 }, (_, k) => ({ op: 'create' as const, path: `/n${i}-${k}`, data: '' })))
    await a.sync()
    const first = member.stats.snapshotIndex
    expect(first).toBeGreaterThan(0)
    const nodes = member.tree.nodeCount
    expect(nodes).toBeGreaterThan(100)
    // fewer entries than the tree had nodes at that snapshot: no new one, though far more than snapshotEntries
    for (let i = 0; i < 60; i++) await a.set(`/n0-0`, `${i}`)
    await a.sync()
    expect(member.stats.snapshotIndex).toBe(first)
    // past that many: the next snapshot
    for (let i = 0; i < nodes; i++) await a.set(`/n0-0`, `${i}`)
    await a.sync()
    expect(member.stats.snapshotIndex).toBeGreaterThan(first)
  })

  it('a TTL node is reaped by the leader once unchanged past its TTL', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 32 })
    const [a, b] = cluster.meshes as [typeof cluster.meshes[0], typeof cluster.meshes[0]]
    await a.create('/ttl', 'x', { mode: 'ttl', ttlMs: 2_000 })
    expect(await caught(a.create('/bad', 'x', { mode: 'ttl' }))).toMatchObject({ code: 'BAD_ARGUMENTS' })
    await b.sync()
    expect(await b.exists('/ttl')).not.toBeNull()
    await cluster.advance(5_000)
    expect(await b.exists('/ttl', { linearizable: true })).toBeNull()
    await expectConverged(cluster)
  })

  it('every create mode: sequential counters, ephemeral owners, containers reaped once emptied, NO_CHILDREN_FOR_EPHEMERALS', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 34 })
    const [a, b] = cluster.meshes as [typeof cluster.meshes[0], typeof cluster.meshes[0]]
    await a.create('/box', '', { mode: 'container' })
    expect(await a.create('/box/p-', '', { mode: 'persistent-sequential' })).toBe('/box/p-0000000000')
    expect(await b.create('/box/e-', '', { mode: 'ephemeral-sequential' })).toBe('/box/e-0000000001')
    expect(await a.create('/box/t-', '', { mode: 'ttl-sequential', ttlMs: 60_000 })).toBe('/box/t-0000000002')
    expect((await a.exists('/box/e-0000000001', { linearizable: true }))?.ephemeralOwner).toBe(b.sessionId)
    expect(await caught(b.create('/box/e-0000000001/kid', ''))).toMatchObject({ code: 'NO_CHILDREN_FOR_EPHEMERALS' })
    expect(await caught(a.create('/box/p-0000000000', ''))).toMatchObject({ code: 'NODE_EXISTS', path: '/box/p-0000000000' })
    expect(await caught(a.delete('/box'))).toMatchObject({ code: 'NOT_EMPTY' })
    for (const name of await a.children('/box', { linearizable: true })) await a.delete(`/box/${name}`)
    await cluster.advance(3_000)
    expect(await b.exists('/box', { linearizable: true })).toBeNull()
    await expectConverged(cluster)
  })

  it('a lock hands out increasing fencing tokens, and a fenced write by a stale holder fails with FENCED', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 33 })
    const [a, b] = cluster.meshes as [typeof cluster.meshes[0], typeof cluster.meshes[0]]
    await a.create('/data', '')
    const first = await a.lock('/locks/x').acquire()
    await a.set('/data', 'by a', { fence: first })
    const waiting = b.lock('/locks/x').acquire()
    await first.release()
    const second = await waiting
    expect(second.token).toBeGreaterThan(first.token)
    expect(await caught(a.set('/data', 'stale a', { fence: first }))).toMatchObject({ code: 'FENCED' })
    await b.set('/data', 'by b', { fence: second })
    await b.sync()
    expect((await b.get('/data')).text()).toBe('by b')
    await second.release()
    await expectConverged(cluster)
  })
})
