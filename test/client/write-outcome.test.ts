// A write that failed after it reached the leader may still have committed:
// its MeshError says `outcome: 'unknown'` (ZooKeeper's connection loss: read
// before retrying). One that never left this member says nothing of the kind.
// The linearizability checker (test/sim/linearizability) already lets every
// such non-znode error take effect once or never; this flag tells the app.
import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/shared/errors'
import { stableCluster } from '../attacks/arguments-cluster'

describe('a write whose outcome is unknown says so', () => {
  it('a follower write reported STORAGE that did commit is flagged outcome unknown', async () => {
    const { cluster, leader, follower } = await stableCluster(51)
    let settled = false
    const write = follower.set('/', 'committed').finally(() => (settled = true))
    const failure = write.then(
      () => null,
      (err: unknown) => err,
    )
    // run until the leader applied the write, then the follower's disk fails before it applies it
    for (let i = 0; i < 1_000 && (await leader.get('/')).text() !== 'committed'; i++) await cluster.advance(1)
    expect((await leader.get('/')).text()).toBe('committed')
    expect(settled).toBe(false)
    cluster.memberOf(follower).stop(new MeshError('STORAGE', 'the disk went away'))
    const err = await failure
    expect(err).toBeInstanceOf(MeshError)
    expect(err).toMatchObject({ code: 'STORAGE', outcome: 'unknown' })
    await cluster.close()
  })

  it('a write still queued when its member closes is not flagged: it never left', async () => {
    const { cluster, follower } = await stableCluster(52)
    cluster.partition([follower], cluster.meshes.filter((m) => m !== follower))
    // the follower learns it lost the leader, then writes: nothing is sent
    await cluster.advance(10_000)
    const failure = follower.set('/', 'never sent').catch((err: unknown) => err)
    cluster.crash(follower)
    const err = await failure
    expect(err).toBeInstanceOf(MeshError)
    expect((err as MeshError).outcome).toBeUndefined()
    await cluster.close()
  })
})
