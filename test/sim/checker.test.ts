// The safety checker fails on each kind of bad observation, and stays quiet
// on good ones: the simulator's checks can fail.
import { describe, expect, it } from 'vitest'
import type { ConfState, DurableState, Entry, Message } from '../../src/raft/types'
import type { CoreStatus } from './core'
import { SafetyChecker, entryDigest, type LogView } from './checker'

const conf = (voters: string[]): ConfState => ({ voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false })
const status = (id: string, over: Partial<CoreStatus> = {}): CoreStatus => ({
  id, term: 1, vote: null, commit: 0, applied: 0, lastIndex: 0, firstIndex: 1, lead: null, role: 'follower', conf: conf(['a', 'b', 'c']), ...over,
})
const entry = (index: number, term: number, text = `e${index}`): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(text) })
const log = (...entries: Entry[]): LogView => ({ snapIndex: 0, snapTerm: 0, entries })
const disk = (term: number, vote: string | null, entries: Entry[]): DurableState => ({ hardState: { term, vote, commit: 0 }, snapshot: null, entries })
const msg = (over: Partial<Message>): Message => ({
  type: 'MsgApp', from: 'a', to: 'b', term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: null, snapshot: null, ...over,
})
const rules = (c: SafetyChecker) => c.violations.map((v) => v.rule)

describe('SafetyChecker', () => {
  it('§5.2 election safety: two leaders in one term', () => {
    const c = new SafetyChecker(() => 0)
    c.observeStatus('a', 1, status('a', { term: 3, role: 'leader' }))
    c.observeStatus('a', 1, status('a', { term: 3, role: 'leader' }))
    c.observeStatus('b', 1, status('b', { term: 4, role: 'leader' }))
    expect(c.failed).toBe(false)
    c.observeStatus('c', 1, status('c', { term: 3, role: 'leader' }))
    expect(rules(c)).toEqual(['election-safety'])
  })

  it('term and vote never go back within a life, and durably across lives', () => {
    const c = new SafetyChecker(() => 0)
    c.observeStatus('a', 1, status('a', { term: 3, vote: 'b' }))
    c.observeStatus('a', 2, status('a', { term: 2 })) // a new life may restart lower in memory...
    expect(c.failed).toBe(false)
    c.observeDurable('a', { term: 3, vote: 'b', commit: 0 }, { term: 3, vote: 'b', commit: 2 })
    expect(c.failed).toBe(false)
    c.observeDurable('a', { term: 3, vote: 'b', commit: 0 }, { term: 2, vote: null, commit: 0 }) // ...but its disk may not
    c.observeDurable('a', { term: 3, vote: 'b', commit: 0 }, { term: 3, vote: 'c', commit: 0 })
    c.observeStatus('a', 2, status('a', { term: 2, vote: 'c' }))
    c.observeStatus('a', 2, status('a', { term: 2, vote: 'b' }))
    expect(rules(c)).toEqual(['hard-state-monotonic', 'hard-state-monotonic', 'hard-state-monotonic'])
  })

  it('§5.3 log matching: one (index, term) names one entry with one predecessor', () => {
    const c = new SafetyChecker(() => 0)
    const a = log(entry(1, 1), entry(2, 2))
    c.observeAppended('a', a, a.entries)
    const b = log(entry(1, 1), entry(2, 2))
    c.observeAppended('b', b, b.entries)
    expect(c.failed).toBe(false)
    const differentEntry = log(entry(1, 1), entry(2, 2, 'other'))
    c.observeAppended('c', differentEntry, differentEntry.entries.slice(1))
    const differentHistory = log(entry(1, 2), entry(2, 2))
    c.observeAppended('d', differentHistory, differentHistory.entries)
    expect(c.violations.map((v) => [v.rule, v.member])).toEqual([
      ['log-matching', 'c'],
      ['log-matching', 'd'],
    ])
  })

  it('§5.4.3 state machine safety: no two different entries applied at one index, applies in order', () => {
    const c = new SafetyChecker(() => 0)
    c.observeApply('a', 1, 0, 1, entryDigest(entry(1, 1)))
    c.observeApply('b', 1, 0, 1, entryDigest(entry(1, 1)))
    expect(c.failed).toBe(false)
    c.observeApply('c', 2, 0, 1, entryDigest(entry(1, 2)))
    c.observeApply('a', 1, 1, 3, entryDigest(entry(3, 1))) // a gap: out of order, and nothing committed at 2
    expect(c.violations.map((v) => v.member)).toEqual(['c', 'a', 'a'])
    expect(rules(c).every((r) => r === 'state-machine-safety')).toBe(true)
  })

  it('§5.4.1 leader completeness: a leader of a later term holds every committed entry', () => {
    const c = new SafetyChecker(() => 0)
    c.observeApply('a', 2, 0, 1, entryDigest(entry(1, 1)))
    c.observeApply('a', 2, 1, 2, entryDigest(entry(2, 2)))
    c.observeNewLeader('b', 2, log(entry(1, 1))) // committed in term 2: a term-2 leader need not have it
    c.observeNewLeader('b', 3, log(entry(1, 1), entry(2, 2), entry(3, 3)))
    expect(c.failed).toBe(false)
    c.observeNewLeader('c', 3, log(entry(1, 1), entry(2, 3)))
    expect(rules(c)).toEqual(['leader-completeness'])
  })

  it('§5.4.2 a leader never moves its commit index onto an entry of an older term', () => {
    const c = new SafetyChecker(() => 0)
    const l = log(entry(1, 1), entry(2, 2), entry(3, 3))
    c.observeLeaderCommit('a', 3, 3, l)
    expect(c.failed).toBe(false)
    c.observeLeaderCommit('a', 3, 2, l)
    expect(rules(c)).toEqual(['commit-rule'])
  })

  it('durability: the highest committed entry stays on disks that meet every quorum', () => {
    const c = new SafetyChecker(() => 0)
    const e1 = entry(1, 1)
    c.observeStatus('a', 1, status('a', { applied: 1 }))
    c.observeApply('a', 1, 0, 1, entryDigest(e1))
    const disks = new Map([
      ['a', disk(1, null, [e1])],
      ['b', disk(1, null, [e1])],
      ['c', disk(1, null, [])],
    ])
    c.checkDurability(disks)
    expect(c.failed).toBe(false)
    disks.set('b', disk(1, null, [entry(1, 2)])) // b's copy was overwritten
    c.checkDurability(disks)
    expect(rules(c)).toEqual(['durability'])
  })

  it('persist before send: no vote, term or append acknowledgement ahead of the disk', () => {
    const c = new SafetyChecker(() => 0)
    const d = disk(2, 'a', [entry(1, 1)])
    c.observeSend('b', msg({ type: 'MsgVoteResp', to: 'a', term: 2 }), d)
    c.observeSend('b', msg({ type: 'MsgAppResp', to: 'a', term: 2, index: 1 }), d)
    c.observeSend('b', msg({ type: 'MsgPreVote', to: 'a', term: 3 }), d)
    expect(c.failed).toBe(false)
    c.observeSend('b', msg({ type: 'MsgVoteResp', to: 'c', term: 2 }), d)
    c.observeSend('b', msg({ type: 'MsgHeartbeatResp', to: 'a', term: 3 }), d)
    c.observeSend('b', msg({ type: 'MsgAppResp', to: 'a', term: 2, index: 2 }), d)
    expect(rules(c)).toEqual(['persist-before-send', 'persist-before-send', 'persist-before-send'])
  })

  it('reads: a read index below what was committed when the read began is stale', () => {
    const c = new SafetyChecker(() => 0)
    c.observeReadIndex('a', 5, 5)
    expect(c.failed).toBe(false)
    c.observeReadIndex('a', 4, 5)
    expect(rules(c)).toEqual(['stale-read'])
  })
})
