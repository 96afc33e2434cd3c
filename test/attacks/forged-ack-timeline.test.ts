// Attack: the commit timeline (option `timeline`) reads the index of every
// MsgAppResp the leader hears, to time when a follower acknowledged its
// entries. An outsider forges MsgAppResp with a huge index while the leader's
// entry waits for its followers: the forgery is dropped before the timeline
// sees it (raft messages from outside the configuration never reach it), so
// the entry shows no acknowledgement until a real follower gives one, and the
// write commits as usual.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { connectAttacker } from './attacker'
import { expectConverged } from '../testing/helpers'

describe('attack: an outsider forges acknowledgements while the timeline is on', () => {
  it('the forged MsgAppResp times nothing, the real acknowledgement does', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 21, timeline: true, whenNoQuorum: 'wait' })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const followers = cluster.meshes.filter((m) => m !== leader)
    await leader.create('/before', 'x')
    const evil = await connectAttacker(cluster)
    await cluster.advance(200)
    // no follower can acknowledge the next entry
    for (const f of followers) cluster.crash(f)
    const last = leader.commitIndex
    const write = leader.create('/pending', 'x')
    await cluster.advance(20)
    const pending = () => leader.commitTimeline().find((r) => r.index > last && r.stages.proposed !== undefined)
    expect(pending()).toBeDefined()
    evil.raftAll({ type: 'MsgAppResp', term: leader.term, index: 1_000_000 })
    evil.raftAll({ type: 'MsgAppResp', term: leader.term, index: pending()!.index })
    await cluster.advance(100)
    expect(pending()!.stages.acknowledged).toBeUndefined()
    expect(leader.commitIndex).toBe(last)
    cluster.disconnectPeer(evil.id)
    for (const f of followers) await cluster.restart(f)
    await write
    const rec = leader.commitTimeline().find((r) => r.index === pending()!.index)!
    expect(rec.stages.acknowledged).toBeDefined()
    expect(rec.stages.acknowledged!).toBeGreaterThan(rec.stages.appSent!)
    await expectConverged(cluster)
  })
})
