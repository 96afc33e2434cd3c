// Node messages: what members say to each other besides Raft. One frame per
// link message: varuint format version, varuint type tag, then the body.
// Raft messages ride inside a `raft` frame as the raft codec's bytes, so one
// link carries both and a receiver dispatches by one switch.
//
// Every byte comes from a peer and is untrusted (invariant 6): decoding uses
// the checked reader of src/wire (every length and count bounded, booleans
// 0/1, member ids by MEMBER_ID_PATTERN, nothing trailing); anything malformed
// throws WireError BAD_MESSAGE and the caller drops the frame.
import { badMessage } from './errors'
import { MAX_MESSAGE_BYTES, MEMBER_ID_PATTERN } from './limits'
import { decodeWith, readArray, readBool, readBoundedString, readBytes, readId, readVarUint } from './reader'
import type { Decoder } from './reader'
import { encodeWith, writeArray, writeBool, writeBoundedString, writeBytes, writeId, writeVarUint } from './writer'
import type { Encoder } from './writer'

export const NODE_MESSAGE_VERSION = 1

/** Bounds on what a peer may send us. */
export const NODE_MESSAGE_LIMITS = {
  /** browser ids and cluster ids, UTF-8 bytes */
  maxIdLength: 128,
  /** session ids, UTF-8 bytes (the tree allows 256) */
  maxSessionIdLength: 256,
  /** sessions named in one heartbeat */
  maxSessions: 4096,
  /** an encoded command forwarded to the leader (the tree bounds data itself) */
  maxCommandBytes: 4 * 1024 * 1024,
  /** commands in one `forwards` batch (the leader's per-peer budget, MAX_FORWARDS_IN_FLIGHT, is as large) */
  maxBatchCommands: 256,
  /** the commands of one `forwards` batch together, bytes */
  maxBatchBytes: 8 * 1024 * 1024,
  /** a raft message: whatever the raft codec accepts */
  maxRaftBytes: MAX_MESSAGE_BYTES,
  /** members in one roster */
  maxMembers: 1024,
} as const

export interface RosterEntry {
  member: string
  browser: string
  visible: boolean
}

export type NodeMessage =
  /** an encoded raft Message (src/wire's raft codec) */
  | { type: 'raft'; bytes: Uint8Array }
  /** a client write for the leader to stamp with its time and propose: an
   *  encoded tree Command whose `time` the leader overwrites */
  | { type: 'forward'; command: Uint8Array }
  /** several client writes in one frame, everything a follower queued in one
   *  turn (2 to maxBatchCommands commands, at most maxBatchBytes together);
   *  the leader proposes them together, or refuses the whole batch when one
   *  is bad input */
  | { type: 'forwards'; commands: Uint8Array[] }
  /** the sender's live sessions, to the leader, in place of log entries */
  | { type: 'session-heartbeat'; sessions: string[] }
  /** a member that wants into the configuration (or announces its facts) */
  | { type: 'join'; member: RosterEntry }
  /** the sender leaves gracefully: remove it from the configuration */
  | { type: 'leaving'; member: string }
  /** the leader's view of every member's facts, for members() */
  | { type: 'roster'; members: RosterEntry[] }
  /** the cluster the sender belongs to ('' = none yet), with what the meet
   *  rule (src/driver/cluster-meet.ts) weighs: the sender's browser (counted
   *  once per vouching link, never from a claim about others) and the commit
   *  index it knows; `yieldTo` is non-empty only from a leader whose cluster
   *  lost a meet to that cluster (its followers follow it, no one else does) */
  | ClusterClaim

export interface ClusterClaim {
  type: 'cluster'
  clusterId: string
  browser: string
  commit: number
  yieldTo: string
  /** the leader the sender follows in that cluster, if it knows one: lets a
   *  member whose configuration is stale hear a leader it does not know yet
   *  (src/driver/consensus-gate.ts) */
  leader?: string
}

// the tag is the index: append only (7 = forwards)
const TYPES: readonly NodeMessage['type'][] = ['raft', 'forward', 'session-heartbeat', 'join', 'leaving', 'roster', 'cluster', 'forwards']

export function encodeNodeMessage(msg: NodeMessage): Uint8Array {
  return encodeWith((enc) => {
    writeVarUint(enc, NODE_MESSAGE_VERSION)
    writeVarUint(enc, TYPES.indexOf(msg.type))
    switch (msg.type) {
      case 'raft':
        writeBytes(enc, msg.bytes, NODE_MESSAGE_LIMITS.maxRaftBytes, 'raft message')
        break
      case 'forward':
        writeBytes(enc, msg.command, NODE_MESSAGE_LIMITS.maxCommandBytes, 'command')
        break
      case 'forwards':
        checkBatch(msg.commands)
        writeArray(enc, msg.commands, NODE_MESSAGE_LIMITS.maxBatchCommands, writeCommand, 'commands')
        break
      case 'session-heartbeat':
        writeArray(enc, msg.sessions, NODE_MESSAGE_LIMITS.maxSessions, writeSession, 'sessions')
        break
      case 'join':
        writeRosterEntry(enc, msg.member)
        break
      case 'leaving':
        writeId(enc, msg.member)
        break
      case 'roster':
        writeArray(enc, msg.members, NODE_MESSAGE_LIMITS.maxMembers, writeRosterEntry, 'roster')
        break
      case 'cluster':
        writeBoundedString(enc, msg.clusterId, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'cluster id')
        writeBoundedString(enc, msg.browser, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'browser id')
        writeVarUint(enc, msg.commit, undefined, 'commit index')
        writeBoundedString(enc, msg.yieldTo, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'cluster id')
        writeBoundedString(enc, msg.leader ?? '', NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'leader id')
        break
    }
  })
}

/** Throws WireError BAD_MESSAGE on anything malformed; never returns a partial message. */
export function decodeNodeMessage(bytes: Uint8Array): NodeMessage {
  return decodeWith(
    bytes,
    (dec): NodeMessage => {
      const version = readVarUint(dec, Number.MAX_SAFE_INTEGER, 'node message version')
      if (version !== NODE_MESSAGE_VERSION) throw badMessage(`unknown node message version ${version}`)
      const type = TYPES[readVarUint(dec, TYPES.length - 1, 'node message tag')]!
      switch (type) {
        case 'raft':
          return { type, bytes: readBytes(dec, NODE_MESSAGE_LIMITS.maxRaftBytes, 'raft message') }
        case 'forward':
          return { type, command: readBytes(dec, NODE_MESSAGE_LIMITS.maxCommandBytes, 'command') }
        case 'forwards': {
          const commands = readArray(dec, NODE_MESSAGE_LIMITS.maxBatchCommands, readCommand, 'commands', 1)
          checkBatch(commands)
          return { type, commands }
        }
        case 'session-heartbeat':
          return { type, sessions: readArray(dec, NODE_MESSAGE_LIMITS.maxSessions, readSession, 'sessions', 2) }
        case 'join':
          return { type, member: readRosterEntry(dec) }
        case 'leaving':
          return { type, member: readId(dec) }
        case 'roster':
          return { type, members: readArray(dec, NODE_MESSAGE_LIMITS.maxMembers, readRosterEntry, 'roster', 4) }
        case 'cluster': {
          const clusterId = readBoundedString(dec, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'cluster id')
          const browser = readBoundedString(dec, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'browser id')
          const commit = readVarUint(dec, undefined, 'commit index')
          const yieldTo = readBoundedString(dec, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'cluster id')
          // a member without a cluster has nothing to yield, and no cluster yields to itself
          if (yieldTo !== '' && (clusterId === '' || yieldTo === clusterId)) throw badMessage(`cluster ${clusterId || "''"} cannot yield to ${yieldTo}`)
          const leader = readBoundedString(dec, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'leader id')
          if (leader !== '' && (clusterId === '' || !MEMBER_ID_PATTERN.test(leader))) throw badMessage(`a leader '${leader.slice(0, 64)}' of cluster ${clusterId || "''"} is not a member id`)
          return leader === '' ? { type, clusterId, browser, commit, yieldTo } : { type, clusterId, browser, commit, yieldTo, leader }
        }
      }
    },
    'node message',
  )
}

const NON_EMPTY = /^[\s\S]+$/

function writeCommand(enc: Encoder, c: Uint8Array): void {
  writeBytes(enc, c, NODE_MESSAGE_LIMITS.maxCommandBytes, 'command')
}

function readCommand(dec: Decoder): Uint8Array {
  return readBytes(dec, NODE_MESSAGE_LIMITS.maxCommandBytes, 'command')
}

/** A batch has 2 commands at least (one travels as `forward`) and at most
 *  maxBatchBytes of them together; each is bounded on its own as it is read. */
function checkBatch(commands: readonly Uint8Array[]): void {
  if (commands.length < 2) throw badMessage(`a forwards batch of ${commands.length} command(s)`)
  let bytes = 0
  for (const c of commands) bytes += c.length
  if (bytes > NODE_MESSAGE_LIMITS.maxBatchBytes) throw badMessage(`a forwards batch of ${bytes} bytes exceeds ${NODE_MESSAGE_LIMITS.maxBatchBytes}`)
}

function writeSession(enc: Encoder, s: string): void {
  writeBoundedString(enc, s, NODE_MESSAGE_LIMITS.maxSessionIdLength, NON_EMPTY, 'session id')
}

function readSession(dec: Decoder): string {
  return readBoundedString(dec, NODE_MESSAGE_LIMITS.maxSessionIdLength, NON_EMPTY, 'session id')
}

function writeRosterEntry(enc: Encoder, m: RosterEntry): void {
  writeId(enc, m.member)
  writeBoundedString(enc, m.browser, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'browser id')
  writeBool(enc, m.visible)
}

function readRosterEntry(dec: Decoder): RosterEntry {
  const member = readId(dec)
  const browser = readBoundedString(dec, NODE_MESSAGE_LIMITS.maxIdLength, undefined, 'browser id')
  return { member, browser, visible: readBool(dec, 'visible') }
}
