// The raft message codec: every type round-trips, and every rule of
// validateRaftMessage and every bound of limits.ts rejects with BAD_MESSAGE.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import type { ConfState, Entry, Message } from '../../src/raft/types'
import { decodeRaftMessage, encodeRaftMessage, RAFT_MESSAGE_TYPES } from '../../src/wire/raft-codec'
import { MAX_CONTEXT_BYTES, MAX_ENTRIES_PER_MESSAGE, MAX_MESSAGE_BYTES, MAX_RAFT_UINT } from '../../src/wire/limits'
import { raftMessage } from './arbitraries'
import { expectWireError, msg } from './helpers'

const roundTrip = (m: Message) => decodeRaftMessage(encodeRaftMessage(m))
const entry = (index: number, term: number, data: number[] = []): Entry => ({ index, term, type: 'normal', data: new Uint8Array(data) })
const conf = (c: Partial<ConfState> = {}): ConfState => ({ voters: ['m1', 'm2', 'm3'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...c })
const snapMsg = (chunk: Partial<NonNullable<Message['snapshot']>> = {}, meta: Partial<NonNullable<Message['snapshot']>['meta']> = {}): Message =>
  msg({ type: 'MsgSnap', term: 5, snapshot: { meta: { index: 100, term: 4, conf: conf(), ...meta }, offset: 0, total: 10, data: new Uint8Array([1, 2, 3]), ...chunk } })

/** Hand-build a frame: the header of a message (type, from, to, term, mask) then `rest`. */
function frame(tag: number, from: string, to: string, term: number, mask: number, rest: (enc: encoding.Encoder) => void = () => {}): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, tag)
  encoding.writeVarString(enc, from)
  encoding.writeVarString(enc, to)
  encoding.writeVarUint(enc, term)
  encoding.writeVarUint(enc, mask)
  rest(enc)
  return encoding.toUint8Array(enc)
}
const tagOf = (t: Message['type']) => RAFT_MESSAGE_TYPES.indexOf(t)

describe('raft codec: round trip', () => {
  it('a MsgApp with entries, commit and context keeps every field', () => {
    const m = msg({ type: 'MsgApp', term: 7, logTerm: 6, index: 41, commit: 40, entries: [entry(42, 6, [1, 2]), { ...entry(43, 7), type: 'conf' }] })
    expect(roundTrip(m)).toEqual(m)
  })

  it('a heartbeat at term 0 with no optional field is 1 + ids + 2 bytes', () => {
    const m = msg({ type: 'MsgHeartbeat' })
    const bytes = encodeRaftMessage(m)
    expect(bytes.length).toBe(1 + 3 + 3 + 1 + 1)
    expect(decodeRaftMessage(bytes)).toEqual(m)
  })

  it('a null context and an empty context stay different', () => {
    expect(roundTrip(msg({ type: 'MsgReadIndex', context: new Uint8Array(0) })).context).toEqual(new Uint8Array(0))
    expect(roundTrip(msg({ type: 'MsgReadIndex' })).context).toBeNull()
  })

  it('terms and indexes up to MAX_RAFT_UINT survive', () => {
    const max = MAX_RAFT_UINT
    const m = msg({ type: 'MsgAppResp', term: max, index: max, logTerm: max, reject: true, rejectHint: max, commit: max })
    expect(roundTrip(m)).toEqual(m)
  })

  it('a term or index above MAX_RAFT_UINT is refused both ways, so the core never counts past exact numbers', () => {
    expectWireError(() => encodeRaftMessage(msg({ type: 'MsgHeartbeat', term: MAX_RAFT_UINT + 1 })), 'BAD_MESSAGE', /term/)
    const f = frame(tagOf('MsgHeartbeat'), 'm1', 'm2', MAX_RAFT_UINT + 1, 0)
    expectWireError(() => decodeRaftMessage(f), 'BAD_MESSAGE', /term/)
    const g = frame(tagOf('MsgAppResp'), 'm1', 'm2', 1, 1 << 1, (e) => encoding.writeVarUint(e, 2 ** 53 - 1))
    expectWireError(() => decodeRaftMessage(g), 'BAD_MESSAGE', /index/)
  })

  it('a snapshot chunk with a joint configuration', () => {
    const m = snapMsg({}, { conf: conf({ voters: ['m1', 'm2', 'm4'], votersOutgoing: ['m1', 'm2', 'm3'], learnersNext: ['m3'], learners: ['m9'], autoLeave: true }) })
    expect(roundTrip(m)).toEqual(m)
  })

  it('a MsgTransferLeader names its transferee', () => {
    const m = msg({ type: 'MsgTransferLeader', context: new TextEncoder().encode('m3') })
    expect(roundTrip(m)).toEqual(m)
  })

  for (const type of RAFT_MESSAGE_TYPES) {
    it(`every valid ${type} decodes to itself and re-encodes to the same bytes`, () => {
      fc.assert(
        fc.property(raftMessage(type), (m) => {
          const bytes = encodeRaftMessage(m)
          const back = decodeRaftMessage(bytes)
          expect(back).toEqual(m)
          expect(encodeRaftMessage(back)).toEqual(bytes)
        }),
        { numRuns: 200 },
      )
    })
  }
})

describe('raft codec: malformed frames are BAD_MESSAGE', () => {
  const good = encodeRaftMessage(msg({ type: 'MsgApp', term: 3, logTerm: 2, index: 9, commit: 9, entries: [entry(10, 3, [7, 7, 7])] }))

  it('every truncation of a valid frame', () => {
    for (let n = 0; n < good.length; n++) expectWireError(() => decodeRaftMessage(good.slice(0, n)))
  })

  it('trailing bytes', () => {
    expectWireError(() => decodeRaftMessage(new Uint8Array([...good, 0])), 'BAD_MESSAGE', /trailing/)
  })

  it('an unknown type tag', () => {
    expectWireError(() => decodeRaftMessage(frame(RAFT_MESSAGE_TYPES.length, 'm1', 'm2', 1, 0)), 'BAD_MESSAGE', /message type/)
  })

  it('an overlong varuint (0 written as 0x80 0x00)', () => {
    const f = frame(tagOf('MsgHeartbeat'), 'm1', 'm2', 0, 0)
    const overlong = new Uint8Array([...f.slice(0, -2), 0x80, 0x00, 0])
    expectWireError(() => decodeRaftMessage(overlong), 'BAD_MESSAGE', /overlong term/)
  })

  it('a term beyond 2^53 - 1', () => {
    // 9 continuation bytes: lib0 would read an inexact float
    const f = frame(tagOf('MsgHeartbeat'), 'm1', 'm2', 0, 0)
    const huge = new Uint8Array([...f.slice(0, -2), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0])
    expectWireError(() => decodeRaftMessage(huge), 'BAD_MESSAGE', /term/)
  })

  it('unknown field-mask bits, and a flagged field holding zero', () => {
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgHeartbeat'), 'm1', 'm2', 1, 0x100)), 'BAD_MESSAGE', /mask/)
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgHeartbeat'), 'm1', 'm2', 1, 1 << 2, (e) => encoding.writeVarUint(e, 0))), 'BAD_MESSAGE', /commit flagged but zero/)
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgApp'), 'm1', 'm2', 1, 1 << 6, (e) => encoding.writeVarUint(e, 0))), 'BAD_MESSAGE', /entries flagged but empty/)
  })

  it('member ids: empty, too long, outside [A-Za-z0-9_-], invalid UTF-8', () => {
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgHeartbeat'), '', 'm2', 1, 0)), 'BAD_MESSAGE', /from/)
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgHeartbeat'), 'm'.repeat(65), 'm2', 1, 0)), 'BAD_MESSAGE', /from/)
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgHeartbeat'), 'm1', 'm 2', 1, 0)), 'BAD_MESSAGE', /to/)
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgHeartbeat'), 'm1', 'mé', 1, 0)), 'BAD_MESSAGE', /to/)
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, tagOf('MsgHeartbeat'))
    encoding.writeVarUint8Array(enc, new Uint8Array([0xc3, 0x28]))
    expectWireError(() => decodeRaftMessage(encoding.toUint8Array(enc)), 'BAD_MESSAGE', /UTF-8/)
  })

  it('from = to', () => {
    expectWireError(() => decodeRaftMessage(encodeRaftMessage(msg({ type: 'MsgHeartbeat', from: 'm1', to: 'm1' }))), 'BAD_MESSAGE', /itself/)
  })

  it('an oversized context and an oversized entries count', () => {
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgReadIndex'), 'm1', 'm2', 1, 1 << 5, (e) => encoding.writeVarUint8Array(e, new Uint8Array(MAX_CONTEXT_BYTES + 1)))), 'BAD_MESSAGE', /context length/)
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgApp'), 'm1', 'm2', 1, 1 << 6, (e) => encoding.writeVarUint(e, MAX_ENTRIES_PER_MESSAGE + 1))), 'BAD_MESSAGE', /entries count/)
  })

  it('an entries count the remaining bytes cannot hold fails before looping', () => {
    expectWireError(() => decodeRaftMessage(frame(tagOf('MsgApp'), 'm1', 'm2', 1, 1 << 6, (e) => encoding.writeVarUint(e, 1000))), 'BAD_MESSAGE', /truncated entries/)
  })

  it('a bad entry type and a bad boolean', () => {
    const badType = frame(tagOf('MsgProp'), 'm1', 'm2', 1, 1 << 6, (e) => {
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 2) // entry type: only normal (0) and conf (1)
      encoding.writeVarUint(e, 0)
    })
    expectWireError(() => decodeRaftMessage(badType), 'BAD_MESSAGE', /entry type/)
    const good = encodeRaftMessage(snapMsg())
    // autoLeave is the last byte of the ConfState, just before offset, total, data length and 3 data bytes
    const at = good.length - 1 - 3 - 1 - 1 - 1
    expect(good[at]).toBe(0)
    const badBool = good.slice()
    badBool[at] = 2
    expectWireError(() => decodeRaftMessage(badBool), 'BAD_MESSAGE', /autoLeave must be 0 or 1/)
  })

  it('a frame over MAX_MESSAGE_BYTES is TOO_LARGE before parsing', () => {
    expectWireError(() => decodeRaftMessage(new Uint8Array(MAX_MESSAGE_BYTES + 1)), 'TOO_LARGE')
  })
})

describe('raft codec: per-type invariants', () => {
  const app = (fields: Partial<Message>) => msg({ type: 'MsgApp', term: 5, logTerm: 4, index: 10, ...fields })
  const rejects = (m: Message, reason: RegExp) => expectWireError(() => decodeRaftMessage(encodeRaftMessage(m)), 'BAD_MESSAGE', reason)

  it('MsgApp entries must continue from index + 1 without gaps', () => {
    rejects(app({ entries: [entry(12, 5)] }), /expected 11/)
    rejects(app({ entries: [entry(11, 5), entry(13, 5)] }), /expected 12/)
  })

  it('MsgApp entry terms never decrease, start at logTerm or above, stay at or below the message term', () => {
    rejects(app({ entries: [entry(11, 5), entry(12, 4)] }), /decrease/)
    rejects(app({ entries: [entry(11, 3)] }), /decrease/)
    rejects(app({ entries: [entry(11, 6)] }), /above message term/)
  })

  it('MsgApp, MsgVote and MsgPreVote: logTerm ≤ term, and index 0 has no term', () => {
    rejects(app({ logTerm: 6 }), /logTerm 6 above term 5/)
    rejects(msg({ type: 'MsgVote', term: 2, logTerm: 3, index: 4 }), /above term/)
    rejects(msg({ type: 'MsgPreVote', term: 2, logTerm: 1, index: 0 }), /index 0/)
  })

  it('entries only in MsgApp and MsgProp; a snapshot only (and always) in MsgSnap', () => {
    rejects(msg({ type: 'MsgHeartbeat', entries: [entry(1, 1)] }), /carries entries/)
    rejects({ ...snapMsg(), type: 'MsgApp' }, /carries a snapshot/)
    rejects(msg({ type: 'MsgSnap', term: 1 }), /without a snapshot/)
  })

  it('MsgTransferLeader must name a member id', () => {
    rejects(msg({ type: 'MsgTransferLeader' }), /without a transferee/)
    rejects(msg({ type: 'MsgTransferLeader', context: new TextEncoder().encode('not an id') }), /not a member id/)
  })

  it('a snapshot chunk lies inside its snapshot, at index ≥ 1 and a term ≤ the message term', () => {
    rejects(snapMsg({ offset: 8, total: 10 }), /beyond total 10/)
    rejects(snapMsg({}, { index: 0 }), /index or term 0/)
    rejects(snapMsg({}, { term: 6 }), /above message term/)
  })

  it('a snapshot ConfState obeys the configuration invariants', () => {
    rejects(snapMsg({}, { conf: conf({ voters: ['m1', 'm1'] }) }), /duplicate/)
    rejects(snapMsg({}, { conf: conf({ learners: ['m2'] }) }), /both learner and voter/)
    rejects(snapMsg({}, { conf: conf({ learnersNext: ['m3'] }) }), /not an outgoing voter/)
    rejects(snapMsg({}, { conf: conf({ autoLeave: true }) }), /autoLeave outside/)
  })
})

describe('raft codec: encoding refuses what the receiver would refuse', () => {
  it('non-integer, negative and unsafe numbers, bad ids', () => {
    expectWireError(() => encodeRaftMessage(msg({ type: 'MsgHeartbeat', term: 1.5 })), 'BAD_MESSAGE', /term/)
    expectWireError(() => encodeRaftMessage(msg({ type: 'MsgHeartbeat', commit: -1 })), 'BAD_MESSAGE', /commit/)
    expectWireError(() => encodeRaftMessage(msg({ type: 'MsgHeartbeat', index: 2 ** 53 })), 'BAD_MESSAGE', /index/)
    expectWireError(() => encodeRaftMessage(msg({ type: 'MsgHeartbeat', to: 'a/b' })), 'BAD_MESSAGE', /to/)
  })
})
