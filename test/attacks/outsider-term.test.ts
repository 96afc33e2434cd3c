// Attack: a peer outside the configuration sends raft messages with a term
// near 2^53. Before the fix every member followed it, persisted the term, and
// the next election stopped every member ("cannot encode term 2^53"), again
// after every restart. Now raft messages from outside the configuration are
// dropped, the codec refuses terms above 2 ** 48, and the core refuses
// implausible jumps even from members of the configuration.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { clusterIdOf, connectAttacker } from './attacker'
import { expectConverged } from '../testing/helpers'

describe('attack: an outsider sends raft messages with a huge term', () => {
  it('no member changes its term, and the cluster keeps committing, also after everyone restarts', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 13 })
    await cluster.stable()
    const [a] = cluster.meshes as [(typeof cluster.meshes)[0]]
    await a.create('/before', 'x')
    const terms = cluster.meshes.map((m) => m.term)
    const evil = await connectAttacker(cluster)
    await cluster.advance(500)
    for (const term of [2 ** 53 - 1, 2 ** 48, terms[0]! + 1]) {
      evil.raftAll({ type: 'MsgHeartbeat', term })
      evil.raftAll({ type: 'MsgApp', term, commit: 1 })
      evil.raftAll({ type: 'MsgVote', term, index: 1_000_000, logTerm: 1, context: new Uint8Array([0x74]) })
      evil.raftAll({ type: 'MsgTimeoutNow', term: terms[0]! })
      await cluster.advance(1_000)
    }
    expect(cluster.meshes.map((m) => m.term)).toEqual(terms)
    await a.create('/during', 'x')
    cluster.disconnectPeer(evil.id)
    for (const m of cluster.meshes) cluster.crash(m)
    for (const m of cluster.meshes) await cluster.restart(m)
    await cluster.stable()
    for (const m of cluster.meshes) expect(m.term).toBeLessThan(1_000)
    await cluster.meshes[1]!.create('/after', 'x')
    await expectConverged(cluster)
  })

  it('a member of the configuration cannot make the others jump far ahead in term', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 14 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [(typeof cluster.meshes)[0], (typeof cluster.meshes)[0]]
    // the insider: the transport of member b, reused (its own member is crashed)
    cluster.crash(b)
    const insider = await connectAttacker(cluster, b.id, 'insider')
    await cluster.advance(500)
    const before = a.term
    insider.raftAll({ type: 'MsgHeartbeat', term: 2 ** 48 })
    insider.raftAll({ type: 'MsgVote', term: 2 ** 50, index: 1_000_000, logTerm: 1, context: new Uint8Array([0x74]) })
    await cluster.advance(2_000)
    expect(a.term).toBeLessThan(before + 1_000)
    await a.create('/still', 'x')
    cluster.disconnectPeer(insider.id)
    await cluster.restart(b)
    await cluster.stable()
    await expectConverged(cluster)
  })

  it('outsiders that name each other as leader are still outsiders: only a member of the configuration can vouch', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 16 })
    await cluster.stable()
    const [a] = cluster.meshes as [(typeof cluster.meshes)[0]]
    const terms = cluster.meshes.map((m) => m.term)
    const evil = await connectAttacker(cluster, 'evil1', 'evil')
    const accomplice = await connectAttacker(cluster, 'evil2', 'evil')
    const clusterId = clusterIdOf(cluster)
    await cluster.advance(200)
    for (let round = 0; round < 5; round++) {
      evil.sendAll({ type: 'cluster', clusterId, browser: 'evil', commit: 0, yieldTo: '', leader: accomplice.id })
      accomplice.sendAll({ type: 'cluster', clusterId, browser: 'evil', commit: 0, yieldTo: '', leader: evil.id })
      evil.raftAll({ type: 'MsgHeartbeat', term: terms[0]! + 5 })
      accomplice.raftAll({ type: 'MsgApp', term: terms[0]! + 5, commit: 1 })
      await cluster.advance(500)
    }
    expect(cluster.meshes.map((m) => m.term)).toEqual(terms)
    await a.create('/still', 'x')
    await expectConverged(cluster)
  })
})
