// The binary form of a Command: the payload of a committed Raft entry.
//
// Layout (lib0 encoding): a format version byte, a type tag byte, then the
// fields in declaration order. Integers are varuints (versions are varints, as
// -1 means "any"). Decoding checks every field and bound and that no byte is
// left over, so one Command has exactly one encoding and garbage is refused
// with TreeError BAD_ARGUMENTS — never another exception.
import * as encoding from 'lib0/encoding'
import { CheckedReader, decodeChecked, MAX_SESSION_ID_LENGTH, writeString } from './codec'
import { badArguments } from './errors'
import { MAX_PATH_LENGTH, isInvalidChar, pathProblem } from './paths'
import type { Command, CreateMode, ParentsMode, TxnOp } from './types'

export const COMMAND_FORMAT_VERSION = 1

/** most ops in one txn (ZooKeeper bounds a multi only by packet size) */
export const MAX_OPS_PER_TXN = 1024
/** most sessions in one expire-sessions, most nodes in one reap */
export const MAX_LIST_LENGTH = 65_536
/** longest session timeout we accept (about 24 days, a signed 32-bit ms count) */
export const MAX_SESSION_TIMEOUT_MS = 2 ** 31 - 1
/** longest TTL, as ZooKeeper's EphemeralType.TTL (40 bits of ms) */
export const MAX_TTL_MS = 2 ** 40 - 1
/** largest expected version (ZooKeeper versions are signed 32-bit) */
export const MAX_VERSION = 2 ** 31 - 1

const TYPES = ['open-session', 'close-session', 'expire-sessions', 'txn', 'reap', 'noop'] as const
const OPS = ['create', 'set', 'delete', 'check', 'fence'] as const
export const CREATE_MODES: readonly CreateMode[] = [
  'persistent',
  'ephemeral',
  'persistent-sequential',
  'ephemeral-sequential',
  'container',
  'ttl',
  'ttl-sequential',
]

/** what a create may make its missing ancestors as (never ephemeral: an ephemeral has no children) */
export const PARENTS_MODES: readonly ParentsMode[] = ['container', 'persistent']
/**
 * The op tag of a create with `parents`: a tag of its own, followed by the
 * parents mode after the create's fields. A create without parents keeps tag 0
 * and its bytes, so entries written before the option existed decode as they
 * did, and one op still has exactly one encoding.
 */
const CREATE_WITH_PARENTS_TAG = OPS.length

export const isSequentialMode = (m: CreateMode): boolean => m.endsWith('-sequential')
export const isTtlMode = (m: CreateMode): boolean => m === 'ttl' || m === 'ttl-sequential'
export const isEphemeralMode = (m: CreateMode): boolean => m === 'ephemeral' || m === 'ephemeral-sequential'

/** the reason `id` is not a valid session id, or null: 1–256 chars, none that a path refuses */
export const sessionIdProblem = (id: unknown): string | null => {
  if (typeof id !== 'string' || id.length === 0) return 'session id must be a non-empty string'
  if (id.length > MAX_SESSION_ID_LENGTH) return 'session id too long'
  // the characters a path refuses are refused here too ('/' and '.' are fine in ids)
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    if (isInvalidChar(c)) return `session id: invalid character U+${c.toString(16).padStart(4, '0')} at index ${i}`
  }
  return null
}

const isUint = (n: unknown, max = Number.MAX_SAFE_INTEGER): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max
const isVersion = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= -1 && n <= MAX_VERSION

/**
 * The reason an op is malformed, or null. Checks shape, bounds and path syntax
 * (skipped with checkPath false, for a path known to name an existing node);
 * whether it succeeds against the tree is the tree's business.
 */
export const opProblem = (op: TxnOp, checkPath = true): string | null => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- ops are decoded from peer messages or come from untyped JavaScript
  if (typeof op !== 'object' || op === null) return 'op must be an object'
  if (checkPath || typeof op.path !== 'string') {
    const seq = op.op === 'create' && CREATE_MODES.includes(op.mode) && isSequentialMode(op.mode)
    const path = typeof op.path === 'string' ? (seq ? op.path + '0' : op.path) : op.path
    const p = pathProblem(path)
    if (p !== null) return `bad path ${JSON.stringify(op.path)}: ${p}`
  }
  switch (op.op) {
    case 'create':
      if (!(op.data instanceof Uint8Array)) return 'data must be a Uint8Array'
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- mode may be anything from untyped JavaScript; String() also takes a symbol
      if (!CREATE_MODES.includes(op.mode)) return `unknown create mode ${String(op.mode)}`
      if (isTtlMode(op.mode)) {
        if (!isUint(op.ttlMs, MAX_TTL_MS) || op.ttlMs === 0) return `ttlMs must be in 1..${MAX_TTL_MS}`
      } else if (op.ttlMs !== undefined) {
        return 'ttlMs is only for ttl modes'
      }
      if (op.parents !== undefined && !PARENTS_MODES.includes(op.parents)) {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- parents may be anything from untyped JavaScript; String() also takes a symbol
        return `parents must be ${PARENTS_MODES.join(' or ')}, not ${String(op.parents)}`
      }
      return null
    case 'set':
      if (!(op.data instanceof Uint8Array)) return 'data must be a Uint8Array'
      return isVersion(op.version) ? null : 'version must be -1 or a non-negative int32'
    case 'delete':
    case 'check':
      return isVersion(op.version) ? null : 'version must be -1 or a non-negative int32'
    case 'fence':
      return isUint(op.token) ? null : 'fence token must be a non-negative integer'
    default:
      return `unknown op ${String((op as { op: unknown }).op)}`
  }
}

/** The reason a command is malformed, or null. */
export const commandProblem = (cmd: Command): string | null => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- commands are decoded from the log or peer messages
  if (typeof cmd !== 'object' || cmd === null) return 'command must be an object'
  if (!isUint(cmd.time)) return 'time must be a non-negative integer'
  switch (cmd.type) {
    case 'open-session':
      if (!isUint(cmd.timeoutMs, MAX_SESSION_TIMEOUT_MS) || cmd.timeoutMs === 0) return 'timeoutMs out of range'
      return sessionIdProblem(cmd.session)
    case 'close-session':
      return sessionIdProblem(cmd.session)
    case 'expire-sessions':
      if (!Array.isArray(cmd.sessions) || cmd.sessions.length > MAX_LIST_LENGTH) return 'sessions must be a bounded array'
      for (const s of cmd.sessions) {
        const p = sessionIdProblem(s)
        if (p !== null) return p
      }
      return null
    case 'txn': {
      const p = sessionIdProblem(cmd.session)
      if (p !== null) return p
      if (!isUint(cmd.seq) || !isUint(cmd.ackedBelow)) return 'seq and ackedBelow must be non-negative integers'
      if (typeof cmd.multi !== 'boolean') return 'multi must be a boolean'
      if (!Array.isArray(cmd.ops) || cmd.ops.length > MAX_OPS_PER_TXN) return `ops must be an array of at most ${MAX_OPS_PER_TXN}`
      if (!cmd.multi && cmd.ops.length !== 1) return 'a txn that is not a multi carries exactly one op'
      for (let i = 0; i < cmd.ops.length; i++) {
        const q = opProblem(cmd.ops[i]!)
        if (q !== null) return `op ${i}: ${q}`
      }
      return null
    }
    case 'reap':
      if (!Array.isArray(cmd.nodes) || cmd.nodes.length > MAX_LIST_LENGTH) return 'nodes must be a bounded array'
      for (const n of cmd.nodes) {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- commands are decoded from the log or peer messages
        if (typeof n !== 'object' || n === null || !isUint(n.czxid)) return 'reap node czxid must be a non-negative integer'
        const p = pathProblem(n.path)
        if (p !== null) return `bad path ${JSON.stringify(n.path)}: ${p}`
      }
      return null
    case 'noop':
      return null
    default:
      return `unknown command type ${String((cmd as { type: unknown }).type)}`
  }
}

/** Encodes a command. Throws TreeError BAD_ARGUMENTS for a malformed one, so garbage never enters the log. */
export function encodeCommand(cmd: Command): Uint8Array {
  const problem = commandProblem(cmd)
  if (problem !== null) throw badArguments(`cannot encode command: ${problem}`)
  const e = encoding.createEncoder()
  encoding.writeUint8(e, COMMAND_FORMAT_VERSION)
  encoding.writeUint8(e, TYPES.indexOf(cmd.type))
  switch (cmd.type) {
    case 'open-session':
      writeString(e, cmd.session)
      encoding.writeVarUint(e, cmd.timeoutMs)
      break
    case 'close-session':
      writeString(e, cmd.session)
      break
    case 'expire-sessions':
      encoding.writeVarUint(e, cmd.sessions.length)
      for (const s of cmd.sessions) writeString(e, s)
      break
    case 'txn':
      writeString(e, cmd.session)
      encoding.writeVarUint(e, cmd.seq)
      encoding.writeVarUint(e, cmd.ackedBelow)
      encoding.writeUint8(e, cmd.multi ? 1 : 0)
      encoding.writeVarUint(e, cmd.ops.length)
      for (const op of cmd.ops) writeOp(e, op)
      break
    case 'reap':
      encoding.writeVarUint(e, cmd.nodes.length)
      for (const n of cmd.nodes) {
        writeString(e, n.path)
        encoding.writeVarUint(e, n.czxid)
      }
      break
    case 'noop':
      break
  }
  encoding.writeVarUint(e, cmd.time)
  return encoding.toUint8Array(e)
}

const writeOp = (e: encoding.Encoder, op: TxnOp): void => {
  const withParents = op.op === 'create' && op.parents !== undefined
  encoding.writeUint8(e, withParents ? CREATE_WITH_PARENTS_TAG : OPS.indexOf(op.op))
  writeString(e, op.path)
  switch (op.op) {
    case 'create':
      encoding.writeVarUint8Array(e, op.data)
      encoding.writeUint8(e, CREATE_MODES.indexOf(op.mode))
      if (isTtlMode(op.mode)) encoding.writeVarUint(e, op.ttlMs!)
      if (op.parents !== undefined) encoding.writeUint8(e, PARENTS_MODES.indexOf(op.parents))
      break
    case 'set':
      encoding.writeVarUint8Array(e, op.data)
      encoding.writeVarInt(e, op.version)
      break
    case 'delete':
    case 'check':
      encoding.writeVarInt(e, op.version)
      break
    case 'fence':
      encoding.writeVarUint(e, op.token)
      break
  }
}

/**
 * Decodes and validates a command from untrusted bytes. Throws TreeError
 * BAD_ARGUMENTS on anything malformed (unknown version or tag, truncation,
 * out-of-range numbers, bad paths or session ids, trailing bytes), never
 * anything else. Data fields are copied out of `bytes`.
 */
export function decodeCommand(bytes: Uint8Array): Command {
  if (!(bytes instanceof Uint8Array)) throw badArguments('command: not bytes')
  return decodeChecked(bytes, 'command', readCommand)
}

const readCommand = (r: CheckedReader): Command => {
  const version = r.u8()
  if (version !== COMMAND_FORMAT_VERSION) throw badArguments(`command: unknown format version ${version}`)
  const type = TYPES[r.u8()]
  let cmd: Command
  switch (type) {
    case 'open-session': {
      const session = r.string('session', MAX_SESSION_ID_LENGTH)
      const timeoutMs = r.uint('timeoutMs', MAX_SESSION_TIMEOUT_MS)
      cmd = { type, session, timeoutMs, time: r.uint('time') }
      break
    }
    case 'close-session':
      cmd = { type, session: r.string('session', MAX_SESSION_ID_LENGTH), time: r.uint('time') }
      break
    case 'expire-sessions': {
      const n = r.count('sessions', MAX_LIST_LENGTH, 2)
      const sessions: string[] = []
      for (let i = 0; i < n; i++) sessions.push(r.string('session', MAX_SESSION_ID_LENGTH))
      cmd = { type, sessions, time: r.uint('time') }
      break
    }
    case 'txn': {
      const session = r.string('session', MAX_SESSION_ID_LENGTH)
      const seq = r.uint('seq')
      const ackedBelow = r.uint('ackedBelow')
      const multi = r.bool('multi')
      const n = r.count('ops', MAX_OPS_PER_TXN, 3)
      const ops: TxnOp[] = []
      for (let i = 0; i < n; i++) ops.push(readOp(r))
      cmd = { type, session, seq, ackedBelow, multi, ops, time: r.uint('time') }
      break
    }
    case 'reap': {
      const n = r.count('nodes', MAX_LIST_LENGTH, 3)
      const nodes: { path: string; czxid: number }[] = []
      for (let i = 0; i < n; i++) {
        const path = r.string('path', MAX_PATH_LENGTH)
        nodes.push({ path, czxid: r.uint('czxid') })
      }
      cmd = { type, nodes, time: r.uint('time') }
      break
    }
    case 'noop':
      cmd = { type, time: r.uint('time') }
      break
    default:
      throw badArguments('command: unknown type tag')
  }
  const problem = commandProblem(cmd)
  if (problem !== null) throw badArguments(`command: ${problem}`)
  return cmd
}

const readOp = (r: CheckedReader): TxnOp => {
  const tag = r.u8()
  const withParents = tag === CREATE_WITH_PARENTS_TAG
  const op = withParents ? 'create' : OPS[tag]
  if (op === undefined) throw badArguments('command: unknown op tag')
  const path = r.string('path', MAX_PATH_LENGTH)
  switch (op) {
    case 'create': {
      const data = r.bytesField('data').slice()
      const mode = CREATE_MODES[r.u8()]
      if (mode === undefined) throw badArguments('command: unknown create mode')
      const create: TxnOp = { op, path, data, mode }
      if (isTtlMode(mode)) create.ttlMs = r.uint('ttlMs', MAX_TTL_MS)
      if (withParents) {
        const parents = PARENTS_MODES[r.u8()]
        if (parents === undefined) throw badArguments('command: unknown parents mode')
        create.parents = parents
      }
      return create
    }
    case 'set': {
      const data = r.bytesField('data').slice()
      return { op, path, data, version: r.int('version', -1, MAX_VERSION) }
    }
    case 'delete':
    case 'check':
      return { op, path, version: r.int('version', -1, MAX_VERSION) }
    case 'fence':
      return { op, path, token: r.uint('token') }
  }
}
