// fast-check generators of valid wire values, shared by the codec tests and
// the fuzzers. Every value generated here satisfies validateRaftMessage, so
// a generated message that fails to round-trip is a codec bug.
import { MAX_RAFT_UINT } from '../../src/wire/limits'
import fc from 'fast-check'
import type { ConfState, Entry, Message, MessageType, SnapshotChunk } from '../../src/raft/types'
import { RAFT_MESSAGE_TYPES } from '../../src/wire/raft-codec'
import type { Envelope } from '../../src/wire/envelope'
import { MAX_ENVELOPE_KIND } from '../../src/wire/envelope'
import type { ControlMessage } from '../../src/transport/control'

export const memberId = fc.oneof(
  fc.constantFrom('m1', 'm2', 'm3', 'a', 'member_7-x'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
)

/** Terms and indexes: mostly small, sometimes near the MAX_RAFT_UINT edge. */
const wireUint = fc.oneof(fc.nat(1000), fc.nat(), fc.integer({ min: MAX_RAFT_UINT - 1000, max: MAX_RAFT_UINT }))
const smallBytes = fc.uint8Array({ maxLength: 24 })

/** Two different member ids (a message's from and to). */
const distinctPair = fc.tuple(memberId, memberId).map(([a, b]): readonly [string, string] => (a !== b ? [a, b] : [a, b.length < 64 ? `${b}x` : `${b.slice(0, 63)}${b.endsWith('y') ? 'z' : 'y'}`]))

export const confState: fc.Arbitrary<ConfState> = fc
  .tuple(fc.uniqueArray(memberId, { maxLength: 7 }), fc.boolean(), fc.boolean())
  .map(([ids, joint, autoLeave]) => {
    // split a pool of distinct ids into the four lists consistently
    const voters = ids.filter((_, i) => i % 3 === 0)
    const learners = ids.filter((_, i) => i % 3 === 1)
    const rest = ids.filter((_, i) => i % 3 === 2)
    if (!joint) return { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false }
    const votersOutgoing = [...voters.slice(0, 1), ...rest]
    const learnersNext = rest.slice(0, 1)
    return { voters, learners, votersOutgoing, learnersNext, autoLeave: votersOutgoing.length > 0 && autoLeave }
  })

export const snapshotChunk = (maxTerm: number): fc.Arbitrary<SnapshotChunk> =>
  fc
    .tuple(fc.integer({ min: 1, max: MAX_RAFT_UINT }), fc.integer({ min: 1, max: Math.max(1, maxTerm) }), confState, fc.nat(1 << 20), smallBytes, fc.nat(1 << 20))
    .map(([index, term, conf, offset, data, extra]) => ({ meta: { index, term, conf }, offset, total: offset + data.length + extra, data }))

const entryType = fc.constantFrom<Entry['type']>('normal', 'conf')

interface BaseFields {
  ids: readonly [string, string]
  term: number
  logTerm: number
  index: number
  commit: number
  reject: boolean
  rejectHint: number
  context: Uint8Array | null
}

/** A message of the given type obeying every rule of validateRaftMessage. */
export function raftMessage(type: MessageType): fc.Arbitrary<Message> {
  const base = fc.record({
    ids: distinctPair,
    term: wireUint,
    logTerm: wireUint,
    index: wireUint,
    commit: wireUint,
    reject: fc.boolean(),
    rejectHint: wireUint,
    context: fc.option(smallBytes, { nil: null }),
  })
  const plain = (b: BaseFields): Message => ({
    type,
    from: b.ids[0],
    to: b.ids[1],
    term: b.term,
    logTerm: b.logTerm,
    index: b.index,
    entries: [],
    commit: b.commit,
    reject: b.reject,
    rejectHint: b.rejectHint,
    context: b.context,
    snapshot: null,
  })
  switch (type) {
    case 'MsgApp':
      return fc.tuple(base, fc.array(fc.tuple(fc.nat(3), entryType, smallBytes), { maxLength: 8 })).map(([b, raw]) => {
        const m = plain(b)
        m.index = Math.min(m.index, MAX_RAFT_UINT - raw.length)
        m.logTerm = m.index === 0 ? 0 : Math.min(m.logTerm, m.term)
        let t = m.logTerm
        m.entries = raw.map(([bump, kind, data], i) => {
          t = Math.min(t + bump, m.term)
          return { term: t, index: m.index + 1 + i, type: kind, data }
        })
        return m
      })
    case 'MsgProp':
      return fc.tuple(base, fc.array(fc.record({ term: wireUint, index: wireUint, type: entryType, data: smallBytes }), { maxLength: 6 })).map(([b, entries]) => ({ ...plain(b), entries }))
    case 'MsgVote':
    case 'MsgPreVote':
      return base.map((b) => {
        const m = plain(b)
        m.logTerm = m.index === 0 ? 0 : Math.min(m.logTerm, m.term)
        return m
      })
    case 'MsgTransferLeader':
      return fc.tuple(base, memberId).map(([b, target]) => ({ ...plain(b), context: new TextEncoder().encode(target) }))
    case 'MsgSnap':
      return base.chain((b) => {
        const term = Math.max(1, b.term)
        return snapshotChunk(term).map((snapshot) => ({ ...plain(b), term, snapshot }))
      })
    default:
      return base.map(plain)
  }
}

export const anyRaftMessage: fc.Arbitrary<Message> = fc.constantFrom(...RAFT_MESSAGE_TYPES).chain(raftMessage)

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'overwrite'; at: number; byte: number }

/** Damage a valid encoding the ways a broken or hostile peer would. `at` is
 *  a fraction of the length so one arbitrary fits every message size. */
export const mutation: fc.Arbitrary<{ m: Mutation; where: number }> = fc.oneof(
  fc.record({ m: fc.record({ kind: fc.constant('flip' as const), at: fc.constant(0), bit: fc.nat(7) }), where: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ m: fc.record({ kind: fc.constant('truncate' as const), at: fc.constant(0) }), where: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ m: fc.record({ kind: fc.constant('insert' as const), at: fc.constant(0), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }), where: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ m: fc.record({ kind: fc.constant('delete' as const), at: fc.constant(0), count: fc.integer({ min: 1, max: 3 }) }), where: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ m: fc.record({ kind: fc.constant('overwrite' as const), at: fc.constant(0), byte: fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff) }), where: fc.double({ min: 0, max: 1, noNaN: true }) }),
)

export function applyMutation(bytes: Uint8Array, { m, where }: { m: Mutation; where: number }): Uint8Array {
  const at = Math.min(bytes.length - 1, Math.floor(where * bytes.length))
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice()
      out[at] = (out[at] as number) ^ (1 << m.bit)
      return out
    }
    case 'truncate':
      return bytes.slice(0, at)
    case 'insert': {
      const out = new Uint8Array(bytes.length + m.bytes.length)
      out.set(bytes.subarray(0, at))
      out.set(m.bytes, at)
      out.set(bytes.subarray(at), at + m.bytes.length)
      return out
    }
    case 'delete':
      return new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(at + m.count)])
    case 'overwrite': {
      const out = bytes.slice()
      out[at] = m.byte
      return out
    }
  }
}

export const envelope: fc.Arbitrary<Envelope> = fc.record({
  room: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  kind: fc.nat(MAX_ENVELOPE_KIND),
  sender: memberId,
  seal: fc.option(fc.record({ boot: fc.uint8Array({ minLength: 8, maxLength: 8 }), counter: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })) }), { nil: null }),
  body: fc.uint8Array({ maxLength: 40 }),
})

const signalingId = fc.tuple(memberId, memberId).map(([m, t]) => `${m}/${t}`)
const peerHello = fc.record({ member: memberId, tab: memberId, browser: memberId })
export const controlMessage: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    hello: peerHello,
    key: fc.oneof(
      fc.record({ algorithm: fc.constant('Ed25519' as const), publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
      fc.record({ algorithm: fc.constant('ECDSA-P256' as const), publicKey: fc.uint8Array({ minLength: 65, maxLength: 65 }) }),
    ),
    challenge: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  }),
  fc.record({ type: fc.constant('proof' as const), proof: fc.uint8Array({ minLength: 32, maxLength: 32 }), signature: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ type: fc.constant('proof' as const), signature: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ type: fc.constant('peers' as const), peers: fc.array(signalingId, { maxLength: 4 }) }),
  fc.record({ type: fc.constant('relay' as const), to: signalingId, from: signalingId, text: fc.string({ maxLength: 40 }) }),
  fc.record({ type: fc.constant('sealedHello' as const), text: fc.string({ maxLength: 40 }) }),
)
