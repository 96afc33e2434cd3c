// Node messages: what members say to each other besides Raft. One frame per
// link message: varuint format version, varuint type tag, then the body.
// Raft messages ride inside a `raft` frame as the raft codec's bytes, so one
// link carries both and a receiver dispatches by one switch.
//
// Every byte comes from a peer and is untrusted (invariant 6): decode checks
// the version, the tag, every length against a bound, and that nothing
// trails; any violation throws NodeMessageError (code BAD_MESSAGE) and the
// caller drops the frame.
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

export const NODE_MESSAGE_VERSION = 1

/** Bounds on what a peer may send us. */
export const NODE_MESSAGE_LIMITS = {
  /** member ids, browser ids, session ids */
  maxIdLength: 128,
  /** sessions named in one heartbeat */
  maxSessions: 4096,
  /** an encoded command forwarded to the leader (the tree bounds data itself) */
  maxCommandBytes: 4 * 1024 * 1024,
  /** a raft message (snapshot chunks are bounded by the raft config) */
  maxRaftBytes: 17 * 1024 * 1024,
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
  /** the sender's live sessions, to the leader, in place of log entries */
  | { type: 'session-heartbeat'; sessions: string[] }
  /** a member that wants into the configuration (or announces its facts) */
  | { type: 'join'; member: RosterEntry }
  /** the sender leaves gracefully: remove it from the configuration */
  | { type: 'leaving'; member: string }
  /** the leader's view of every member's facts, for members() */
  | { type: 'roster'; members: RosterEntry[] }
  /** the cluster the sender belongs to ('' while it has joined none): two
   *  clusters of one room that meet decide which one survives */
  | { type: 'cluster'; clusterId: string }

const TAG = {
  raft: 0,
  forward: 1,
  'session-heartbeat': 2,
  join: 3,
  leaving: 4,
  roster: 5,
  cluster: 6,
} as const satisfies Record<NodeMessage['type'], number>

export class NodeMessageError extends Error {
  readonly code = 'BAD_MESSAGE' as const
  constructor(message: string) {
    super(message)
    this.name = 'NodeMessageError'
  }
}

export function encodeNodeMessage(msg: NodeMessage): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, NODE_MESSAGE_VERSION)
  encoding.writeVarUint(enc, TAG[msg.type])
  switch (msg.type) {
    case 'raft':
      encoding.writeVarUint8Array(enc, msg.bytes)
      break
    case 'forward':
      encoding.writeVarUint8Array(enc, msg.command)
      break
    case 'session-heartbeat':
      encoding.writeVarUint(enc, msg.sessions.length)
      for (const s of msg.sessions) encoding.writeVarString(enc, s)
      break
    case 'join':
      writeRosterEntry(enc, msg.member)
      break
    case 'leaving':
      encoding.writeVarString(enc, msg.member)
      break
    case 'roster':
      encoding.writeVarUint(enc, msg.members.length)
      for (const m of msg.members) writeRosterEntry(enc, m)
      break
    case 'cluster':
      encoding.writeVarString(enc, msg.clusterId)
      break
  }
  return encoding.toUint8Array(enc)
}

/** Throws NodeMessageError on anything malformed; never returns a partial message. */
export function decodeNodeMessage(bytes: Uint8Array): NodeMessage {
  try {
    const dec = decoding.createDecoder(bytes)
    const version = decoding.readVarUint(dec)
    if (version !== NODE_MESSAGE_VERSION) throw new NodeMessageError(`unknown node message version ${version}`)
    const tag = decoding.readVarUint(dec)
    let msg: NodeMessage
    switch (tag) {
      case TAG.raft:
        msg = { type: 'raft', bytes: readBytes(dec, NODE_MESSAGE_LIMITS.maxRaftBytes) }
        break
      case TAG.forward:
        msg = { type: 'forward', command: readBytes(dec, NODE_MESSAGE_LIMITS.maxCommandBytes) }
        break
      case TAG['session-heartbeat']: {
        const n = readCount(dec, NODE_MESSAGE_LIMITS.maxSessions)
        const sessions: string[] = []
        for (let i = 0; i < n; i++) sessions.push(readId(dec))
        msg = { type: 'session-heartbeat', sessions }
        break
      }
      case TAG.join:
        msg = { type: 'join', member: readRosterEntry(dec) }
        break
      case TAG.leaving:
        msg = { type: 'leaving', member: readId(dec) }
        break
      case TAG.roster: {
        const n = readCount(dec, NODE_MESSAGE_LIMITS.maxMembers)
        const members: RosterEntry[] = []
        for (let i = 0; i < n; i++) members.push(readRosterEntry(dec))
        msg = { type: 'roster', members }
        break
      }
      case TAG.cluster: {
        const clusterId = decoding.readVarString(dec)
        if (clusterId.length > NODE_MESSAGE_LIMITS.maxIdLength) throw new NodeMessageError('cluster id too long')
        msg = { type: 'cluster', clusterId }
        break
      }
      default:
        throw new NodeMessageError(`unknown node message tag ${tag}`)
    }
    if (decoding.hasContent(dec)) throw new NodeMessageError('trailing bytes after node message')
    return msg
  } catch (err) {
    if (err instanceof NodeMessageError) throw err
    // lib0 throws plain Errors on truncated input
    throw new NodeMessageError(`malformed node message: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function writeRosterEntry(enc: encoding.Encoder, m: RosterEntry): void {
  encoding.writeVarString(enc, m.member)
  encoding.writeVarString(enc, m.browser)
  encoding.writeUint8(enc, m.visible ? 1 : 0)
}

function readRosterEntry(dec: decoding.Decoder): RosterEntry {
  const member = readId(dec)
  const browser = readId(dec)
  const flag = decoding.readUint8(dec)
  if (flag > 1) throw new NodeMessageError('visible flag must be 0 or 1')
  return { member, browser, visible: flag === 1 }
}

function readCount(dec: decoding.Decoder, max: number): number {
  const n = decoding.readVarUint(dec)
  if (n > max) throw new NodeMessageError(`count ${n} exceeds ${max}`)
  return n
}

function readBytes(dec: decoding.Decoder, max: number): Uint8Array {
  const len = decoding.readVarUint(dec)
  if (len > max) throw new NodeMessageError(`${len} bytes exceed ${max}`)
  if (dec.pos + len > dec.arr.length) throw new NodeMessageError('truncated bytes')
  return decoding.readUint8Array(dec, len).slice()
}

function readId(dec: decoding.Decoder): string {
  const s = decoding.readVarString(dec)
  if (s.length === 0 || s.length > NODE_MESSAGE_LIMITS.maxIdLength) throw new NodeMessageError(`id length ${s.length} out of bounds`)
  return s
}
