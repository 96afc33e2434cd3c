// The commit timeline (issue 16, deliverable 1): with `timeline: true` every
// member records the stages of each entry where they happen, and the join of
// every member's records gives each write all its stages, in the order the
// protocol makes them happen. On virtual time: instants are exact and the
// simulated network (1–10 ms one way) puts a strict gap wherever a message
// lies between two stages. No timed assertion: only order and completeness.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { SimulatedCluster } from '../../src/testing/index'
import { HOP_PARTS, JOINED_STAGES, joinCommitTimelines, stageGapMedians, stageMedians, stagePairMedian } from '../../src/driver/commit-timeline-join'
import type { JoinedCommit, JoinedStage } from '../../src/driver/commit-timeline-join'
import { CommitTimelineRecorder, MAX_RECORDS } from '../../src/driver/commit-timeline'
import type { Mesh } from '../../src/shared/types'
import { startMesh } from '../../src/client/assemble'
import { MemoryHub } from '../../src/transport/memory-transport'
import { MemoryStorageProvider } from '../../src/storage/memory'

function joined(cluster: SimulatedCluster): JoinedCommit[] {
  return joinCommitTimelines(cluster.meshes.map((m) => m.commitTimeline()))
}

/** The writes `requester` made, joined, in log order. */
function writesOf(cluster: SimulatedCluster, requester: Mesh): JoinedCommit[] {
  return joined(cluster).filter((c) => c.requester === requester.id)
}

function at(c: JoinedCommit, stage: JoinedStage): number {
  const t = c.stages[stage]
  if (t === undefined) throw new Error(`entry ${c.index}: no ${stage} (has ${Object.keys(c.stages).join(', ')})`)
  return t
}

/** The order every write's stages keep, whatever the pipelining: what a
 *  stage needs must have happened before it ('<' where a message lies between). */
function expectOrdered(c: JoinedCommit): void {
  const t = (s: JoinedStage): number => at(c, s)
  if (!c.leaderWrite) {
    expect(t('submitted')).toBeLessThanOrEqual(t('forwarded'))
    // the forward crosses the network, and is proposed while its frame is handled
    expect(t('forwarded')).toBeLessThan(t('forwardArrived'))
    expect(t('forwardArrived')).toBeLessThanOrEqual(t('proposed'))
  }
  expect(t('submitted')).toBeLessThanOrEqual(t('proposed'))
  expect(t('proposed')).toBeLessThanOrEqual(t('leaderPersisted'))
  expect(t('proposed')).toBeLessThanOrEqual(t('appSent'))
  expect(t('leaderSaved')).toBeLessThanOrEqual(t('leaderPersisted'))
  // MsgApp crosses the network, the follower decodes it, takes a Ready
  // holding the entry, saves it, acknowledges, and the acknowledgement
  // crosses back
  expect(t('appSent')).toBeLessThan(t('appArrived'))
  for (const [a, b] of [['appArrived', 'appHeard'], ['appHeard', 'appTaken'], ['appTaken', 'followerSaved'], ['followerSaved', 'followerPersisted'], ['followerPersisted', 'ackSent'], ['ackArrived', 'acknowledged']] as const) {
    expect(t(a)).toBeLessThanOrEqual(t(b))
  }
  expect(t('ackSent')).toBeLessThan(t('ackArrived'))
  // a quorum of three: the leader's own save and one follower's acknowledgement
  expect(t('leaderPersisted')).toBeLessThanOrEqual(t('leaderCommitted'))
  expect(t('acknowledged')).toBeLessThanOrEqual(t('leaderCommitted'))
  if (c.leaderWrite) expect(t('committed')).toBe(t('leaderCommitted'))
  else {
    // a follower learns the commit from the leader's next message
    expect(t('leaderCommitted')).toBeLessThanOrEqual(t('commitSent'))
    expect(t('commitSent')).toBeLessThan(t('commitArrived'))
    expect(t('commitArrived')).toBeLessThanOrEqual(t('commitHeard'))
    expect(t('commitHeard')).toBeLessThanOrEqual(t('committed'))
    expect(t('requesterSaved')).toBeLessThanOrEqual(t('requesterPersisted'))
  }
  expect(t('committed')).toBeLessThanOrEqual(t('applied'))
  // a follower applies its write only once the entry is on its own disk too
  if (!c.leaderWrite) expect(t('requesterPersisted')).toBeLessThanOrEqual(t('applied'))
  expect(t('applied')).toBeLessThanOrEqual(t('resolved'))
}

describe('commit timeline (option timeline)', () => {
  it('a leader write: every stage but forwarded, in order, joined from the members where each happened', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 11, timeline: true })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const before = writesOf(cluster, leader).length
    for (let i = 0; i < 5; i++) await leader.create(`/l${i}`, 'x')
    const writes = writesOf(cluster, leader).slice(before)
    expect(writes).toHaveLength(5)
    for (const c of writes) {
      expect(c.leaderWrite).toBe(true)
      expect(c.leader).toBe(leader.id)
      expect(Object.keys(c.stages).sort()).toEqual(JOINED_STAGES.filter((s) => !['forwarded', 'forwardArrived', 'commitSent', 'commitArrived', 'commitHeard', 'requesterSaved', 'requesterPersisted'].includes(s)).sort())
      expectOrdered(c)
    }
    // the follower's save was timed in a follower's tab, not the leader's
    const followerRecords = cluster.meshes.filter((m) => m !== leader).flatMap((m) => m.commitTimeline())
    expect(followerRecords.some((r) => r.index === writes[0]!.index && r.stages.followerPersisted === writes[0]!.stages.followerPersisted)).toBe(true)
    expect(leader.commitTimeline().find((r) => r.index === writes[0]!.index)!.stages.followerPersisted).toBeUndefined()
  })

  it('a follower write: every stage, forwarded included, the leader\'s measured at the leader', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 12, timeline: true })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const follower = cluster.meshes.find((m) => !m.isLeader)!
    for (let i = 0; i < 5; i++) await follower.create(`/f${i}`, 'x')
    const writes = writesOf(cluster, follower)
    expect(writes).toHaveLength(5)
    for (const c of writes) {
      expect(c.leaderWrite).toBe(false)
      expect(c.leader).toBe(leader.id)
      expect(Object.keys(c.stages).sort()).toEqual([...JOINED_STAGES].sort())
      expectOrdered(c)
    }
    // the requester's own record names its write and the entry it became
    const own = follower.commitTimeline().filter((r) => r.write !== undefined)
    expect(own.map((r) => r.index)).toEqual(writes.map((c) => c.index))
    expect(own.every((r) => r.write!.session === follower.sessionId)).toBe(true)
    expect(own.map((r) => r.write!.seq)).toEqual([1, 2, 3, 4, 5])
    // the leader did not see the requester's stages: they come from the follower
    const atLeader = leader.commitTimeline().find((r) => r.index === writes[0]!.index)!
    expect(atLeader.write).toBeUndefined()
    expect(atLeader.stages.submitted).toBeUndefined()
    expect(atLeader.stages.proposed).toBe(writes[0]!.stages.proposed)
    // medians are over the writes given, relative to submitted
    const medians = stageMedians(writes)
    expect(medians.submitted).toBe(0)
    expect(medians.resolved).toBeGreaterThan(medians.proposed!)
    // every part of every hop has a median over these writes; a link crosses the network
    for (const { hop, part, from, to } of HOP_PARTS) {
      const m = stagePairMedian(writes, from, to)
      expect(m, `${hop} ${part}`).not.toBeNull()
      expect(m!.n).toBe(writes.length)
      if (part === 'link') expect(m!.median).toBeGreaterThan(0)
    }
  })

  it('in-process on real timers, with a clock that counts its reads: each stage is recorded after the one it follows', async () => {
    // a counting clock turns "recorded later" into "greater": the hooks' call
    // order is checked exactly, with no time in it (virtual time cannot tell
    // a stage recorded before the apply from one after it)
    let reads = 0
    const timelineNow = (): number => ++reads
    const hub = new MemoryHub()
    const storage = new MemoryStorageProvider()
    const meshes: Mesh[] = []
    try {
      for (const [i, id] of ['a1', 'b1', 'c1'].entries()) {
        const hello = { member: id, tab: 't', browser: `browser-${id}` }
        meshes.push(await startMesh({ hello, storage: await storage.open('timeline', id), transport: hub.connect(hello), bootstrap: i === 0, seed: i + 1, timing: { tickMs: 20 }, timeline: true, timelineNow }))
      }
      const a = meshes[0]!
      await a.create('/rt', '')
      while (a.members().filter((m) => m.voter).length < 3 || meshes.some((m) => m.leader !== a.id)) await new Promise((r) => setTimeout(r, 20))
      const follower = meshes[1]!
      await follower.create('/rt/f', 'x')
      await a.create('/rt/l', 'x')
      const all = joinCommitTimelines(meshes.map((m) => m.commitTimeline()))
      const byFollower = all.filter((c) => c.requester === follower.id && c.stages.submitted !== undefined)
      const byLeader = all.filter((c) => c.requester === a.id)
      for (const c of [byFollower.at(-1)!, byLeader.at(-1)!]) {
        const t = (s: JoinedStage): number => at(c, s)
        expect(t('submitted')).toBeLessThan(t('proposed'))
        if (!c.leaderWrite) expect(t('forwarded')).toBeLessThan(t('proposed'))
        expect(t('proposed')).toBeLessThan(t('leaderPersisted'))
        expect(t('proposed')).toBeLessThan(t('appSent'))
        expect(t('leaderSaved')).toBeLessThan(t('leaderPersisted'))
        const hops: JoinedStage[] = ['appSent', 'appArrived', 'appHeard', 'appTaken', 'followerSaved', 'followerPersisted', 'ackSent', 'ackArrived', 'acknowledged', 'leaderCommitted']
        if (!c.leaderWrite) {
          expect(t('forwarded')).toBeLessThan(t('forwardArrived'))
          expect(t('forwardArrived')).toBeLessThan(t('proposed'))
          hops.push('commitSent', 'commitArrived', 'commitHeard', 'committed')
        }
        for (let i = 1; i < hops.length; i++) expect(t(hops[i - 1]!)).toBeLessThan(t(hops[i]!))
        expect(t('leaderPersisted')).toBeLessThan(t('leaderCommitted'))
        expect(t('leaderCommitted')).toBeLessThanOrEqual(t('committed'))
        expect(t('committed')).toBeLessThan(t('applied'))
        expect(t('applied')).toBeLessThan(t('resolved'))
      }
    } finally {
      await Promise.all(meshes.map((m) => m.close()))
    }
  })

  it('off by default: no member records anything', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 13 })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const follower = cluster.meshes.find((m) => !m.isLeader)!
    await leader.create('/a', 'x')
    await follower.create('/b', 'x')
    for (const m of cluster.meshes) expect(m.commitTimeline()).toEqual([])
  })

  it('stage medians: after submitted, and gaps after the stage before that the write has', () => {
    const c = (stages: JoinedCommit['stages']): JoinedCommit => ({ index: 1, term: 1, requester: 'a', leader: 'a', leaderWrite: true, stages })
    const commits = [c({ submitted: 100, proposed: 101, committed: 105, resolved: 110 }), c({ submitted: 200, proposed: 203, resolved: 220 }), c({ submitted: 300, proposed: 302, committed: 309, resolved: 312 })]
    expect(stageMedians(commits)).toEqual({ submitted: 0, proposed: 2, committed: 5, resolved: 12 })
    // resolved: 5, 17 (after proposed: the second write has no committed), 3
    expect(stageGapMedians(commits)).toEqual({ submitted: 0, proposed: 2, committed: 4, resolved: 5 })
  })

  it('a recorder that evicted many times over still holds exactly the newest MAX_RECORDS entries, in index order', () => {
    let now = 0
    const rec = new CommitTimelineRecorder('m1', () => ++now)
    const total = 3 * MAX_RECORDS + 7
    for (let i = 1; i <= total; i++) rec.proposed(i, 1)
    // a later term at a kept index replaces the record without adding a key
    rec.proposed(total - 1, 2)
    const records = rec.records()
    expect(records).toHaveLength(MAX_RECORDS)
    expect(records[0]!.index).toBe(total - MAX_RECORDS + 1)
    expect(records.at(-1)!.index).toBe(total)
    expect(records.at(-2)).toMatchObject({ index: total - 1, term: 2 })
  })

  it('a recorder keeps at most MAX_RECORDS entries, the newest, and a later term replaces an index', () => {
    let now = 0
    const rec = new CommitTimelineRecorder('m1', () => ++now)
    const entry = (index: number, term = 1) => ({ index, term, type: 'normal' as const, data: new Uint8Array() })
    for (let i = 1; i <= MAX_RECORDS + 5; i++) rec.proposed(i, 1)
    rec.persisted([entry(MAX_RECORDS + 5, 2)], false)
    const records = rec.records()
    expect(records).toHaveLength(MAX_RECORDS)
    expect(records[0]!.index).toBe(6)
    const last = records.at(-1)!
    expect(last).toMatchObject({ index: MAX_RECORDS + 5, term: 2 })
    expect(last.stages.proposed).toBeUndefined()
    expect(last.stages.followerPersisted).toBeDefined()
  })
})
