import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { jointCommitted, jointVote, majorityCommitted, majorityVote } from '../../src/raft/index'
import { Network, text } from './network'
import type { Message, MessageType } from '../../src/raft/types'

describe('quorum math', () => {
  const acked = (m: Record<string, number>) => (id: string) => m[id] ?? 0

  it('a majority commits the index held by floor(n/2)+1 voters', () => {
    expect(majorityCommitted(['1', '2', '3'], acked({ 1: 5, 2: 3, 3: 9 }))).toBe(5)
    expect(majorityCommitted(['1', '2', '3', '4'], acked({ 1: 5, 2: 3, 3: 9, 4: 1 }))).toBe(3)
    expect(majorityCommitted(['1', '2', '3', '4', '5'], acked({ 1: 5, 2: 3, 3: 9, 4: 1, 5: 7 }))).toBe(5)
    expect(majorityCommitted([], acked({}))).toBe(Infinity)
  })

  it('a joint config commits the minimum of both majorities', () => {
    expect(jointCommitted(['1', '2', '3'], ['3', '4', '5'], acked({ 1: 9, 2: 9, 3: 1, 4: 2, 5: 2 }))).toBe(2)
    expect(jointCommitted(['1', '2', '3'], [], acked({ 1: 9, 2: 9, 3: 1 }))).toBe(9)
  })

  it('votes: won needs both halves, lost needs either', () => {
    const v = (o: Record<string, boolean>) => new Map(Object.entries(o))
    expect(majorityVote(['1', '2', '3'], v({ 1: true, 2: true }))).toBe('won')
    expect(majorityVote(['1', '2', '3'], v({ 1: true }))).toBe('pending')
    expect(majorityVote(['1', '2', '3'], v({ 1: false, 2: false }))).toBe('lost')
    expect(jointVote(['1', '2', '3'], ['4', '5', '6'], v({ 1: true, 2: true }))).toBe('pending')
    expect(jointVote(['1', '2', '3'], ['4', '5', '6'], v({ 1: true, 2: true, 4: false, 5: false }))).toBe('lost')
    expect(jointVote(['1', '2', '3'], ['3', '4', '5'], v({ 1: true, 3: true, 4: true }))).toBe('won')
  })

  it('majorityCommitted agrees with sorting for any acknowledgements', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 9 }), (xs) => {
        const ids = xs.map((_, i) => String(i))
        const sorted = [...xs].sort((a, b) => b - a)
        expect(majorityCommitted(ids, (id) => xs[Number(id)]!)).toBe(sorted[Math.floor(xs.length / 2)])
      }),
    )
  })
})

describe('untrusted input', () => {
  const types: MessageType[] = [
    'MsgProp', 'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgHeartbeat',
    'MsgHeartbeatResp', 'MsgSnap', 'MsgSnapResp', 'MsgTimeoutNow', 'MsgTransferLeader', 'MsgReadIndex', 'MsgReadIndexResp',
  ]
  const arbMessage = (to: string) =>
    fc.record({
      type: fc.constantFrom(...types),
      from: fc.constantFrom('1', '2', '3', '9', ''),
      to: fc.constantFrom(to, to, 'x'),
      term: fc.oneof(fc.nat(6), fc.constant(-1), fc.constant(1.5)),
      logTerm: fc.nat(6),
      index: fc.nat(20),
      commit: fc.nat(30),
      reject: fc.boolean(),
      rejectHint: fc.nat(20),
      context: fc.option(fc.uint8Array({ maxLength: 4 })),
      entries: fc.array(
        fc.record({ term: fc.nat(6), index: fc.nat(20), type: fc.constantFrom('normal' as const, 'conf' as const), data: fc.uint8Array({ maxLength: 3 }) }),
        { maxLength: 3 },
      ),
      snapshot: fc.option(
        fc.record({
          meta: fc.record({
            index: fc.nat(30),
            term: fc.nat(6),
            conf: fc.constant({ voters: ['1', '2', '3'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }),
          }),
          offset: fc.nat(10),
          total: fc.nat(10),
          data: fc.uint8Array({ maxLength: 10 }),
        }),
      ),
    }) as fc.Arbitrary<Message>

  it('any message sequence never makes a member throw, and committed entries never change', () => {
    fc.assert(
      fc.property(fc.array(arbMessage('2'), { maxLength: 40 }), (msgs) => {
        const net = Network.cluster(['1', '2', '3'])
        net.stabilize()
        net.elect('1')
        net.node('1').propose(text('a'))
        net.stabilize()
        const applied = net.get('2').applied
        const before = applied.map((e) => `${e.index}@${e.term}`)
        const last = applied.at(-1)!
        for (const m of msgs) {
          net.node('2').step(m)
          net.processReady()
          net.queue = []
          // a snapshot replaces the applied state (the harness records its
          // entries no more): it may only be one a genuine leader of its
          // message's term could send, reaching past everything committed
          const installed = net.get('2').disk.snapshot
          if (installed !== null) {
            expect(m.type).toBe('MsgSnap')
            expect(installed.meta.index).toBeGreaterThan(last.index)
            expect(installed.meta.term).toBeGreaterThanOrEqual(last.term)
            expect(installed.meta.term).toBeLessThanOrEqual(m.term)
            return
          }
        }
        const after = net.get('2').applied.map((e) => `${e.index}@${e.term}`)
        expect(after.slice(0, before.length)).toEqual(before)
      }),
      { numRuns: 200 },
    )
  })

  it('planted bug ignoreResponseTerm counts a vote of an older term', () => {
    for (const bugs of [{}, { ignoreResponseTerm: true }]) {
      const net = Network.cluster(['1', '2', '3'], { bugs })
      net.stabilize()
      net.isolate('1')
      net.node('1').campaign()
      net.stabilize() // term 2, no votes
      const term = net.node('1').status().term
      net.node('1').campaign()
      net.stabilize() // term 3
      net.node('1').step({
        type: 'MsgVoteResp', from: '2', to: '1', term, logTerm: 0, index: 0, commit: 0,
        entries: [], reject: false, rejectHint: 0, context: null, snapshot: null,
      })
      expect(net.node('1').status().role).toBe('ignoreResponseTerm' in bugs ? 'leader' : 'candidate')
    }
  })
})
