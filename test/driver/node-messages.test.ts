import { describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import { decodeNodeMessage, encodeNodeMessage, NODE_MESSAGE_LIMITS } from '../../src/wire/node-messages'
import { WireError as NodeMessageError } from '../../src/wire/errors'
import type { NodeMessage } from '../../src/wire/node-messages'

const samples: NodeMessage[] = [
  { type: 'raft', bytes: new Uint8Array([1, 2, 3]) },
  { type: 'forward', command: new Uint8Array([9, 8, 7, 6]) },
  { type: 'session-heartbeat', sessions: ['m1.t1.1.abc', 'm2.t1.1.def'] },
  { type: 'join', member: { member: 'm4', browser: 'b2', visible: false } },
  { type: 'leaving', member: 'm3' },
  { type: 'roster', members: [{ member: 'm1', browser: 'b1', visible: true }] },
  { type: 'cluster', clusterId: 'm1-k2j4h5', browser: 'b1', commit: 42, yieldTo: '' },
  { type: 'cluster', clusterId: 'm1-k2j4h5', browser: 'b1', commit: 42, yieldTo: 'm3-9zz0q1' },
  { type: 'cluster', clusterId: '', browser: '', commit: 0, yieldTo: '' },
]

describe('node messages', () => {
  it('round-trip every type', () => {
    for (const msg of samples) expect(decodeNodeMessage(encodeNodeMessage(msg))).toEqual(msg)
  })

  it('reject an unknown version, an unknown tag and trailing bytes with BAD_MESSAGE', () => {
    const good = encodeNodeMessage(samples[4]!)
    const badVersion = good.slice()
    badVersion[0] = 99
    const badTag = good.slice()
    badTag[1] = 77
    const trailing = new Uint8Array([...good, 0])
    for (const bytes of [badVersion, badTag, trailing]) {
      expect(() => decodeNodeMessage(bytes)).toThrowError(NodeMessageError)
      try {
        decodeNodeMessage(bytes)
      } catch (err) {
        expect((err as NodeMessageError).code).toBe('BAD_MESSAGE')
      }
    }
  })

  it('reject a cluster claim that yields without a cluster, or to itself', () => {
    for (const claim of [
      { type: 'cluster', clusterId: '', browser: 'b1', commit: 0, yieldTo: 'x' },
      { type: 'cluster', clusterId: 'x', browser: 'b1', commit: 0, yieldTo: 'x' },
    ] as const) {
      const bytes = encodeNodeMessage(claim)
      expect(() => decodeNodeMessage(bytes)).toThrowError(NodeMessageError)
    }
  })

  it('reject every truncation of every valid message, never throwing anything else', () => {
    for (const msg of samples) {
      const bytes = encodeNodeMessage(msg)
      for (let n = 0; n < bytes.length; n++) expect(() => decodeNodeMessage(bytes.subarray(0, n))).toThrowError(NodeMessageError)
    }
  })

  it('reject counts and ids over their bounds, and a visible flag other than 0/1', () => {
    const tooMany = encoding.encode((e) => {
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 2)
      encoding.writeVarUint(e, NODE_MESSAGE_LIMITS.maxSessions + 1)
    })
    expect(() => decodeNodeMessage(tooMany)).toThrowError(/exceeds/)
    // member ids follow the wire's MEMBER_ID_PATTERN, on both sides
    const forged = (id: string): Uint8Array =>
      encoding.encode((e) => {
        encoding.writeVarUint(e, 1)
        encoding.writeVarUint(e, 4)
        encoding.writeVarString(e, id)
      })
    expect(() => decodeNodeMessage(forged('x'.repeat(65)))).toThrowError(/exceeds|match/)
    expect(() => decodeNodeMessage(forged(''))).toThrowError(NodeMessageError)
    expect(() => decodeNodeMessage(forged('bad id!'))).toThrowError(/match/)
    expect(() => encodeNodeMessage({ type: 'leaving', member: 'bad id!' })).toThrowError(NodeMessageError)
    const bigCluster = encoding.encode((e) => {
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 6)
      encoding.writeVarString(e, 'c'.repeat(NODE_MESSAGE_LIMITS.maxIdLength + 1))
    })
    expect(() => decodeNodeMessage(bigCluster)).toThrowError(/exceeds/)
    const join = encodeNodeMessage(samples[3]!)
    join[join.length - 1] = 2
    expect(() => decodeNodeMessage(join)).toThrowError(/visible/)
  })

  it('random bytes only ever raise NodeMessageError', () => {
    let seed = 7
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff)
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(next() % 24)
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff
      try {
        decodeNodeMessage(bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(NodeMessageError)
      }
    }
  })
})
