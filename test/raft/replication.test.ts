import { describe, expect, it } from 'vitest'
import { RaftError } from '../../src/raft/index'
import { Network, str, text } from './network'
import type { Message } from '../../src/raft/types'

const ids = ['1', '2', '3']

function leaderCluster(overrides = {}): Network {
  const net = Network.cluster(ids, overrides)
  net.stabilize()
  net.elect('1')
  return net
}

describe('§5.3 log replication', () => {
  it('a new leader commits a no-op of its term first', () => {
    const net = leaderCluster()
    const noop = net.get('2').applied.at(-1)!
    expect(noop.type).toBe('normal')
    expect(noop.data.length).toBe(0)
    expect(noop.term).toBe(net.node('1').status().term)
  })

  it('entries committed by the leader are applied everywhere in the same order', () => {
    const net = leaderCluster()
    for (const x of ['a', 'b', 'c']) net.node('1').propose(text(x))
    net.stabilize()
    for (const id of ids) expect(net.appliedData(id)).toEqual(['a', 'b', 'c'])
  })

  it('followers forward proposals to the leader', () => {
    const net = leaderCluster()
    net.node('3').propose(text('from-3'))
    net.stabilize()
    for (const id of ids) expect(net.appliedData(id)).toEqual(['from-3'])
  })

  it('a lagging follower catches up when it comes back', () => {
    const net = leaderCluster()
    net.isolate('3')
    for (let i = 0; i < 20; i++) net.node('1').propose(text(`e${i}`))
    net.stabilize()
    expect(net.appliedData('3')).toEqual([])
    net.heal()
    net.tick('1')
    net.stabilize()
    expect(net.appliedData('3')).toHaveLength(20)
  })

  it('a conflicting uncommitted suffix is overwritten, found by fast backtracking', () => {
    const net = leaderCluster()
    // 1 appends many entries in its term that reach nobody
    net.isolate('1')
    for (let i = 0; i < 30; i++) net.node('1').propose(text(`lost${i}`))
    net.stabilize()
    // 2 leads a new term with 3, commits other entries
    net.elect('2')
    for (let i = 0; i < 3; i++) net.node('2').propose(text(`kept${i}`))
    net.stabilize()
    net.heal()
    const rejects: Message[] = []
    net.onDeliver = (m) => {
      if (m.type === 'MsgAppResp' && m.reject) rejects.push(m)
    }
    net.tick('2')
    net.stabilize()
    expect(net.appliedData('1')).toEqual(['kept0', 'kept1', 'kept2'])
    // one rejection is enough to skip the whole term of conflicting entries
    expect(rejects.length).toBeLessThanOrEqual(2)
    expect(net.node('1').status().lastIndex).toBe(net.node('2').status().lastIndex)
  })

  it('planted bug noTruncateOnConflict leaves the conflicting entries in place', () => {
    const net = leaderCluster({ bugs: { noTruncateOnConflict: true } })
    net.isolate('1')
    for (let i = 0; i < 3; i++) net.node('1').propose(text(`lost${i}`))
    net.stabilize()
    net.elect('2')
    net.node('2').propose(text('kept'))
    net.stabilize()
    net.heal()
    net.tick('2')
    net.stabilize()
    expect(net.appliedData('1')).toContain('lost0')
  })

  it('in replicate state, MsgApps in flight are capped by maxInflightMsgs', () => {
    const net = leaderCluster({ maxInflightMsgs: 4, maxSizePerMsg: 1 })
    net.queue = []
    for (let i = 0; i < 20; i++) net.node('1').propose(text(`e${i}`))
    net.processReady()
    const apps = net.queue.filter((m) => m.type === 'MsgApp' && m.to === '2' && m.entries.length > 0)
    expect(apps).toHaveLength(4)
    net.stabilize()
    expect(net.appliedData('2')).toHaveLength(20)
  })

  it('maxSizePerMsg bounds the entries of one MsgApp (but one entry always goes)', () => {
    const net = leaderCluster({ maxSizePerMsg: 100 })
    net.queue = []
    net.isolate('2')
    net.isolate('3')
    for (let i = 0; i < 10; i++) net.node('1').propose(new Uint8Array(40))
    net.stabilize()
    net.heal()
    const sizes: number[] = []
    net.onDeliver = (m) => {
      if (m.type === 'MsgApp' && m.entries.length > 0) sizes.push(m.entries.length)
    }
    net.tick('1')
    net.stabilize()
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2)
    expect(net.get('2').applied.filter((e) => e.data.length === 40)).toHaveLength(10)
  })

  it('a lost MsgApp in replicate state is recovered through the heartbeat', () => {
    const net = leaderCluster()
    let dropped = 0
    net.filter = (m) => !(m.type === 'MsgApp' && m.to === '3' && m.entries.length > 0 && dropped++ < 1)
    net.node('1').propose(text('a'))
    net.node('1').propose(text('b'))
    net.stabilize()
    net.filter = null
    net.node('1').propose(text('c'))
    net.stabilize()
    net.tick('1')
    net.stabilize()
    expect(net.appliedData('3')).toEqual(['a', 'b', 'c'])
  })
})

describe('§5.4.2 committing entries from previous terms', () => {
  // 1 leads term t and appends x that reaches nobody; then 1 wins term t+1 and
  // x reaches 2, while 1's term-(t+1) no-op does not. x is on a majority, but
  // counting replicas of an old-term entry must not commit it (Figure 8).
  function scenario(bugs = {}): { net: Network; xIndex: number } {
    const net = Network.cluster(ids, { maxSizePerMsg: 1, bugs })
    net.stabilize()
    net.elect('1')
    net.isolate('1')
    net.node('1').propose(text('x'))
    net.stabilize()
    const xIndex = net.node('1').status().lastIndex
    net.restart('1') // a crash: 1 comes back a follower, x on its disk
    net.heal()
    const oldTerm = net.node('1').status().term
    // 3 hears nothing; 2 receives only the old-term part of each MsgApp
    net.filter = (m) => {
      if (m.type !== 'MsgApp' || m.entries.every((e) => e.term <= oldTerm)) return m.to !== '3' || m.type !== 'MsgApp'
      if (m.to === '2') net.node('2').step({ ...m, entries: m.entries.filter((e) => e.term <= oldTerm) })
      return false
    }
    net.node('1').campaign()
    net.stabilize()
    return { net, xIndex }
  }

  it('a leader does not commit an old-term entry by counting replicas', () => {
    const { net, xIndex } = scenario()
    expect(net.node('1').status().role).toBe('leader')
    expect(net.node('1').status().progress!.get('2')!.match).toBeGreaterThanOrEqual(xIndex)
    expect(net.node('1').status().commit).toBeLessThan(xIndex)
    // once an entry of its own term is replicated, x commits with it
    net.filter = null
    net.tick('1')
    net.stabilize()
    expect(net.appliedData('2')).toEqual(['x'])
  })

  it('planted bug commitOldTermByCounting commits it', () => {
    const { net, xIndex } = scenario({ commitOldTermByCounting: true })
    expect(net.node('1').status().commit).toBeGreaterThanOrEqual(xIndex)
  })
})

describe('§5.5 follower crashes', () => {
  it('a restarted follower keeps its durable log and catches up', () => {
    const net = leaderCluster()
    net.node('1').propose(text('a'))
    net.stabilize()
    net.restart('2')
    expect(net.node('2').status().lastIndex).toBe(net.node('1').status().lastIndex)
    net.node('1').propose(text('b'))
    net.stabilize()
    // re-applied from the durable log after restart: the committed prefix again, then b
    expect(net.appliedData('2')).toEqual(['a', 'b'])
  })
})

describe('proposals and backpressure', () => {
  it('propose throws NO_LEADER when no leader is known', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    expect(() => net.node('2').propose(text('x'))).toThrow(RaftError)
    try {
      net.node('2').propose(text('x'))
    } catch (e) {
      expect((e as RaftError).code).toBe('NO_LEADER')
    }
  })

  it('a leader refuses proposals once maxUncommittedEntriesSize bytes are uncommitted', () => {
    const net = leaderCluster({ maxUncommittedEntriesSize: 100 })
    net.isolate('1')
    let code = ''
    let accepted = 0
    for (let i = 0; i < 20; i++) {
      try {
        net.node('1').propose(new Uint8Array(30))
        accepted++
      } catch (e) {
        code = (e as RaftError).code
        break
      }
    }
    expect(accepted).toBe(3)
    expect(code).toBe('UNCOMMITTED_TOO_LARGE')
    // once committed, room is freed
    net.heal()
    net.tick('1')
    net.stabilize()
    expect(() => net.node('1').propose(new Uint8Array(30))).not.toThrow()
  })
})

describe('reportUnreachable', () => {
  it('moves a replicating follower back to probing, and replication resumes when it answers', () => {
    const net = leaderCluster()
    expect(net.node('1').status().progress!.get('2')!.state).toBe('replicate')
    net.node('1').reportUnreachable('2')
    expect(net.node('1').status().progress!.get('2')!.state).toBe('probe')
    net.node('1').propose(text('a'))
    net.stabilize()
    expect(net.node('1').status().progress!.get('2')!.state).toBe('replicate')
    expect(net.appliedData('2')).toEqual(['a'])
  })
})

describe('§5.4.2 Figure 8: why counting replicas of an old-term entry is unsafe', () => {
  // The paper's Figure 8 with five members. `a` is appended by 1 in term 2;
  // 5 leads term 3 with an entry at the same index that reaches nobody; 1
  // leads term 4 and replicates `a` to a majority, but none of its term-4
  // entries; then 5 wins term 5 and overwrites `a` everywhere.
  function figure8(bugs = {}): { net: Network; i: number } {
    const all = ['1', '2', '3', '4', '5']
    const net = Network.cluster(all, { maxSizePerMsg: 1, bugs })
    net.stabilize()
    net.elect('1') // term 2
    // (a) a reaches 2 only
    net.partition(['1', '2'], ['3', '4', '5'])
    net.node('1').propose(text('a'))
    net.stabilize()
    const i = net.node('1').status().lastIndex
    // (b) 5 wins term 3 with 3 and 4; its no-op at index i reaches nobody
    net.heal()
    net.partition(['1', '2'], ['3', '4', '5'])
    net.filter = (m) => !(m.from === '5' && m.type === 'MsgApp')
    net.elect('5')
    expect(net.node('5').status().role).toBe('leader')
    net.filter = null
    net.restart('5') // 5 goes quiet, i@3 on its disk
    // (c) 1 (restarted, so no longer leading term 2) wins term 4 with 2 and
    // 3, replicating only entries of term 2
    net.restart('1')
    net.heal()
    net.partition(['1', '2', '3'], ['4', '5'])
    const term2Only = (m: Message): boolean => {
      if (m.type !== 'MsgApp' || m.entries.every((e) => e.term <= 2)) return true
      net.node(m.to).step({ ...m, entries: m.entries.filter((e) => e.term <= 2) })
      return false
    }
    net.filter = term2Only
    for (let k = 0; k < 3 && net.node('1').status().role !== 'leader'; k++) net.elect('1')
    expect(net.node('1').status().term).toBe(4)
    net.tick('1') // heartbeats: followers learn the commit index, if any
    net.stabilize()
    // (d) 1 goes quiet; 5 wins term 5 with 2, 3 and 4 and overwrites index i
    net.filter = null
    net.restart('1')
    net.heal()
    net.isolate('1')
    // bounded rounds: with the bug, 2 and 3 refuse to overwrite an entry they
    // hold committed and keep rejecting 5's MsgApps
    const rounds = (n: number): void => {
      for (let k = 0; k < n; k++) {
        net.processReady()
        net.deliverQueued()
      }
    }
    for (let k = 0; k < 3 && net.node('5').status().role !== 'leader'; k++) {
      net.node('5').campaign()
      rounds(50)
    }
    expect(net.node('5').status().role).toBe('leader')
    rounds(50)
    return { net, i }
  }

  const appliedAt = (net: Network, id: string, i: number): string[] =>
    net.get(id).applied.filter((e) => e.index === i).map((e) => `${e.term}:${str(e.data)}`)

  it('a correct leader never commits a, so its overwrite is harmless', () => {
    const { net, i } = figure8()
    expect(appliedAt(net, '1', i)).toEqual([])
    expect(appliedAt(net, '2', i)).toEqual(['3:'])
  })

  it('planted bug commitOldTermByCounting applies a, later overwritten: two values at one index', () => {
    const { net, i } = figure8({ commitOldTermByCounting: true })
    // 2 and 3 applied a (they learned the commit index from 1); 4 applies
    // 5's entry of term 3 at the same index
    expect(appliedAt(net, '2', i)).toEqual(['2:a'])
    expect(appliedAt(net, '4', i)).toEqual(['3:'])
  })
})

describe('heartbeat cadence (setHeartbeatTicks)', () => {
  it('an idle leader heartbeats every given number of ticks; the followers keep it as leader', () => {
    const net = leaderCluster({ electionTick: 15 })
    const term = net.node('1').status().term
    // every member ticks, as time passes for all of them
    const beatsOver = (ticks: number): number => {
      let beats = 0
      for (let i = 0; i < ticks; i++) {
        for (const id of ids) net.tick(id)
        net.processReady()
        beats += net.queue.filter((m) => m.type === 'MsgHeartbeat').length
        net.stabilize()
      }
      return beats
    }
    expect(beatsOver(30)).toBe(60) // every tick, to 2 followers
    net.node('1').setHeartbeatTicks(3)
    // 60 ticks are at least two election timeouts: nobody campaigned
    expect(beatsOver(60)).toBe(40)
    expect(net.node('1').status().role).toBe('leader')
    expect(net.node('1').status().term).toBe(term)
    for (const id of ['2', '3']) expect(net.node(id).status().lead).toBe('1')
  })

  it('refuses a cadence that is not below the election timeout', () => {
    const net = leaderCluster({ electionTick: 10 })
    for (const bad of [0, -1, 1.5, 10, 11]) expect(() => net.node('1').setHeartbeatTicks(bad)).toThrow(RaftError)
    net.node('1').setHeartbeatTicks(9)
  })
})

describe('a new leader trusts its followers to hold its log (Progress.becomeReplicateOnTrust)', () => {
  /** elect `id` and stop as soon as it leads: its first appends are queued, not delivered */
  function justElected(net: Network, id: string): void {
    net.node(id).campaign()
    for (let i = 0; i < 100 && net.node(id).status().role !== 'leader'; i++) {
      net.processReady()
      net.deliverQueued()
    }
    expect(net.node(id).status().role).toBe('leader')
    net.processReady()
  }

  it('pipelines a proposal to every follower beside its no-op, before any follower answered', () => {
    const net = leaderCluster()
    justElected(net, '2')
    net.node('2').propose(text('early'))
    net.processReady()
    const appends = net.queue.filter((m) => m.type === 'MsgApp' && m.from === '2')
    for (const to of ['1', '3']) {
      // before: a probe per follower (the no-op), the proposal held until its answer
      const carried = appends.filter((m) => m.to === to).flatMap((m) => m.entries.map((e) => str(e.data)))
      expect(carried).toContain('early')
    }
    expect(net.queue.some((m) => m.type === 'MsgAppResp')).toBe(false)
    net.stabilize()
    for (const id of ids) expect(net.appliedData(id)).toEqual(['early'])
  })

  it('a follower that lacks entries refuses, and is probed from its hint, not from the start of the log', () => {
    const net = leaderCluster()
    net.isolate('3')
    for (let i = 0; i < 20; i++) net.node('1').propose(text(`e${i}`))
    net.stabilize()
    net.heal()
    const sent: Message[] = []
    net.onDeliver = (m) => {
      if (m.type === 'MsgApp' && m.to === '3') sent.push(m)
    }
    net.elect('2')
    net.stabilize()
    expect(net.appliedData('3')).toHaveLength(20)
    // 3 holds the first leader's no-op (index 1 here): nothing is sent from before it
    expect(Math.min(...sent.map((m) => m.index))).toBeGreaterThanOrEqual(1)
  })

  it('a trusted follower reported unreachable is probed where the trust began, not from index 1', () => {
    const net = leaderCluster()
    for (let i = 0; i < 5; i++) net.node('1').propose(text(`e${i}`))
    net.stabilize()
    justElected(net, '2')
    const last = net.node('2').status().lastIndex
    net.queue = []
    net.node('2').reportUnreachable('3')
    expect(net.node('2').status().progress!.get('3')!.state).toBe('probe')
    expect(net.node('2').status().progress!.get('3')!.next).toBe(last)
    net.tick('2', 10)
    net.stabilize()
    for (const id of ids) expect(net.appliedData(id)).toHaveLength(5)
  })
})
