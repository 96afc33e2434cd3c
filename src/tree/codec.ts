// Checked binary reading and writing over lib0 for commands and snapshots.
// Every read validates its bound (src/codec/checked-reader); any failure becomes
// TreeError BAD_ARGUMENTS, so untrusted bytes can never throw anything else nor
// yield an out-of-range value.
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as checked from '../codec/checked-reader'
import { badArguments } from './errors'
import type { OpResult, Stat, TreeErrorCode, TxnResult } from './types'

/** largest string field we accept (session ids, messages, paths are bounded tighter) */
export const MAX_STRING_LENGTH = 64 * 1024
/** largest byte field we accept on the wire; the tree enforces its own maxDataBytes */
export const MAX_BYTES_LENGTH = 64 * 1024 * 1024

/**
 * The tree's view of the one checked reader (src/codec/checked-reader): a
 * decoder whose reads name their field. Reads throw DecodeError; `decodeChecked`
 * is the one place that becomes TreeError BAD_ARGUMENTS.
 */
export class CheckedReader {
  constructor(readonly d: checked.Decoder) {}

  u8(): number {
    return checked.readByte(this.d)
  }

  /** a non-negative safe integer, at most max */
  uint(field: string, max = Number.MAX_SAFE_INTEGER): number {
    return checked.readVarUint(this.d, max, field)
  }

  /** a safe integer in [min, max] */
  int(field: string, min: number, max: number): number {
    return checked.readVarInt(this.d, min, max, field)
  }

  bool(field: string): boolean {
    return checked.readBool(this.d, field)
  }

  /** at most maxLength UTF-16 code units of valid UTF-8 */
  string(field: string, maxLength = MAX_STRING_LENGTH): string {
    return checked.readCharBoundedString(this.d, maxLength, field)
  }

  /** a view into the bytes being read, not a copy */
  bytesField(field: string, maxLength = MAX_BYTES_LENGTH): Uint8Array {
    return checked.readBytesView(this.d, maxLength, field)
  }

  /** the count of a list, bounded by max and by the bytes left (each item takes ≥ minItemBytes) */
  count(field: string, max: number, minItemBytes = 1): number {
    return checked.readCount(this.d, max, field, minItemBytes)
  }
}

/**
 * Reads all of `bytes` with `read` and requires the end (one canonical
 * encoding per value). A DecodeError becomes TreeError BAD_ARGUMENTS prefixed
 * with `what` ('command', 'snapshot'): the one place the tree maps it.
 */
export function decodeChecked<T>(bytes: Uint8Array, what: string, read: (r: CheckedReader) => T): T {
  const r = new CheckedReader(decoding.createDecoder(bytes))
  try {
    const value = read(r)
    checked.expectEnd(r.d, what)
    return value
  } catch (err) {
    if (err instanceof checked.DecodeError) throw badArguments(`${what}: ${err.reason}`)
    throw err
  }
}

export const writeString = (e: encoding.Encoder, s: string): void => encoding.writeVarString(e, s)

// ---- Stat and TxnResult (stored in the dedup table, hence in snapshots) ----

export const writeStat = (e: encoding.Encoder, s: Stat): void => {
  encoding.writeVarUint(e, s.czxid)
  encoding.writeVarUint(e, s.mzxid)
  encoding.writeVarUint(e, s.pzxid)
  encoding.writeVarUint(e, s.ctime)
  encoding.writeVarUint(e, s.mtime)
  encoding.writeVarUint(e, s.version)
  encoding.writeVarUint(e, s.cversion)
  encoding.writeUint8(e, s.ephemeralOwner === null ? 0 : 1)
  if (s.ephemeralOwner !== null) writeString(e, s.ephemeralOwner)
  encoding.writeVarUint(e, s.dataLength)
  encoding.writeVarUint(e, s.numChildren)
}

export const readStat = (r: CheckedReader): Stat => {
  const czxid = r.uint('czxid')
  const mzxid = r.uint('mzxid')
  const pzxid = r.uint('pzxid')
  const ctime = r.uint('ctime')
  const mtime = r.uint('mtime')
  const version = r.uint('version')
  const cversion = r.uint('cversion')
  const ephemeralOwner = r.bool('has owner') ? r.string('ephemeralOwner', MAX_SESSION_ID_LENGTH) : null
  const dataLength = r.uint('dataLength')
  const numChildren = r.uint('numChildren')
  return { czxid, mzxid, pzxid, ctime, mtime, version, cversion, ephemeralOwner, dataLength, numChildren }
}

/** our bound on a session id's length */
export const MAX_SESSION_ID_LENGTH = 256

export const ERROR_CODES: readonly TreeErrorCode[] = [
  'NO_NODE',
  'NODE_EXISTS',
  'BAD_VERSION',
  'NOT_EMPTY',
  'NO_CHILDREN_FOR_EPHEMERALS',
  'BAD_ARGUMENTS',
  'TOO_LARGE',
  'SESSION_EXPIRED',
  'FENCED',
]
const OP_RESULT_TAGS = ['create', 'set', 'delete', 'check', 'fence'] as const

export const writeTxnResult = (e: encoding.Encoder, res: TxnResult): void => {
  if (res.ok) {
    encoding.writeUint8(e, 1)
    encoding.writeVarUint(e, res.results.length)
    for (const r of res.results) {
      encoding.writeUint8(e, OP_RESULT_TAGS.indexOf(r.op))
      if (r.op === 'create') {
        writeString(e, r.path)
        writeStat(e, r.stat)
      } else if (r.op === 'set') {
        writeStat(e, r.stat)
      }
    }
  } else {
    encoding.writeUint8(e, 0)
    encoding.writeUint8(e, ERROR_CODES.indexOf(res.code))
    writeString(e, res.message)
    encoding.writeUint8(e, (res.path !== undefined ? 1 : 0) | (res.opIndex !== undefined ? 2 : 0))
    if (res.path !== undefined) writeString(e, res.path)
    if (res.opIndex !== undefined) encoding.writeVarUint(e, res.opIndex)
  }
}

export const readTxnResult = (r: CheckedReader, maxOps: number): TxnResult => {
  if (r.bool('ok')) {
    const n = r.count('results', maxOps)
    const results: OpResult[] = []
    for (let i = 0; i < n; i++) {
      const tag = OP_RESULT_TAGS[r.u8()]
      switch (tag) {
        case 'create': {
          const path = r.string('path')
          results.push({ op: 'create', path, stat: readStat(r) })
          break
        }
        case 'set':
          results.push({ op: 'set', stat: readStat(r) })
          break
        case 'delete':
        case 'check':
        case 'fence':
          results.push({ op: tag })
          break
        default:
          throw badArguments('unknown op result tag')
      }
    }
    return { ok: true, results }
  }
  const code = ERROR_CODES[r.u8()]
  if (code === undefined) throw badArguments('unknown error code')
  const message = r.string('message')
  const flags = r.u8()
  if (flags > 3) throw badArguments('bad result flags')
  const res: TxnResult = { ok: false, code, message }
  if (flags & 1) res.path = r.string('path')
  if (flags & 2) res.opIndex = r.uint('opIndex', maxOps)
  return res
}
