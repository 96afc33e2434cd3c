// Attack: a peer forwards writes faster than the cluster commits them. The
// leader proposed every one: the log, every replica's memory and disk grew
// with the attacker's rate. Now a peer's forwards in flight (proposed, not
// yet applied) are capped in count and bytes; the rest are dropped (an
// honest member resends after its retry interval).
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { encodeCommand } from '../../src/tree/command'
import { MAX_FORWARD_BYTES_IN_FLIGHT } from '../../src/wire/limits'
import { connectAttacker } from './attacker'

describe('attack: a peer floods the leader with forwarded writes', () => {
  it('the log grows by at most the per-peer budget while nothing is applied', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 18 })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const member = cluster.memberOf(leader)
    const evil = await connectAttacker(cluster)
    await cluster.advance(200)
    const data = new Uint8Array(256 * 1024)
    const before = member.commitIndex
    // 300 writes of 256 KiB (75 MiB, above the core's 64 MiB of uncommitted entries) sent at once, before any can be applied
    for (let i = 0; i < 300; i++) {
      const command = encodeCommand({ type: 'txn', session: 'evil.t.1', seq: i + 1, ackedBelow: 0, multi: false, ops: [{ op: 'create', path: `/flood${i}`, data, mode: 'persistent' }], time: 0 })
      evil.sendAll({ type: 'forward', command })
    }
    await cluster.advance(5_000)
    const accepted = member.commitIndex - before
    expect(accepted * data.length).toBeLessThanOrEqual(MAX_FORWARD_BYTES_IN_FLIGHT + 8 * data.length)
    await leader.create('/still', 'x')
  })
})
