// The one checked reader of untrusted bytes, over lib0/decoding, shared by
// the wire codec and both pure cores (src/raft, src/tree). It imports nothing
// but lib0, so the cores may use it and stay pure; each layer maps
// DecodeError once, at its own decode boundary, to the error it exposes
// (WireError BAD_MESSAGE, TreeError BAD_ARGUMENTS, RaftError
// BAD_CONF_CHANGE_ENCODING).
//
// lib0's decoder trusts its input: readUint8 past the end yields undefined,
// readVarUint accepts overlong encodings and (on its last byte) numbers past
// 2^53, readUint8Array throws a plain Error, readVarString a TypeError or
// repairs invalid UTF-8. Every function here turns each of those into a
// DecodeError and checks a bound before anything is allocated or looped over.
//
// What must stay true: every read either returns a value inside its stated
// bound or throws DecodeError; and every value it accepts has exactly one
// encoding (varints minimal, booleans 0 or 1, strings valid UTF-8), so a
// decoded message re-encodes to the very bytes it came from.
import * as decoding from 'lib0/decoding'

export type Decoder = decoding.Decoder

/** Bytes that do not decode; `reason` says which field and why. */
export class DecodeError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'DecodeError'
  }
}

/** A varint read by lib0's `read`, refused if truncated or overlong (a varint
 *  whose last byte is zero has a shorter encoding: each value has one encoding). */
function readMinimalVar(dec: Decoder, read: (dec: Decoder) => number, what: string): number {
  const start = dec.pos
  let n: number
  try {
    n = read(dec)
  } catch {
    throw new DecodeError(`truncated ${what}`)
  }
  if (dec.pos - start > 1 && dec.arr[dec.pos - 1] === 0) throw new DecodeError(`overlong ${what}`)
  return n
}

/** A minimal varuint in [0, max] (max at most Number.MAX_SAFE_INTEGER). `what` names the field. */
export function readVarUint(dec: Decoder, max: number = Number.MAX_SAFE_INTEGER, what = 'integer'): number {
  const n = readMinimalVar(dec, decoding.readVarUint, what)
  if (!(Number.isSafeInteger(n) && n <= max)) throw new DecodeError(`${what} ${n} exceeds ${max}`)
  return n
}

/** A minimal signed varint, a safe integer in [min, max] (never -0). */
export function readVarInt(dec: Decoder, min: number, max: number, what = 'integer'): number {
  const n = readMinimalVar(dec, decoding.readVarInt, what)
  if (!Number.isSafeInteger(n) || n < min || n > max || Object.is(n, -0)) throw new DecodeError(`${what} ${n} out of range [${min}, ${max}]`)
  return n
}

/** One byte. */
export function readByte(dec: Decoder, what = 'byte'): number {
  if (dec.pos >= dec.arr.length) throw new DecodeError(`truncated ${what}`)
  return decoding.readUint8(dec)
}

/** A boolean is one byte, 0 or 1; anything else is malformed. */
export function readBool(dec: Decoder, what = 'boolean'): boolean {
  const b = readByte(dec, what)
  if (b > 1) throw new DecodeError(`${what} must be 0 or 1, got ${b}`)
  return b === 1
}

/** A varuint index into `values` (the symmetric writer is writeEnum). */
export function readEnum<T>(dec: Decoder, values: readonly T[], what = 'tag'): T {
  const i = readVarUint(dec, values.length - 1, what)
  return values[i] as T
}

/** Exactly `len` raw bytes as a view into the frame (no copy: the caller copies if it keeps them past the frame). */
export function readFixedBytesView(dec: Decoder, len: number, what = 'bytes'): Uint8Array {
  if (dec.arr.length - dec.pos < len) throw new DecodeError(`truncated ${what}`)
  const out = dec.arr.subarray(dec.pos, dec.pos + len)
  dec.pos += len
  return out
}

/** Length-prefixed bytes, at most `maxLen` long, as a view into the frame. */
export function readBytesView(dec: Decoder, maxLen: number, what = 'bytes'): Uint8Array {
  const len = readVarUint(dec, maxLen, `${what} length`)
  return readFixedBytesView(dec, len, what)
}

/** Exactly `len` raw bytes, copied out of the frame (so the frame's buffer
 *  can be released and the caller may keep the result). */
export function readFixedBytes(dec: Decoder, len: number, what = 'bytes'): Uint8Array {
  return readFixedBytesView(dec, len, what).slice()
}

/** Length-prefixed bytes, at most `maxLen` long, copied. */
export function readBytes(dec: Decoder, maxLen: number, what = 'bytes'): Uint8Array {
  return readBytesView(dec, maxLen, what).slice()
}

/**
 * A length-prefixed UTF-8 string of at most `maxBytes` bytes, optionally
 * matching `pattern` (anchor it: /^...$/). Invalid UTF-8 is malformed.
 */
export function readBoundedString(dec: Decoder, maxBytes: number, pattern?: RegExp, what = 'string'): string {
  const s = utf8(readBytesView(dec, maxBytes, what), what)
  if (pattern !== undefined && !pattern.test(s)) throw new DecodeError(`${what} does not match ${pattern}`)
  return s
}

/** A length-prefixed UTF-8 string of at most `maxChars` UTF-16 code units
 *  (a char takes at most 3 bytes: the byte length is bounded first). */
export function readCharBoundedString(dec: Decoder, maxChars: number, what = 'string'): string {
  const s = utf8(readBytesView(dec, maxChars * 3, what), what)
  if (s.length > maxChars) throw new DecodeError(`${what} longer than ${maxChars} chars`)
  return s
}

/**
 * A varuint count in [0, maxCount]. The count is also checked against the
 * bytes left (each item takes at least `minItemBytes`), so a forged count
 * fails at once instead of after a long loop.
 */
export function readCount(dec: Decoder, maxCount: number, what = 'array', minItemBytes = 1): number {
  const n = readVarUint(dec, maxCount, `${what} count`)
  if (n * minItemBytes > dec.arr.length - dec.pos) throw new DecodeError(`truncated ${what}`)
  return n
}

/** A count (see readCount), then that many items. */
export function readArray<T>(dec: Decoder, maxCount: number, readItem: (dec: Decoder, i: number) => T, what = 'array', minItemBytes = 1): T[] {
  const n = readCount(dec, maxCount, what, minItemBytes)
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(readItem(dec, i))
  return out
}

/** Trailing bytes after a complete message are an error (they would be
 *  unauthenticated smuggled data, or a sign of a framing bug). */
export function expectEnd(dec: Decoder, what = 'message'): void {
  if (decoding.hasContent(dec)) throw new DecodeError(`trailing bytes after ${what}`)
}

/**
 * Decode a whole buffer with `read`, then require the end. Errors `read`
 * throws itself pass through; any other exception (lib0 surprising us, or
 * a bug) becomes a DecodeError: a peer's bytes must never crash the receiver.
 * `isOwn` says which errors are the caller's layer's own.
 */
export function decodeAll<T>(bytes: Uint8Array, read: (dec: Decoder) => T, what: string, isOwn: (err: unknown) => boolean): T {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError(`${what} is not bytes`)
  try {
    const dec = decoding.createDecoder(bytes)
    const value = read(dec)
    expectEnd(dec, what)
    return value
  } catch (err) {
    if (err instanceof DecodeError || isOwn(err)) throw err
    throw new DecodeError(`malformed ${what}`)
  }
}

// fatal: invalid UTF-8 is garbage, not something to repair with U+FFFD
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function utf8(bytes: Uint8Array, what: string): string {
  // ASCII fast path: most paths and ids are short ASCII, and TextDecoder has a per-call cost
  if (bytes.length <= 256) {
    let ascii = true
    for (let i = 0; ascii && i < bytes.length; i++) if (bytes[i]! >= 0x80) ascii = false
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[])
  }
  try {
    return utf8Decoder.decode(bytes)
  } catch {
    throw new DecodeError(`${what} is not valid UTF-8`)
  }
}
