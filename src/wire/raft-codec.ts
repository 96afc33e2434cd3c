// The binary codec of the raft core's Message (src/raft/types.ts).
//
// Layout (all integers are minimal varuints unless said otherwise):
//   type tag · from · to · term · field mask · the fields the mask names
// The mask has one bit per optional field, in this order:
//   logTerm · index · commit · reject · rejectHint · context · entries · snapshot
// A field that is 0 / false / null / empty is absent and its bit clear; a set
// bit with a zero value (or an empty entries list) is rejected. So every
// Message has exactly one encoding, and the flat Message shape survives a
// round trip whatever the core puts in fields a type does not use.
//
// Decode checks, beyond the bounds of limits.ts, the per-type invariants that
// are cheap and that an honest core never violates (see validateRaftMessage).
// Semantic checks that need state (is `from` a member? is the term current?)
// belong to the core and the node driver, not here.
import type { ConfState, Entry, EntryType, Message, MessageType, SnapshotChunk, SnapshotMeta } from '../raft/types'
import { badMessage, WireError } from './errors'
import {
  MAX_CONF_MEMBERS,
  MAX_CONTEXT_BYTES,
  MAX_ENTRIES_PER_MESSAGE,
  MAX_ENTRY_BYTES,
  MAX_ID_LENGTH,
  MAX_MESSAGE_BYTES,
  MAX_SNAPSHOT_BYTES,
  MAX_SNAPSHOT_CHUNK_BYTES,
  MAX_RAFT_UINT,
  MEMBER_ID_PATTERN,
} from './limits'
import type { Decoder } from './reader'
import { decodeWith, readArray, readBool, readBytes, readEnum, readId, readVarUint } from './reader'
import type { Encoder } from './writer'
import { encodeWith, writeArray, writeBool, writeBytes, writeEnum, writeId, writeVarUint } from './writer'

/** Wire tags of the message types: the position in this list. Append only. */
export const RAFT_MESSAGE_TYPES: readonly MessageType[] = [
  'MsgProp',
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgSnap',
  'MsgSnapResp',
  'MsgTimeoutNow',
  'MsgTransferLeader',
  'MsgReadIndex',
  'MsgReadIndexResp',
]

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf']

const F_LOG_TERM = 1 << 0
const F_INDEX = 1 << 1
const F_COMMIT = 1 << 2
const F_REJECT = 1 << 3
const F_REJECT_HINT = 1 << 4
const F_CONTEXT = 1 << 5
const F_ENTRIES = 1 << 6
const F_SNAPSHOT = 1 << 7
const F_ALL = 0xff

/** The smallest encoding of an entry (term, index, type, empty data). */
const MIN_ENTRY_BYTES = 4

export function encodeRaftMessage(m: Message): Uint8Array {
  return encodeWith((enc) => {
    writeEnum(enc, RAFT_MESSAGE_TYPES, m.type, 'message type')
    writeId(enc, m.from, 'from')
    writeId(enc, m.to, 'to')
    writeVarUint(enc, m.term, MAX_RAFT_UINT, 'term')
    let mask = 0
    if (m.logTerm !== 0) mask |= F_LOG_TERM
    if (m.index !== 0) mask |= F_INDEX
    if (m.commit !== 0) mask |= F_COMMIT
    if (m.reject) mask |= F_REJECT
    if (m.rejectHint !== 0) mask |= F_REJECT_HINT
    if (m.context !== null) mask |= F_CONTEXT
    if (m.entries.length > 0) mask |= F_ENTRIES
    if (m.snapshot !== null) mask |= F_SNAPSHOT
    writeVarUint(enc, mask)
    if (mask & F_LOG_TERM) writeVarUint(enc, m.logTerm, MAX_RAFT_UINT, 'logTerm')
    if (mask & F_INDEX) writeVarUint(enc, m.index, MAX_RAFT_UINT, 'index')
    if (mask & F_COMMIT) writeVarUint(enc, m.commit, MAX_RAFT_UINT, 'commit')
    if (mask & F_REJECT_HINT) writeVarUint(enc, m.rejectHint, MAX_RAFT_UINT, 'rejectHint')
    if (m.context !== null) writeBytes(enc, m.context, MAX_CONTEXT_BYTES, 'context')
    if (mask & F_ENTRIES) writeArray(enc, m.entries, MAX_ENTRIES_PER_MESSAGE, writeEntry, 'entries')
    if (m.snapshot !== null) writeSnapshotChunk(enc, m.snapshot)
  })
}

/**
 * Decode and validate one raft message. Throws WireError: TOO_LARGE for a
 * frame over MAX_MESSAGE_BYTES, BAD_MESSAGE for anything malformed. Never
 * returns a partially valid message.
 */
export function decodeRaftMessage(bytes: Uint8Array): Message {
  if (bytes.length > MAX_MESSAGE_BYTES) throw new WireError('TOO_LARGE', `raft message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  const m = decodeWith(bytes, readRaftMessage, 'raft message')
  validateRaftMessage(m)
  return m
}

function readRaftMessage(dec: Decoder): Message {
  const type = readEnum(dec, RAFT_MESSAGE_TYPES, 'message type')
  const from = readId(dec, 'from')
  const to = readId(dec, 'to')
  const term = readVarUint(dec, MAX_RAFT_UINT, 'term')
  const mask = readVarUint(dec, F_ALL, 'field mask')
  const logTerm = mask & F_LOG_TERM ? readNonZero(dec, 'logTerm') : 0
  const index = mask & F_INDEX ? readNonZero(dec, 'index') : 0
  const commit = mask & F_COMMIT ? readNonZero(dec, 'commit') : 0
  const reject = (mask & F_REJECT) !== 0
  const rejectHint = mask & F_REJECT_HINT ? readNonZero(dec, 'rejectHint') : 0
  const context = mask & F_CONTEXT ? readBytes(dec, MAX_CONTEXT_BYTES, 'context') : null
  let entries: Entry[] = []
  if (mask & F_ENTRIES) {
    entries = readArray(dec, MAX_ENTRIES_PER_MESSAGE, readEntry, 'entries', MIN_ENTRY_BYTES)
    if (entries.length === 0) throw badMessage('entries flagged but empty')
  }
  const snapshot = mask & F_SNAPSHOT ? readSnapshotChunk(dec) : null
  return { type, from, to, term, logTerm, index, entries, commit, reject, rejectHint, context, snapshot }
}

function readNonZero(dec: Decoder, what: string): number {
  const n = readVarUint(dec, MAX_RAFT_UINT, what)
  if (n === 0) throw badMessage(`${what} flagged but zero`)
  return n
}

function writeEntry(enc: Encoder, e: Entry): void {
  writeVarUint(enc, e.term, MAX_RAFT_UINT, 'entry term')
  writeVarUint(enc, e.index, MAX_RAFT_UINT, 'entry index')
  writeEnum(enc, ENTRY_TYPES, e.type, 'entry type')
  writeBytes(enc, e.data, MAX_ENTRY_BYTES, 'entry data')
}

function readEntry(dec: Decoder): Entry {
  const term = readVarUint(dec, MAX_RAFT_UINT, 'entry term')
  const index = readVarUint(dec, MAX_RAFT_UINT, 'entry index')
  const type = readEnum(dec, ENTRY_TYPES, 'entry type')
  const data = readBytes(dec, MAX_ENTRY_BYTES, 'entry data')
  return { term, index, type, data }
}

/** ConfState: four id lists and a boolean. Exported for node messages that
 *  carry a configuration. */
export function writeConfState(enc: Encoder, c: ConfState): void {
  for (const list of [c.voters, c.learners, c.votersOutgoing, c.learnersNext]) {
    writeArray(enc, list, MAX_CONF_MEMBERS, (e, id) => writeId(e, id), 'conf members')
  }
  writeBool(enc, c.autoLeave)
}

export function readConfState(dec: Decoder): ConfState {
  const readIds = (what: string) => readArray(dec, MAX_CONF_MEMBERS, (d) => readId(d, what), what, 2)
  const voters = readIds('voters')
  const learners = readIds('learners')
  const votersOutgoing = readIds('votersOutgoing')
  const learnersNext = readIds('learnersNext')
  const autoLeave = readBool(dec, 'autoLeave')
  const conf = { voters, learners, votersOutgoing, learnersNext, autoLeave }
  validateConfState(conf)
  return conf
}

function writeSnapshotMeta(enc: Encoder, meta: SnapshotMeta): void {
  writeVarUint(enc, meta.index, MAX_RAFT_UINT, 'snapshot index')
  writeVarUint(enc, meta.term, MAX_RAFT_UINT, 'snapshot term')
  writeConfState(enc, meta.conf)
}

function readSnapshotMeta(dec: Decoder): SnapshotMeta {
  const index = readVarUint(dec, MAX_RAFT_UINT, 'snapshot index')
  const term = readVarUint(dec, MAX_RAFT_UINT, 'snapshot term')
  const conf = readConfState(dec)
  return { index, term, conf }
}

function writeSnapshotChunk(enc: Encoder, s: SnapshotChunk): void {
  writeSnapshotMeta(enc, s.meta)
  writeVarUint(enc, s.offset, MAX_SNAPSHOT_BYTES, 'snapshot offset')
  writeVarUint(enc, s.total, MAX_SNAPSHOT_BYTES, 'snapshot total')
  writeBytes(enc, s.data, MAX_SNAPSHOT_CHUNK_BYTES, 'snapshot chunk')
}

function readSnapshotChunk(dec: Decoder): SnapshotChunk {
  const meta = readSnapshotMeta(dec)
  const offset = readVarUint(dec, MAX_SNAPSHOT_BYTES, 'snapshot offset')
  const total = readVarUint(dec, MAX_SNAPSHOT_BYTES, 'snapshot total')
  const data = readBytes(dec, MAX_SNAPSHOT_CHUNK_BYTES, 'snapshot chunk')
  return { meta, offset, total, data }
}

/**
 * The invariants every honest sender keeps, checked on receipt:
 * - from ≠ to;
 * - entries only in MsgApp and MsgProp, a snapshot exactly in MsgSnap;
 * - MsgApp: entries are contiguous from index + 1, their terms never
 *   decrease, start at or above logTerm and end at or below the message term;
 *   an index of 0 has logTerm 0;
 * - MsgApp, MsgVote, MsgPreVote: logTerm ≤ term (a log never holds an entry
 *   from the future; a PreVote's term is the one it would campaign in);
 * - MsgTransferLeader: context is the transferee's member id;
 * - MsgSnap: the chunk lies inside its snapshot (offset + length ≤ total),
 *   the snapshot is at index ≥ 1 with 1 ≤ term ≤ message term, and its
 *   ConfState is well formed (validateConfState).
 * Throws WireError BAD_MESSAGE naming the first broken rule.
 */
export function validateRaftMessage(m: Message): void {
  if (m.from === m.to) throw badMessage(`${m.type} from a member to itself`)
  if (m.entries.length > 0 && m.type !== 'MsgApp' && m.type !== 'MsgProp') throw badMessage(`${m.type} carries entries`)
  if ((m.snapshot !== null) !== (m.type === 'MsgSnap')) throw badMessage(m.type === 'MsgSnap' ? 'MsgSnap without a snapshot' : `${m.type} carries a snapshot`)
  if (m.type === 'MsgApp' || m.type === 'MsgVote' || m.type === 'MsgPreVote') {
    if (m.logTerm > m.term) throw badMessage(`${m.type} logTerm ${m.logTerm} above term ${m.term}`)
    if (m.index === 0 && m.logTerm !== 0) throw badMessage(`${m.type} has a term for index 0`)
  }
  switch (m.type) {
    case 'MsgApp': {
      let prevTerm = m.logTerm
      for (let i = 0; i < m.entries.length; i++) {
        const e = m.entries[i]!
        if (e.index !== m.index + 1 + i) throw badMessage(`MsgApp entry ${i} has index ${e.index}, expected ${m.index + 1 + i}`)
        if (e.term < prevTerm) throw badMessage(`MsgApp entry terms decrease at index ${e.index}`)
        if (e.term > m.term) throw badMessage(`MsgApp entry term ${e.term} above message term ${m.term}`)
        prevTerm = e.term
      }
      break
    }
    case 'MsgTransferLeader': {
      if (m.context === null) throw badMessage('MsgTransferLeader without a transferee')
      if (m.context.length > MAX_ID_LENGTH || !MEMBER_ID_PATTERN.test(latin1(m.context))) throw badMessage('MsgTransferLeader transferee is not a member id')
      break
    }
    case 'MsgSnap': {
      const s = m.snapshot!
      if (s.offset + s.data.length > s.total) throw badMessage(`snapshot chunk [${s.offset}, ${s.offset + s.data.length}) beyond total ${s.total}`)
      if (s.meta.index === 0 || s.meta.term === 0) throw badMessage('snapshot at index or term 0')
      if (s.meta.term > m.term) throw badMessage(`snapshot term ${s.meta.term} above message term ${m.term}`)
      break
    }
    default:
      break
  }
}

/**
 * etcd's configuration invariants: no duplicates within a list; a learner is
 * not a voter of either half of a joint config; learnersNext are outgoing
 * voters that are not incoming voters; outside a joint config (no outgoing
 * voters) learnersNext is empty and autoLeave false.
 */
export function validateConfState(c: ConfState): void {
  const voters = uniqueSet(c.voters, 'voters')
  const learners = uniqueSet(c.learners, 'learners')
  const outgoing = uniqueSet(c.votersOutgoing, 'votersOutgoing')
  const next = uniqueSet(c.learnersNext, 'learnersNext')
  for (const id of learners) {
    if (voters.has(id) || outgoing.has(id)) throw badMessage(`conf: ${id} is both learner and voter`)
  }
  for (const id of next) {
    if (!outgoing.has(id)) throw badMessage(`conf: learnerNext ${id} is not an outgoing voter`)
    if (voters.has(id)) throw badMessage(`conf: learnerNext ${id} is an incoming voter`)
    if (learners.has(id)) throw badMessage(`conf: learnerNext ${id} is already a learner`)
  }
  if (outgoing.size === 0 && c.autoLeave) throw badMessage('conf: autoLeave outside a joint configuration')
}

function uniqueSet(ids: readonly string[], what: string): Set<string> {
  const set = new Set(ids)
  if (set.size !== ids.length) throw badMessage(`conf: duplicate member in ${what}`)
  return set
}

/** Member ids are ASCII; a byte-per-char view is enough to pattern-check them. */
function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes)
}
