import { describe, expect, it } from 'vitest'
import { RaftError, applyConfChange, decodeConfChange, encodeConfChange } from '../../src/raft/index'
import { Network, confOf, text } from './network'
import type { ConfChange } from '../../src/raft/types'

const ids = ['1', '2', '3']
const codeOf = (f: () => void): string => {
  try {
    f()
  } catch (e) {
    return (e as RaftError).code
  }
  return 'no error'
}

function leaderCluster(members = ids, overrides = {}): Network {
  const net = Network.cluster(members, overrides)
  net.stabilize()
  net.elect(members[0]!)
  return net
}

describe('§6 membership: one change at a time, effective when applied', () => {
  it('adds a voter; the conf is current on every member once the entry is applied', () => {
    const net = leaderCluster()
    net.add('4')
    net.node('1').proposeConfChange({ changes: [{ type: 'addVoter', node: '4' }], transition: 'auto' })
    net.stabilize()
    for (const id of ['1', '2', '3', '4']) expect(net.node(id).status().conf.voters).toEqual(['1', '2', '3', '4'])
    net.node('1').propose(text('after'))
    net.stabilize()
    expect(net.appliedData('4')).toEqual(['after'])
  })

  it('rejects a second conf change while one is unapplied', () => {
    const net = leaderCluster()
    net.add('4')
    net.add('5')
    net.node('1').proposeConfChange({ changes: [{ type: 'addLearner', node: '4' }], transition: 'auto' })
    expect(codeOf(() => net.node('1').proposeConfChange({ changes: [{ type: 'addLearner', node: '5' }], transition: 'auto' }))).toBe(
      'CONF_CHANGE_PENDING',
    )
    net.stabilize()
    expect(codeOf(() => net.node('1').proposeConfChange({ changes: [{ type: 'addLearner', node: '5' }], transition: 'auto' }))).toBe(
      'no error',
    )
  })

  it('a change is not in effect before it is committed and handed out', () => {
    const net = leaderCluster()
    net.isolate('1')
    net.node('1').proposeConfChange({ changes: [{ type: 'remove', node: '3' }], transition: 'auto' })
    net.stabilize()
    expect(net.node('1').status().conf.voters).toEqual(['1', '2', '3'])
  })

  it('planted bug confChangeTooEarly applies it when appended', () => {
    const net = leaderCluster(ids, { bugs: { confChangeTooEarly: true } })
    net.isolate('1')
    net.node('1').proposeConfChange({ changes: [{ type: 'remove', node: '3' }], transition: 'auto' })
    expect(net.node('1').status().conf.voters).toEqual(['1', '2'])
  })

  it('only the leader takes conf changes; invalid ones are refused', () => {
    const net = leaderCluster()
    expect(codeOf(() => net.node('2').proposeConfChange({ changes: [{ type: 'addVoter', node: '9' }], transition: 'auto' }))).toBe(
      'NOT_LEADER',
    )
    const removeAll: ConfChange = { changes: ids.map((node) => ({ type: 'remove' as const, node })), transition: 'auto' }
    expect(codeOf(() => net.node('1').proposeConfChange(removeAll))).toBe('INVALID_CONF_CHANGE')
    expect(codeOf(() => net.node('1').proposeConfChange({ changes: [], transition: 'auto' }))).toBe('INVALID_CONF_CHANGE')
  })

  it('a leader removed from the configuration steps down once the removal is committed', () => {
    const net = leaderCluster()
    net.node('1').proposeConfChange({ changes: [{ type: 'remove', node: '1' }], transition: 'auto' })
    net.stabilize()
    expect(net.node('1').status().role).not.toBe('leader')
    expect(net.node('2').status().conf.voters).toEqual(['2', '3'])
    for (let i = 0; i < 40 && net.leader() === null; i++) {
      net.tickAll()
      net.stabilize()
    }
    expect(['2', '3']).toContain(net.leader())
  })
})

describe('joint consensus', () => {
  it('replacing two voters at once goes through a joint config and leaves it automatically', () => {
    const net = leaderCluster()
    net.add('4')
    net.add('5')
    const seen: string[][] = []
    net.node('1').proposeConfChange({
      changes: [
        { type: 'addVoter', node: '4' },
        { type: 'addVoter', node: '5' },
        { type: 'remove', node: '3' },
      ],
      transition: 'auto',
    })
    for (let i = 0; i < 50; i++) {
      net.processReady()
      const c = net.node('1').status().conf
      const last = seen[seen.length - 1]
      const now = [c.voters.join(','), c.votersOutgoing.join(',')]
      if (last === undefined || last[0] !== now[0] || last[1] !== now[1]) seen.push(now)
      net.deliverQueued()
    }
    expect(seen).toEqual([
      ['1,2,3', ''],
      ['1,2,4,5', '1,2,3'],
      ['1,2,4,5', ''],
    ])
  })

  it('in a joint config, a decision needs a majority of both halves', () => {
    const net = leaderCluster()
    net.add('4')
    net.add('5')
    net.node('1').proposeConfChange({
      changes: [
        { type: 'addVoter', node: '4' },
        { type: 'addVoter', node: '5' },
      ],
      transition: 'joint-explicit',
    })
    net.stabilize()
    expect(net.node('1').status().conf.votersOutgoing).toEqual(['1', '2', '3'])
    // 1, 4 and 5 are a majority of the incoming {1..5} but not of the outgoing {1,2,3}
    net.partition(['1', '4', '5'], ['2', '3'])
    const commit = net.node('1').status().commit
    net.node('1').propose(text('x'))
    net.stabilize()
    expect(net.node('1').status().commit).toBe(commit)
    net.heal()
    net.tick('1')
    net.stabilize()
    expect(net.appliedData('4')).toEqual(['x'])
    // explicit: stays joint until an empty change leaves it
    expect(net.node('1').status().conf.votersOutgoing).toEqual(['1', '2', '3'])
    net.node('1').proposeConfChange({ changes: [], transition: 'auto' })
    net.stabilize()
    expect(net.node('1').status().conf.votersOutgoing).toEqual([])
  })

  it('applyConfChange keeps the invariants', () => {
    const base = confOf(['1', '2', '3'], ['4'])
    const joint = applyConfChange(base, { changes: [{ type: 'addLearner', node: '3' }, { type: 'addVoter', node: '4' }], transition: 'auto' })
    expect(joint.voters).toEqual(['1', '2', '4'])
    expect(joint.votersOutgoing).toEqual(['1', '2', '3'])
    expect(joint.learnersNext).toEqual(['3'])
    const left = applyConfChange(joint, { changes: [], transition: 'auto' })
    expect(left.learners).toEqual(['3'])
    expect(left.votersOutgoing).toEqual([])
    expect(() => applyConfChange(joint, { changes: [{ type: 'addVoter', node: '9' }], transition: 'auto' })).toThrow(RaftError)
  })

  it('encodeConfChange / decodeConfChange round-trip and reject malformed bytes', () => {
    const cc: ConfChange = { changes: [{ type: 'addLearner', node: 'tab-é' }, { type: 'remove', node: 'x' }], transition: 'joint-explicit' }
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc)
    const bytes = encodeConfChange(cc)
    expect(codeOf(() => decodeConfChange(bytes.subarray(0, bytes.length - 1)))).toBe('BAD_CONF_CHANGE_ENCODING')
    expect(codeOf(() => decodeConfChange(new Uint8Array([1, 0, 1, 7, 1, 65])))).toBe('BAD_CONF_CHANGE_ENCODING')
    expect(codeOf(() => decodeConfChange(new Uint8Array([9])))).toBe('BAD_CONF_CHANGE_ENCODING')
    expect(codeOf(() => decodeConfChange(new Uint8Array([...bytes, 0])))).toBe('BAD_CONF_CHANGE_ENCODING')
  })
})

describe('learners', () => {
  it('receive the log, are not counted for commit, never campaign', () => {
    const net = Network.cluster(['1', '2'], {}, ['3'])
    net.stabilize()
    net.elect('1')
    expect(net.node('3').status().role).toBe('learner')
    net.node('1').propose(text('a'))
    net.stabilize()
    expect(net.appliedData('3')).toEqual(['a'])
    // without 2, the learner does not make a quorum
    net.isolate('2')
    const commit = net.node('1').status().commit
    net.node('1').propose(text('b'))
    net.stabilize()
    expect(net.node('1').status().commit).toBe(commit)
    net.heal()
    // a learner never campaigns, however long it waits
    net.isolate('3')
    for (let i = 0; i < 100; i++) net.tick('3')
    net.processReady()
    expect(net.queue.filter((m) => m.from === '3')).toEqual([])
  })

  it('forward proposals and reads like followers', () => {
    const net = Network.cluster(['1', '2'], {}, ['3'])
    net.stabilize()
    net.elect('1')
    net.node('3').propose(text('from-learner'))
    net.node('3').readIndex(text('r1'))
    net.stabilize()
    expect(net.appliedData('1')).toEqual(['from-learner'])
    expect(net.get('3').readStates.map((r) => r.index)).toHaveLength(1)
  })

  it('a joiner with an empty disk is added as a learner, catches up, then is promoted', () => {
    const net = leaderCluster()
    net.node('1').propose(text('before'))
    net.stabilize()
    net.add('4')
    net.node('1').proposeConfChange({ changes: [{ type: 'addLearner', node: '4' }], transition: 'auto' })
    net.stabilize()
    expect(net.appliedData('4')).toEqual(['before'])
    expect(net.node('4').status().role).toBe('learner')
    net.node('1').proposeConfChange({ changes: [{ type: 'addVoter', node: '4' }], transition: 'auto' })
    net.stabilize()
    expect(net.node('4').status().role).toBe('follower')
    expect(net.node('2').status().conf.voters).toEqual(['1', '2', '3', '4'])
  })
})

describe('demoting a voter', () => {
  it('the remaining voter learns the demotion is committed from a vote rejection, and leads alone', () => {
    // voters {1,2}, 2 leads and demotes itself; 1 acknowledges the conf entry
    // but never hears that it committed, and 2 has a longer log (x) than 1
    const net = Network.cluster(['1', '2'])
    net.stabilize()
    net.elect('2')
    net.node('2').proposeConfChange({ changes: [{ type: 'addLearner', node: '2' }], transition: 'auto' })
    net.processReady()
    net.deliverQueued() // MsgApp with the conf entry reaches 1
    net.processReady()
    net.deliverQueued() // 1's ack: 2 commits the demotion
    net.node('2').propose(text('x')) // still leader until the entry is handed out
    net.cut.add('2->1') // nothing more reaches 1: neither x nor the new commit index
    net.stabilize()
    expect(net.node('2').status().role).toBe('learner')
    expect(net.node('1').status().conf.voters).toEqual(['1', '2'])
    net.heal()
    // 1's first campaign is rejected by 2 (its log is longer), but the
    // rejection tells 1 the demotion committed; 1 applies it and wins alone
    for (let i = 0; i < 3 && net.leader() === null; i++) net.elect('1')
    expect(net.leader()).toBe('1')
    expect(net.node('1').status().conf).toMatchObject({ voters: ['1'], learners: ['2'] })
  })
})

// Issue 17: a new tab joins a live mesh as a learner with an empty log. Its
// progress used to start after the leader's last index, so the leader's
// first MsgApp was a probe the newcomer could only refuse, and the entries
// came a round trip later. A newcomer's word on where its log ends (the
// driver passes the commit its cluster claim names: 0 for a newcomer) lets
// the first MsgApp carry what it lacks. Only a hint: §5.3's consistency
// check on the MsgApp protects, and a wrong hint costs the one rejection
// the probe always cost.
describe('§6 a new member’s first MsgApp starts where it says its log ends', () => {
  /** a leader with a few entries, and a learner `4` about to be added; messages to 4 recorded */
  function withNewcomer(): { net: Network; to4: Array<{ type: string; index: number; entries: number; reject: boolean }>; from4: Array<{ type: string; reject: boolean }> } {
    const net = leaderCluster()
    for (const s of ['a', 'b', 'c']) net.node('1').propose(text(s))
    net.stabilize()
    net.add('4')
    const to4: Array<{ type: string; index: number; entries: number; reject: boolean }> = []
    const from4: Array<{ type: string; reject: boolean }> = []
    net.onDeliver = (m) => {
      if (m.to === '4' && m.from === '1') to4.push({ type: m.type, index: m.index, entries: m.entries.length, reject: m.reject })
      if (m.from === '4') from4.push({ type: m.type, reject: m.reject })
    }
    return { net, to4, from4 }
  }
  const addLearner4 = (net: Network): void => {
    net.node('1').proposeConfChange({ changes: [{ type: 'addLearner', node: '4' }], transition: 'auto' })
    net.stabilize()
  }

  it('without a hint, the first MsgApp probes after the leader’s last index and the newcomer refuses it (etcd’s start)', () => {
    const { net, to4, from4 } = withNewcomer()
    addLearner4(net)
    expect(to4[0]).toMatchObject({ type: 'MsgApp', entries: 0 })
    expect(from4[0]).toEqual({ type: 'MsgAppResp', reject: true })
    expect(net.appliedData('4')).toEqual(['a', 'b', 'c'])
  })

  it('an empty newcomer that says so gets every entry in the first MsgApp, and refuses nothing', () => {
    const { net, to4, from4 } = withNewcomer()
    net.node('1').hintLogEnd('4', 0)
    addLearner4(net)
    expect(to4[0]).toMatchObject({ type: 'MsgApp', index: 0 })
    expect(to4[0]!.entries).toBe(net.node('1').status().lastIndex)
    expect(from4.some((m) => m.reject)).toBe(false)
    expect(net.appliedData('4')).toEqual(['a', 'b', 'c'])
  })

  it('a compacted log sends the snapshot at once, without a probe first', () => {
    const { net, to4, from4 } = withNewcomer()
    const st = net.node('1').status()
    net.compact('1', st.applied, text('state'))
    net.node('1').hintLogEnd('4', 0)
    addLearner4(net)
    expect(to4[0]!.type).toBe('MsgSnap')
    expect(from4.some((m) => m.reject)).toBe(false)
    expect(net.get('4').disk.snapshot?.meta.index).toBe(st.applied)
  })

  it('a hint beyond our log, or a lie, costs one refusal and the newcomer still catches up', () => {
    for (const hint of [2, 1_000_000]) {
      const { net, to4, from4 } = withNewcomer()
      net.node('1').hintLogEnd('4', hint)
      addLearner4(net)
      expect(to4[0]!.index).toBe(Math.min(hint, net.node('1').status().lastIndex))
      expect(from4.filter((m) => m.reject)).toHaveLength(1)
      expect(net.appliedData('4')).toEqual(['a', 'b', 'c'])
    }
  })

  it('a hint for a member already tracked changes nothing', () => {
    const net = leaderCluster()
    net.node('1').propose(text('a'))
    net.stabilize()
    const sent: Array<{ index: number; entries: number }> = []
    net.onDeliver = (m) => {
      if (m.to === '2' && m.type === 'MsgApp') sent.push({ index: m.index, entries: m.entries.length })
    }
    net.node('1').hintLogEnd('2', 0)
    net.node('1').propose(text('b'))
    net.stabilize()
    const last = net.node('1').status().lastIndex
    expect(sent[0]).toEqual({ index: last - 1, entries: 1 })
    expect(net.node('1').status().progress!.get('2')?.match).toBe(last)
  })

  it('garbage is ignored: a hint that is not a count leaves the probe', () => {
    const { net, to4 } = withNewcomer()
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) net.node('1').hintLogEnd('4', bad)
    addLearner4(net)
    expect(to4[0]).toMatchObject({ type: 'MsgApp', entries: 0 }) // the probe, as without a hint
    expect(net.appliedData('4')).toEqual(['a', 'b', 'c'])
  })

  it('hints are bounded: the oldest go first', () => {
    const { net, to4 } = withNewcomer()
    net.node('1').hintLogEnd('4', 0)
    for (let i = 0; i < 1_000; i++) net.node('1').hintLogEnd(`x${i}`, 0)
    addLearner4(net)
    expect(to4[0]).toMatchObject({ type: 'MsgApp', entries: 0 }) // 4's hint was pushed out: the probe
    expect(net.appliedData('4')).toEqual(['a', 'b', 'c'])
  })
})
