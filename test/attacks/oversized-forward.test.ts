// Attack: a peer forwards writes of ~4 MiB of data (here 12 of them). The tree refuses data
// over 1 MiB, but only at apply: 40 such entries were replicated and
// persisted by every member first (RSS 87 → 539 MiB). Now the leader checks
// data sizes before it proposes (forward receipt and its own writes):
// nothing the tree would refuse enters the log.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { encodeCommand } from '../../src/tree/command'
import { DEFAULT_MAX_DATA_BYTES } from '../../src/tree/ztree'
import { connectAttacker } from './attacker'

describe('attack: a peer forwards entries the tree will refuse', () => {
  it('no oversized entry enters the log, and the sender is refused (BAD_MESSAGE naming the size)', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 19 })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const member = cluster.memberOf(leader)
    const errors: string[] = []
    for (const m of cluster.meshes) m.on('error', (e) => errors.push(e.code))
    const evil = await connectAttacker(cluster)
    await cluster.advance(200)
    const before = member.commitIndex
    const data = new Uint8Array(4 * 1024 * 1024 - 1024)
    for (let i = 0; i < 12; i++) {
      const command = encodeCommand({ type: 'txn', session: 'evil.t.1', seq: i + 1, ackedBelow: 0, multi: false, ops: [{ op: 'create', path: `/big${i}`, data, mode: 'persistent' }], time: 0 })
      evil.sendAll({ type: 'forward', command })
    }
    await cluster.advance(3_000)
    expect(member.commitIndex - before).toBeLessThan(5)
    expect(errors.length).toBeGreaterThan(0)
    // the leader's own write of such data is refused before it is proposed, too
    const at = member.commitIndex
    await expect(leader.create('/big', new Uint8Array(DEFAULT_MAX_DATA_BYTES + 1))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    expect(member.commitIndex).toBe(at)
    await leader.create('/still', 'x')
  })
})
