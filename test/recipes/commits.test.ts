// What a recipe call costs in commits (log entries), the figure issue 16 item 3
// is about: every commit is a round trip to a quorum and a disk write on each
// of its members. An uncontended acquire is one entry (the contender's node,
// made with its missing parents, answering with its stat, so its czxid is the
// fencing token at once); who holds is decided by a local read of the
// children, not a commit. A release is one entry (the delete).
//
// A member's appliedIndex counts every entry it applied; measured from a
// synced member in a quiet cluster, the difference is the entries the call
// itself made (the count would include any housekeeping entry that slipped
// in, so it is an upper bound, and exact on these seeds).
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { Mesh } from '../../src/shared/types'

async function counted<T>(mesh: Mesh, call: () => Promise<T>): Promise<{ value: T; commits: number }> {
  await mesh.sync()
  const from = mesh.appliedIndex
  const value = await call()
  return { value, commits: mesh.appliedIndex - from }
}

function three(seed: number) {
  const cluster = createSimulatedCluster({ members: 3, seed })
  return { cluster, meshes: cluster.meshes as [Mesh, Mesh, Mesh] }
}

describe('commits per recipe call', () => {
  it('an uncontended lock acquire is one commit (its parents included) and a release one, again after the parents were reaped', async () => {
    const { cluster, meshes: [a] } = three(71)
    await cluster.stable()
    const first = await counted(a, () => a.lock('/locks/app/x').acquire())
    expect(first.commits).toBe(1)
    expect(first.value.token).toBe((await a.exists(first.value.path))!.czxid)
    expect((await a.exists('/locks/app'))?.czxid).toBe(first.value.token) // made in the same entry
    expect((await counted(a, () => first.value.release())).commits).toBe(1)
    // the empty containers go; the next acquire makes them again, in its one entry
    await cluster.advance(10_000)
    await a.sync()
    expect(await a.exists('/locks')).toBeNull()
    const second = await counted(a, () => a.lock('/locks/app/x').acquire())
    expect(second.commits).toBe(1)
    expect(second.value.token).toBeGreaterThan(first.value.token)
    expect((await counted(a, () => second.value.release())).commits).toBe(1)
  })

  it('a read-write lock, a semaphore and an election campaign acquire in one commit too', async () => {
    const { cluster, meshes: [a, b] } = three(72)
    await cluster.stable()
    const read = await counted(a, () => a.readWriteLock('/rw/doc').read.acquire())
    expect(read.commits).toBe(1)
    const permit = await counted(b, () => b.semaphore('/sem/pool', 2).acquire())
    expect(permit.commits).toBe(1)
    const elected = await counted(b, () => b.election('/elect/app').campaign({ value: 'b' }))
    expect(elected.commits).toBe(1)
    expect((await counted(b, () => elected.value.release())).commits).toBe(1)
    await read.value.release()
    await permit.value.release()
  })

  it('a queue put is one commit; a take claims in one and drops its receipt in a second', async () => {
    const { cluster, meshes: [a] } = three(73)
    await cluster.stable()
    const put = await counted(a, () => a.queue('/jobs/q').put('job'))
    expect(put.commits).toBe(1)
    const take = await counted(a, () => a.queue('/jobs/q').take())
    expect(take.value.text()).toBe('job')
    expect(take.commits).toBe(2)
  })
})
