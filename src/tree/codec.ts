// Checked binary reading and writing over lib0 for commands and snapshots.
// Every read validates its bound; any failure becomes TreeError BAD_ARGUMENTS,
// so untrusted bytes can never throw anything else nor yield an out-of-range value.
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { badArguments } from './errors'
import type { OpResult, Stat, TreeErrorCode, TxnResult } from './types'

/** largest string field we accept (session ids, messages, paths are bounded tighter) */
export const MAX_STRING_LENGTH = 64 * 1024
/** largest byte field we accept on the wire; the tree enforces its own maxDataBytes */
export const MAX_BYTES_LENGTH = 64 * 1024 * 1024

/** A lib0 decoder whose reads check bounds and throw only TreeError BAD_ARGUMENTS. */
export class CheckedReader {
  private readonly d: decoding.Decoder

  constructor(readonly bytes: Uint8Array, readonly what: string) {
    this.d = decoding.createDecoder(bytes)
  }

  private fail(message: string): never {
    throw badArguments(`${this.what}: ${message}`)
  }

  /** a lib0 read threw (truncation, overflow): BAD_ARGUMENTS */
  private malformed(err: unknown): never {
    return this.fail(`truncated or malformed (${err instanceof Error ? err.message : String(err)})`)
  }

  u8(): number {
    if (this.d.pos >= this.bytes.length) this.fail('truncated')
    return decoding.readUint8(this.d)
  }

  /** a non-negative safe integer, at most max */
  uint(field: string, max = Number.MAX_SAFE_INTEGER): number {
    const start = this.d.pos
    let n: number
    try {
      n = decoding.readVarUint(this.d)
    } catch (err) {
      return this.malformed(err)
    }
    if (!Number.isSafeInteger(n) || n > max) this.fail(`${field} out of range`)
    this.refuseOverlong(start, field)
    return n
  }

  /** a safe integer in [min, max] */
  int(field: string, min: number, max: number): number {
    const start = this.d.pos
    let n: number
    try {
      n = decoding.readVarInt(this.d)
    } catch (err) {
      return this.malformed(err)
    }
    if (!Number.isSafeInteger(n) || n < min || n > max || Object.is(n, -0)) this.fail(`${field} out of range`)
    this.refuseOverlong(start, field)
    return n
  }

  /** a varint whose last byte is zero has a shorter encoding: refuse it, so each value has one encoding */
  private refuseOverlong(start: number, field: string): void {
    if (this.d.pos - start > 1 && this.bytes[this.d.pos - 1] === 0) this.fail(`${field} has an overlong encoding`)
  }

  bool(field: string): boolean {
    const b = this.u8()
    if (b > 1) this.fail(`${field} not a boolean`)
    return b === 1
  }

  string(field: string, maxLength = MAX_STRING_LENGTH): string {
    // a UTF-8 string of n chars takes at least n bytes: bound the byte length first
    const byteLength = this.uint(`${field} length`, maxLength * 3)
    if (this.d.pos + byteLength > this.bytes.length) this.fail(`${field} truncated`)
    const start = this.d.pos
    let s: string
    // ASCII fast path: most paths and ids are short ASCII, and TextDecoder has a per-call cost
    let ascii = byteLength <= 256
    for (let i = 0; ascii && i < byteLength; i++) if (this.bytes[start + i]! >= 0x80) ascii = false
    if (ascii) {
      s = String.fromCharCode.apply(null, this.bytes.subarray(start, start + byteLength) as unknown as number[])
    } else {
      try {
        s = utf8.decode(this.bytes.subarray(start, start + byteLength))
      } catch {
        return this.fail(`${field} is not UTF-8`)
      }
    }
    this.d.pos += byteLength
    if (s.length > maxLength) this.fail(`${field} too long`)
    return s
  }

  bytesField(field: string, maxLength = MAX_BYTES_LENGTH): Uint8Array {
    const n = this.uint(`${field} length`, maxLength)
    if (this.d.pos + n > this.bytes.length) this.fail(`${field} truncated`)
    const out = this.bytes.subarray(this.d.pos, this.d.pos + n)
    this.d.pos += n
    return out
  }

  /** the count of a list, bounded by max and by the bytes left (each item takes ≥ minItemBytes) */
  count(field: string, max: number, minItemBytes = 1): number {
    const n = this.uint(`${field} count`, max)
    if (n * minItemBytes > this.bytes.length - this.d.pos) this.fail(`${field} count exceeds the bytes left`)
    return n
  }

  /** throws unless every byte was consumed (one canonical encoding per value) */
  end(): void {
    if (this.d.pos !== this.bytes.length) this.fail(`${this.bytes.length - this.d.pos} trailing bytes`)
  }
}

// fatal: invalid UTF-8 is garbage, not something to repair with U+FFFD
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

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
