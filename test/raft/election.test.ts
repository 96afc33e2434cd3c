import { describe, expect, it } from 'vitest'
import { Network, text } from './network'
import type { Message } from '../../src/raft/types'

const ids = ['1', '2', '3']

/** 1 led (PreVote, CheckQuorum) and is gone: 2 and 3 still hold their lease on it */
function leaderGone(): Network {
  const net = Network.cluster(ids, { checkQuorum: true, preVote: true })
  net.stabilize()
  net.elect('1')
  net.members.delete('1')
  return net
}

/** as leaderGone, and `ahead` holds an entry of 1's the other survivor lacks */
function leaderGoneWithOneAhead(ahead: '2' | '3'): Network {
  const net = Network.cluster(ids, { checkQuorum: true, preVote: true })
  net.stabilize()
  net.elect('1')
  net.partition(['1', ahead], [ahead === '2' ? '3' : '2'])
  net.node('1').propose(text(`only-${ahead}-has-it`))
  net.stabilize()
  net.heal()
  net.members.delete('1')
  return net
}

describe('§5.1 terms', () => {
  it('a member that sees a higher term adopts it and becomes a follower', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('1')
    const term = net.node('1').status().term
    net.node('2').campaign() // term + 1, no PreVote
    net.stabilize()
    expect(net.node('1').status().role).toBe('follower')
    expect(net.node('1').status().term).toBeGreaterThan(term)
  })

  it('messages of a stale term are ignored', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('1')
    const before = net.node('2').status()
    net.node('2').step({
      type: 'MsgApp', from: '3', to: '2', term: 1, logTerm: 0, index: 0, commit: 99,
      entries: [], reject: false, rejectHint: 0, context: null, snapshot: null,
    })
    expect(net.node('2').status().lead).toBe(before.lead)
    expect(net.node('2').status().commit).toBe(before.commit)
  })
})

describe('§5.2 leader election', () => {
  it('a follower campaigns after a randomized timeout in [electionTick, 2*electionTick)', () => {
    const timeouts = new Set<number>()
    for (let seed = 1; seed <= 20; seed++) {
      const net = new Network(seed)
      for (const id of ids) net.add(id, {}, { voters: ids, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false })
      net.processReady()
      net.queue = []
      let ticks = 0
      while (net.queue.length === 0 && ticks < 100) {
        net.tick('1')
        ticks++
        net.processReady()
      }
      expect(net.queue[0]?.type).toBe('MsgVote')
      expect(ticks).toBeGreaterThanOrEqual(10)
      expect(ticks).toBeLessThan(20)
      timeouts.add(ticks)
    }
    // the injected PRNG spreads timeouts, so members rarely collide
    expect(timeouts.size).toBeGreaterThan(3)
  })

  it('a candidate with votes from a majority becomes leader and announces itself', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('2')
    expect(net.leader()).toBe('2')
    for (const id of ids) expect(net.node(id).status().lead).toBe('2')
  })

  it('a candidate without a majority does not become leader', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.isolate('1')
    net.elect('1')
    expect(net.node('1').status().role).toBe('candidate')
  })

  it('each member grants at most one vote per term, first come first served', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.queue = []
    const term = net.node('3').status().term + 1
    const vote = (from: string): Message => ({
      type: 'MsgVote', from, to: '3', term, logTerm: 1, index: 3, commit: 0,
      entries: [], reject: false, rejectHint: 0, context: null, snapshot: null,
    })
    net.node('3').step(vote('1'))
    net.node('3').step(vote('2'))
    net.processReady()
    const answers = net.queue.filter((m) => m.type === 'MsgVoteResp').map((m) => [m.to, m.reject])
    expect(answers).toEqual([['1', false], ['2', true]])
    expect(net.get('3').disk.hardState.vote).toBe('1')
  })

  it('the vote is durable: a restarted member does not vote again in the same term', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    const term = net.node('3').status().term + 1
    const vote = (from: string): Message => ({
      type: 'MsgVote', from, to: '3', term, logTerm: 1, index: 3, commit: 0,
      entries: [], reject: false, rejectHint: 0, context: null, snapshot: null,
    })
    net.node('3').step(vote('1'))
    net.processReady()
    net.restart('3')
    net.queue = []
    net.node('3').step(vote('2'))
    net.processReady()
    expect(net.queue.find((m) => m.type === 'MsgVoteResp')?.reject).toBe(true)
  })

  it('planted bug voteTwice grants a second vote in the same term', () => {
    const net = Network.cluster(ids, { bugs: { voteTwice: true } })
    net.stabilize()
    net.queue = []
    const term = net.node('3').status().term + 1
    for (const from of ['1', '2']) {
      net.node('3').step({
        type: 'MsgVote', from, to: '3', term, logTerm: 1, index: 3, commit: 0,
        entries: [], reject: false, rejectHint: 0, context: null, snapshot: null,
      })
    }
    net.processReady()
    expect(net.queue.filter((m) => m.type === 'MsgVoteResp' && !m.reject)).toHaveLength(2)
  })

  it('a split vote is retried in a later term until someone wins', () => {
    const net = Network.cluster(['1', '2', '3', '4'])
    net.stabilize()
    net.partition(['1', '2'], ['3', '4'])
    net.node('1').campaign()
    net.node('3').campaign()
    net.stabilize()
    expect(net.leader()).toBeNull()
    net.heal()
    for (let i = 0; i < 100 && net.leader() === null; i++) {
      net.tickAll()
      net.stabilize()
    }
    expect(net.leader()).not.toBeNull()
  })
})

describe('§5.4.1 election restriction', () => {
  it('a member whose log is behind cannot win; voters reject it', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('1')
    net.isolate('3')
    net.node('1').propose(text('a'))
    net.stabilize()
    net.heal()
    net.node('1').tick() // nothing else
    net.queue = []
    net.elect('3')
    expect(net.leader()).not.toBe('3')
    expect(net.node('3').status().role).not.toBe('leader')
  })

  it('planted bug skipLogUpToDateCheck lets a behind member win', () => {
    const net = Network.cluster(ids, { bugs: { skipLogUpToDateCheck: true } })
    net.stabilize()
    net.elect('1')
    net.isolate('3')
    net.node('1').propose(text('a'))
    net.stabilize()
    net.heal()
    net.elect('3')
    expect(net.leader()).toBe('3')
    // and it truncates the committed entry on the others: the violation the simulator must catch
    expect(net.appliedData('1')).toEqual(['a'])
  })
})

describe('§9.6 PreVote', () => {
  it('a partitioned member does not inflate its term and does not disrupt the leader when back', () => {
    const net = Network.cluster(ids, { preVote: true })
    net.stabilize()
    net.elect('1')
    const term = net.node('1').status().term
    net.isolate('3')
    for (let i = 0; i < 50; i++) {
      net.tick('3')
      net.stabilize()
    }
    expect(net.node('3').status().term).toBe(term)
    expect(net.node('3').status().role).toBe('pre-candidate')
    net.heal()
    net.tick('1')
    net.stabilize()
    expect(net.leader()).toBe('1')
    expect(net.node('1').status().term).toBe(term)
    expect(net.node('3').status().role).toBe('follower')
  })

  it('a pre-candidate with a majority of pre-votes runs a real election', () => {
    const net = Network.cluster(ids, { preVote: true })
    net.stabilize()
    const seen: string[] = []
    net.onDeliver = (m) => seen.push(m.type)
    net.elect('2')
    expect(net.leader()).toBe('2')
    expect(seen.indexOf('MsgPreVote')).toBeLessThan(seen.indexOf('MsgVote'))
  })
})

describe('CheckQuorum', () => {
  it('a leader that has not heard from a quorum within an election timeout steps down', () => {
    const net = Network.cluster(ids, { checkQuorum: true })
    net.stabilize()
    net.elect('1')
    net.isolate('1')
    for (let i = 0; i < 2 * 10 && net.node('1').status().role === 'leader'; i++) {
      net.tick('1')
      net.stabilize()
    }
    expect(net.node('1').status().role).toBe('follower')
  })

  it('planted bug leaderNeverStepsDown keeps an isolated leader leading', () => {
    const net = Network.cluster(ids, { checkQuorum: true, bugs: { leaderNeverStepsDown: true } })
    net.stabilize()
    net.elect('1')
    net.isolate('1')
    for (let i = 0; i < 40; i++) {
      net.tick('1')
      net.stabilize()
    }
    expect(net.node('1').status().role).toBe('leader')
  })

  it('followers that heard from the leader recently ignore votes (the lease)', () => {
    const net = Network.cluster(ids, { checkQuorum: true })
    net.stabilize()
    net.elect('1')
    const term = net.node('1').status().term
    net.node('3').campaign() // no PreVote: would depose the leader without the lease
    net.stabilize()
    expect(net.leader()).toBe('1')
    expect(net.node('2').status().term).toBe(term)
  })

  it('reportPeerGone: a follower campaigns at once when its leader is gone', () => {
    const net = Network.cluster(ids, { checkQuorum: true, preVote: true })
    net.stabilize()
    net.elect('1')
    net.isolate('1')
    const term = net.node('1').status().term
    net.node('2').reportPeerGone('1')
    net.stabilize()
    // 3 still holds its lease on leader 1 and ignores 2's PreVote
    expect(net.leader()).toBe('1')
    net.node('3').reportPeerGone('1')
    net.stabilize()
    // no tick passed, yet 3 leads: it did not wait for an election timeout
    expect(net.node('3').status().role).toBe('leader')
    expect(net.node('2').status().lead).toBe('3')
    expect(net.node('3').status().term).toBe(term + 1)
  })

  it('reportPeerGone without a campaign: the survivor only forgets its leader, and grants the one that campaigns', () => {
    const net = leaderGone()
    const term = net.node('2').status().term
    // both hear the death in the same turn; only 2 was chosen to campaign
    net.node('3').reportPeerGone('1', 1)
    net.node('2').reportPeerGone('1', 0)
    net.stabilize()
    expect(net.node('2').status().role).toBe('leader')
    expect(net.node('3').status().lead).toBe('2')
    expect(net.node('2').status().term).toBe(term + 1)
  })

  it('a (pre)vote refused on the lease of a leader certified dead later is answered when the certificate comes: no tick passes', () => {
    const net = leaderGone()
    const term = net.node('2').status().term
    // 2, the chosen survivor, hears the certificate first and campaigns; 3,
    // still within its lease on leader 1, ignores the PreVote
    net.node('2').reportPeerGone('1', 0)
    net.stabilize()
    expect(net.leader()).toBe(null)
    // 3 hears it a moment later (rank 1): the PreVote it ignored is answered now
    net.node('3').reportPeerGone('1', 1)
    net.stabilize()
    expect(net.leader()).toBe('2')
    expect(net.node('2').status().term).toBe(term + 1)
  })

  it('the chosen survivor with the longer log, refused on a lease, wins when the other hears the certificate (bench: a 2 s tail)', () => {
    const net = leaderGoneWithOneAhead('2')
    // 2 (longer log) hears the certificate first and campaigns; 3 ignores it under its lease
    net.node('2').reportPeerGone('1', 0)
    net.stabilize()
    expect(net.leader()).toBe(null)
    // 3 hears it at rank 1: without an answer to 2's PreVote, 3 would campaign
    // after the stagger, 2 would refuse it (shorter log) and both would wait
    // out an election timeout
    net.node('3').reportPeerGone('1', 1)
    net.stabilize()
    expect(net.leader()).toBe('2')
    expect(net.node('3').status().lead).toBe('2')
  })

  it('the survivor left out campaigns itself when it must refuse the chosen one for a shorter log (once per death)', () => {
    const net = leaderGoneWithOneAhead('3')
    net.node('3').reportPeerGone('1', 1)
    net.node('2').reportPeerGone('1', 0)
    net.stabilize()
    // no tick passed: 3 refused 2 (its log is ahead) and won at once
    expect(net.node('3').status().role).toBe('leader')
    expect(net.node('2').status().lead).toBe('3')
  })

  it('reportPeerGone: what the dead leader sent before it went is dropped, not followed again', () => {
    const net = leaderGone()
    const term = net.node('2').status().term
    net.node('2').reportPeerGone('1', 1)
    // a heartbeat of 1's, on the wire when it died, arrives after the certificate
    net.node('2').step({
      type: 'MsgHeartbeat', from: '1', to: '2', term, logTerm: 0, index: 0, commit: 0,
      entries: [], reject: false, rejectHint: 0, context: null, snapshot: null,
    })
    expect(net.node('2').status().lead).toBeNull()
    // so 3, chosen to campaign, wins 2's vote at once (no lease of 1's holds it)
    net.node('3').reportPeerGone('1', 0)
    net.stabilize()
    expect(net.leader()).toBe('3')
  })

  /** 1 led and is gone; 3 holds an entry 2 lacks; 2 and 3 restart leaderless (a tab reopening every freed voter) */
  const reopened = (): Network => {
    const net = Network.cluster(ids, { checkQuorum: true, preVote: true })
    net.stabilize()
    net.elect('1')
    net.partition(['1', '3'], ['2'])
    net.node('1').propose(text('only-3-has-it'))
    net.stabilize()
    net.heal()
    net.members.delete('1')
    net.restart('2')
    net.restart('3')
    return net
  }

  it('campaignIfRefusing: a leaderless voter that refuses a candidate for a shorter log campaigns itself at once', () => {
    const net = reopened()
    net.node('3').campaignIfRefusing()
    net.node('2').campaign()
    net.stabilize()
    // no tick passed: 3 refused 2 and won
    expect(net.node('3').status().role).toBe('leader')
    expect(net.node('2').status().lead).toBe('3')
  })

  it('without campaignIfRefusing the refusing voter waits for its election timeout', () => {
    const net = reopened()
    net.node('2').campaign()
    net.stabilize()
    expect(net.leader()).toBeNull()
  })
})

describe('§5.2 campaignKnowingLeaderless', () => {
  /** 1 led and is gone; 3 reached a newer term than 2 (an election 2 missed); both restart leaderless */
  const staleTerm = (): Network => {
    const net = leaderGone()
    // 3 campaigned alone (no PreVote): its term moved on, 2 never heard
    net.isolate('2')
    net.node('3').step({
      type: 'MsgTimeoutNow', from: '1', to: '3', term: net.node('3').status().term, logTerm: 0, index: 0, commit: 0,
      entries: [], reject: false, rejectHint: 0, context: null, snapshot: null,
    })
    net.stabilize()
    net.heal()
    net.restart('2')
    net.restart('3')
    return net
  }

  it('a voter that answers with a newer term makes the candidate run again at once in it', () => {
    const net = staleTerm()
    expect(net.node('3').status().term).toBeGreaterThan(net.node('2').status().term)
    net.node('2').campaignKnowingLeaderless()
    net.stabilize()
    // no tick passed
    expect(net.leader()).toBe('2')
  })

  it('a plain campaign only adopts the newer term and waits for its election timeout', () => {
    const net = staleTerm()
    net.node('2').campaign()
    net.stabilize()
    expect(net.leader()).toBeNull()
  })
})

describe('§5.2 heartbeats: reportLinked', () => {
  it('a leader heartbeats a member whose link just came up, at once', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('1')
    net.queue = []
    net.node('1').reportLinked('2')
    net.processReady()
    expect(net.queue.map((m) => `${m.type}>${m.to}`)).toEqual(['MsgHeartbeat>2'])
  })

  it('a follower, or a peer the leader does not track, gets nothing', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('1')
    net.queue = []
    net.node('2').reportLinked('3')
    net.node('1').reportLinked('9')
    net.processReady()
    expect(net.queue).toEqual([])
  })
})
