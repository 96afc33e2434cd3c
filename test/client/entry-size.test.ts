// A write is one log entry, and every follower refuses a MsgApp carrying an
// entry above the wire's MAX_ENTRY_BYTES. A write whose entry would exceed it
// must be refused up front with TOO_LARGE — entering the log would stall
// replication for good.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { MAX_ENTRY_BYTES } from '../../src/wire/limits'

describe('entry size', () => {
  it('a multi whose entry would exceed the wire limit is refused with TOO_LARGE, and the cluster keeps committing', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 5 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [(typeof cluster.meshes)[0], (typeof cluster.meshes)[0]]
    const MiB = new Uint8Array(1024 * 1024 - 64)
    const count = Math.ceil(MAX_ENTRY_BYTES / MiB.length) + 1
    const ops = Array.from({ length: count }, (_, i) => ({ op: 'create' as const, path: `/big${i}`, data: MiB }))
    await expect(a.multi(ops)).rejects.toMatchObject({ code: 'TOO_LARGE' })
    await expect(b.multi(ops)).rejects.toMatchObject({ code: 'TOO_LARGE' })
    // nothing of it applied, and replication still works
    await a.create('/after', 'ok')
    await b.sync()
    expect((await b.get('/after')).text()).toBe('ok')
    expect(await b.exists('/big0')).toBeNull()
  })
})
