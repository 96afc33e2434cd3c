// Checked reading of untrusted bytes, over lib0/decoding.
//
// lib0's decoder trusts its input: readUint8 past the end yields undefined,
// readVarUint accepts overlong encodings and (on its last byte) numbers past
// 2^53, readUint8Array throws a plain Error, readVarString a TypeError. Every
// function here turns each of those into WireError('BAD_MESSAGE') and checks
// a bound before anything is allocated or looped over.
//
// What must stay true: every read either returns a value inside its stated
// bound or throws WireError; and every value it accepts has exactly one
// encoding (varuints must be minimal, booleans 0 or 1, strings valid UTF-8),
// so a decoded message re-encodes to the very bytes it came from.
//
// Use: wrap a whole decode in `decodeWith(bytes, dec => ...)`, which also
// rejects trailing bytes and converts any stray exception.
import * as decoding from 'lib0/decoding'
import { badMessage, WireError } from './errors'
import { MAX_ID_LENGTH, MAX_WIRE_UINT, MEMBER_ID_PATTERN } from './limits'

export type Decoder = decoding.Decoder

/**
 * Read a minimal varuint in [0, max]. `what` names the field in the error.
 * An overlong encoding (a trailing 0x00 continuation group) is rejected so
 * that the encoding of a value is unique.
 */
export function readVarUint(dec: Decoder, max: number = MAX_WIRE_UINT, what = 'integer'): number {
  const start = dec.pos
  let n: number
  try {
    n = decoding.readVarUint(dec)
  } catch {
    throw badMessage(`truncated ${what}`)
  }
  if (dec.pos - start > 1 && dec.arr[dec.pos - 1] === 0) throw badMessage(`overlong ${what}`)
  if (!(n <= max)) throw badMessage(`${what} ${n} exceeds ${max}`)
  return n
}

/** Read one byte. */
export function readByte(dec: Decoder, what = 'byte'): number {
  if (dec.pos >= dec.arr.length) throw badMessage(`truncated ${what}`)
  return decoding.readUint8(dec)
}

/** A boolean is one byte, 0 or 1; anything else is malformed. */
export function readBool(dec: Decoder, what = 'boolean'): boolean {
  const b = readByte(dec, what)
  if (b > 1) throw badMessage(`${what} must be 0 or 1, got ${b}`)
  return b === 1
}

/** Read a varuint index into `values` (the symmetric writer is writeEnum). */
export function readEnum<T>(dec: Decoder, values: readonly T[], what = 'tag'): T {
  const i = readVarUint(dec, values.length - 1, what)
  return values[i] as T
}

/** Exactly `len` raw bytes, copied out of the frame (so the frame's buffer
 *  can be released and the caller may keep the result). */
export function readFixedBytes(dec: Decoder, len: number, what = 'bytes'): Uint8Array {
  if (dec.arr.length - dec.pos < len) throw badMessage(`truncated ${what}`)
  return decoding.readUint8Array(dec, len).slice()
}

/** Length-prefixed bytes, at most `maxLen` long, copied. */
export function readBytes(dec: Decoder, maxLen: number, what = 'bytes'): Uint8Array {
  const len = readVarUint(dec, maxLen, `${what} length`)
  return readFixedBytes(dec, len, what)
}

/**
 * A length-prefixed UTF-8 string of at most `maxBytes` bytes, optionally
 * matching `pattern` (anchor it: /^...$/). Invalid UTF-8 is malformed.
 */
export function readBoundedString(dec: Decoder, maxBytes: number, pattern?: RegExp, what = 'string'): string {
  const bytes = readBytes(dec, maxBytes, what)
  let s: string
  try {
    s = utf8.decode(bytes)
  } catch {
    throw badMessage(`${what} is not valid UTF-8`)
  }
  if (pattern !== undefined && !pattern.test(s)) throw badMessage(`${what} does not match ${pattern}`)
  return s
}

/** A member id (see MEMBER_ID_PATTERN). */
export function readId(dec: Decoder, what = 'member id'): string {
  return readBoundedString(dec, MAX_ID_LENGTH, MEMBER_ID_PATTERN, what)
}

/**
 * A varuint count in [0, maxCount], then that many items. The count is also
 * checked against the bytes left (each item takes at least `minItemBytes`),
 * so a forged count fails at once instead of after a long loop.
 */
export function readArray<T>(dec: Decoder, maxCount: number, readItem: (dec: Decoder, i: number) => T, what = 'array', minItemBytes = 1): T[] {
  const n = readVarUint(dec, maxCount, `${what} count`)
  if (n * minItemBytes > dec.arr.length - dec.pos) throw badMessage(`truncated ${what}`)
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(readItem(dec, i))
  return out
}

/** Trailing bytes after a complete message are an error (they would be
 *  unauthenticated smuggled data, or a sign of a framing bug). */
export function expectEnd(dec: Decoder, what = 'message'): void {
  if (decoding.hasContent(dec)) throw badMessage(`trailing bytes after ${what}`)
}

/**
 * Decode a whole frame with `read`, then require the end. Any exception that
 * is not a WireError (a bug in `read`, or lib0 surprising us) becomes
 * BAD_MESSAGE: a peer's bytes must never crash the receiver.
 */
export function decodeWith<T>(bytes: Uint8Array, read: (dec: Decoder) => T, what = 'message'): T {
  if (!(bytes instanceof Uint8Array)) throw badMessage(`${what} is not bytes`)
  try {
    const dec = decoding.createDecoder(bytes)
    const value = read(dec)
    expectEnd(dec, what)
    return value
  } catch (err) {
    if (err instanceof WireError) throw err
    throw badMessage(`malformed ${what}`)
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
