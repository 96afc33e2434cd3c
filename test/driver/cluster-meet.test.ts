// The meet rule as pure bookkeeping (src/driver/cluster-meet.ts): what a claim
// counts for, when a cluster yields, and that both sides decide alike.
import { describe, expect, it } from 'vitest'
import { ClusterMeet, heavier, newClusterId } from '../../src/driver/cluster-meet'
import type { ClusterWeight, MeetHost } from '../../src/driver/cluster-meet'
import type { ClusterClaim } from '../../src/wire/node-messages'

const HOLD = 3_000

function meetOf(self: string, cluster: string, members: string[], opts: { linked?: (peer: string) => boolean; commit?: number } = {}): ClusterMeet {
  const host: MeetHost = {
    self,
    browser: `b-${self}`,
    linked: opts.linked ?? (() => true),
    conf: () => ({ voters: members, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }),
    commit: () => opts.commit ?? 10,
    leader: () => null,
    browserOf: (m) => `b-${m}`,
  }
  const meet = new ClusterMeet(host, HOLD)
  meet.clusterId = cluster
  return meet
}

const claim = (clusterId: string, browser: string, commit = 10, yieldTo = ''): ClusterClaim => ({ type: 'cluster', clusterId, browser, commit, yieldTo })
const LEADER = { leading: true, leaderless: false }

describe('the meet rule', () => {
  it('is a strict total order: browsers, then members, then commit index, then the smaller id', () => {
    const ws: ClusterWeight[] = []
    for (const browsers of [1, 2]) for (const members of [2, 3]) for (const commit of [5, 9]) for (const id of ['x', 'y']) ws.push({ id: `${id}${browsers}${members}${commit}`, browsers, members, commit })
    for (const a of ws) for (const b of ws) if (a !== b) expect(heavier(a, b)).toBe(!heavier(b, a))
    expect(heavier({ id: 'z', browsers: 2, members: 2, commit: 0 }, { id: 'a', browsers: 1, members: 5, commit: 99 })).toBe(true)
    expect(heavier({ id: 'a', browsers: 1, members: 1, commit: 3 }, { id: 'b', browsers: 1, members: 1, commit: 3 })).toBe(true)
  })

  it('new cluster ids read no clock: the founder and randomness; a static configuration names one cluster', () => {
    expect(newClusterId('m1', () => 0.25, ['m1'])).toMatch(/^m1-[0-9a-z]{10}$/)
    expect(newClusterId('m1', () => 0.25, ['m1'])).not.toBe(newClusterId('m1', () => 0.75, ['m1']))
    expect(newClusterId('m2', () => 0.1, ['m2', 'm1', 'm3'])).toBe(newClusterId('m3', () => 0.9, ['m3', 'm2', 'm1']))
  })

  it('a peer counts once, for itself: a forged huge commit index and browser do not outweigh a bigger cluster', () => {
    const meet = meetOf('m1', 'ours', ['m1', 'm2'])
    meet.heard('forger', claim('0', 'b-forged', Number.MAX_SAFE_INTEGER))
    expect(meet.observed()).toEqual([{ id: '0', browsers: 1, members: 1, commit: Number.MAX_SAFE_INTEGER }])
    for (let t = 0; t <= 10 * HOLD; t += 100) expect(meet.evaluate(t, LEADER)).toBeNull()
    expect(meet.best()).toBe('ours')
  })

  it('only peers linked to us now vouch: a claim from a peer whose link is gone weighs nothing', () => {
    const linked = new Set(['p1', 'p2', 'p3'])
    const meet = meetOf('m1', 'ours', ['m1', 'm2'], { linked: (p) => linked.has(p) })
    for (const p of ['p1', 'p2', 'p3']) meet.heard(p, claim('theirs', `b-${p}`))
    expect(meet.evaluate(0, LEADER)).toBeNull()
    linked.delete('p2')
    linked.delete('p3')
    // one vouching peer left: ours (2 browsers) is heavier, the hold starts over
    expect(meet.evaluate(HOLD, LEADER)).toBeNull()
    linked.add('p2')
    linked.add('p3')
    expect(meet.evaluate(HOLD + 100, LEADER)).toBeNull()
    expect(meet.evaluate(2 * HOLD + 100, LEADER)).toBe('theirs')
  })

  it('a leader yields after the hold, a member without a leader after twice the hold, a follower never on its own', () => {
    const meet = meetOf('m1', 'ours', ['m1'])
    meet.heard('p1', claim('theirs', 'b-p1'))
    meet.heard('p2', claim('theirs', 'b-p2'))
    expect(meet.evaluate(0, { leading: false, leaderless: false })).toBeNull()
    expect(meet.evaluate(HOLD - 1, LEADER)).toBeNull()
    expect(meet.evaluate(HOLD, { leading: false, leaderless: false })).toBeNull()
    expect(meet.evaluate(HOLD, { leading: false, leaderless: true })).toBeNull()
    expect(meet.evaluate(2 * HOLD, { leading: false, leaderless: true })).toBe('theirs')
    expect(meet.evaluate(HOLD, LEADER)).toBe('theirs')
  })

  it("a yield order counts only from our own leader, naming our cluster", () => {
    const meet = meetOf('m1', 'ours', ['m1', 'm2', 'm3'])
    const order = claim('ours', 'b-m2', 10, 'theirs')
    expect(meet.yieldOrder('m2', 'm2', order)).toBe('theirs')
    expect(meet.yieldOrder('forger', 'm2', order)).toBeNull()
    expect(meet.yieldOrder('m3', 'm2', order)).toBeNull()
    expect(meet.yieldOrder('m2', 'm2', claim('other', 'b-m2', 10, 'theirs'))).toBeNull()
    expect(meet.yieldOrder('m2', null, order)).toBeNull()
  })

  it('two clusters that see each other decide alike: exactly one side yields, whichever hears first', () => {
    for (const [sizeA, sizeB, commitA, commitB] of [[1, 5, 100, 1], [2, 2, 7, 7], [3, 2, 1, 50], [2, 2, 9, 3]] as const) {
      const a = Array.from({ length: sizeA }, (_, i) => `a${i}`)
      const b = Array.from({ length: sizeB }, (_, i) => `b${i}`)
      const meetA = meetOf('a0', 'A', a, { commit: commitA })
      const meetB = meetOf('b0', 'B', b, { commit: commitB })
      for (const p of b) meetA.heard(p, claim('B', `b-${p}`, commitB))
      for (const p of a) meetB.heard(p, claim('A', `b-${p}`, commitA))
      meetA.evaluate(0, LEADER)
      meetB.evaluate(0, LEADER)
      const yields = [meetA.evaluate(HOLD, LEADER), meetB.evaluate(HOLD, LEADER)]
      expect(yields.filter((y) => y !== null)).toHaveLength(1)
    }
  })
})
