// A follower's forwards of one turn travel in batches within the wire's bounds
// (src/driver/forward-queue.ts), and the leader applies them all.
import { describe, expect, it } from 'vitest'
import { batches } from '../../src/driver/forward-queue'
import { createSimulatedCluster } from '../../src/testing/index'
import { NODE_MESSAGE_LIMITS } from '../../src/wire/node-messages'

describe('forward batches', () => {
  it('split in order at maxBatchCommands commands and at maxBatchBytes bytes', () => {
    const small = Array.from({ length: 600 }, (_, i) => Uint8Array.of(i & 0xff))
    const runs = batches(small)
    expect(runs.map((r) => r.length)).toEqual([NODE_MESSAGE_LIMITS.maxBatchCommands, NODE_MESSAGE_LIMITS.maxBatchCommands, 600 - 2 * NODE_MESSAGE_LIMITS.maxBatchCommands])
    expect(runs.flat()).toEqual(small)
    const three = new Uint8Array(3 * 1024 * 1024)
    expect(batches([three, three, three, Uint8Array.of(1)]).map((r) => r.length)).toEqual([2, 2])
    expect(batches([new Uint8Array(NODE_MESSAGE_LIMITS.maxBatchBytes + 1)]).map((r) => r.length)).toEqual([1])
  })

  it('300 writes made in one turn on a follower all commit once, in order per writer', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 5 })
    await cluster.stable()
    const follower = cluster.meshes.find((m) => !m.isLeader)!
    await follower.create('/w', '')
    const writes = Array.from({ length: 300 }, (_, i) => follower.create(`/w/n${i}`, `${i}`))
    await Promise.all(writes)
    await cluster.advance(500)
    for (const m of cluster.meshes) expect((cluster.memberOf(m).tree.children('/w') ?? []).length).toBe(300)
  })
})
