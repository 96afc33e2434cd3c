// A lock node whose create answered too late (the acquire failed with its
// outcome unknown, and the create committed all the same) is an orphan of
// the session: nobody waits on it or holds it, yet every later contender
// queues behind it until the tab closes. Found by the browser chaos run
// (test/e2e/chaos.spec.ts, seed 17: the lock blocked for the rest of the run).
// The session's next acquire removes it.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { Mesh } from '../../src/shared/types'

describe('mesh.lock: orphan nodes of the session', () => {
  it("an acquire removes the session's orphan lock node instead of waiting behind it, and others get the lock after", async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 11 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    // what a lost-answer create leaves: a's node under a marker no acquire of a's owns
    const session = a.sessionId.replace(/[^A-Za-z0-9]/g, '')
    const orphan = await cluster.settle(a.create(`/locks/o/_c_${session}.999999-lock-`, '', { mode: 'ephemeral-sequential', parents: 'container' }))
    const lease = await cluster.settle(a.lock('/locks/o').acquire({ timeoutMs: 5_000 }))
    expect(lease.state).toBe('held')
    expect(await a.exists(orphan)).toBeNull()
    await cluster.settle(lease.release())
    // b, another session, is not held up by anything of a's
    const next = await cluster.settle(b.lock('/locks/o').acquire({ timeoutMs: 5_000 }))
    expect(next.state).toBe('held')
    expect(next.token).toBeGreaterThan(lease.token)
    await cluster.settle(next.release())
  })

  it("never removes a node of the session's own lease that is still held, nor of an acquire in progress", async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 12 })
    await cluster.stable()
    const [a] = cluster.meshes as [Mesh]
    const held = await cluster.settle(a.lock('/locks/h').acquire())
    // a second acquire of the same tab waits behind the held lease (it is not an orphan)
    let second = false
    const waiting = a.lock('/locks/h').acquire({ timeoutMs: 60_000 }).then((l) => ((second = true), l))
    await cluster.advance(2_000)
    expect(second).toBe(false)
    expect(held.state).toBe('held')
    expect(await a.exists(held.path)).not.toBeNull()
    await cluster.settle(held.release())
    const next = await cluster.settle(waiting)
    expect(next.state).toBe('held')
    await cluster.settle(next.release())
  })
})
