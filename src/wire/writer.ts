// Writing, symmetric to reader.ts, over lib0/encoding. Writers check what
// the readers will check on the other side, so that our own bug surfaces
// here (as WireError) instead of as a peer silently dropping our message.
import * as encoding from 'lib0/encoding'
import { badMessage } from './errors'
import { MAX_ID_LENGTH, MAX_WIRE_UINT, MEMBER_ID_PATTERN } from './limits'

export type Encoder = encoding.Encoder

export function writeVarUint(enc: Encoder, n: number, max: number = MAX_WIRE_UINT, what = 'integer'): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw badMessage(`cannot encode ${what} ${n}: not an integer in [0, ${max}]`)
  encoding.writeVarUint(enc, n)
}

export function writeByte(enc: Encoder, b: number): void {
  encoding.writeUint8(enc, b)
}

export function writeBool(enc: Encoder, b: boolean): void {
  encoding.writeUint8(enc, b ? 1 : 0)
}

export function writeEnum<T>(enc: Encoder, values: readonly T[], value: T, what = 'tag'): void {
  const i = values.indexOf(value)
  if (i < 0) throw badMessage(`cannot encode ${what} ${String(value)}`)
  encoding.writeVarUint(enc, i)
}

export function writeFixedBytes(enc: Encoder, bytes: Uint8Array): void {
  encoding.writeUint8Array(enc, bytes)
}

export function writeBytes(enc: Encoder, bytes: Uint8Array, maxLen: number, what = 'bytes'): void {
  if (bytes.length > maxLen) throw badMessage(`cannot encode ${what}: ${bytes.length} bytes exceed ${maxLen}`)
  encoding.writeVarUint8Array(enc, bytes)
}

export function writeBoundedString(enc: Encoder, s: string, maxBytes: number, pattern?: RegExp, what = 'string'): void {
  if (pattern !== undefined && !pattern.test(s)) throw badMessage(`cannot encode ${what}: does not match ${pattern}`)
  writeBytes(enc, utf8.encode(s), maxBytes, what)
}

export function writeId(enc: Encoder, id: string, what = 'member id'): void {
  writeBoundedString(enc, id, MAX_ID_LENGTH, MEMBER_ID_PATTERN, what)
}

export function writeArray<T>(enc: Encoder, items: readonly T[], maxCount: number, writeItem: (enc: Encoder, item: T) => void, what = 'array'): void {
  writeVarUint(enc, items.length, maxCount, `${what} count`)
  for (const item of items) writeItem(enc, item)
}

/** Build a frame: `encodeWith(enc => { ... })` returns its bytes. */
export function encodeWith(write: (enc: Encoder) => void): Uint8Array {
  const enc = encoding.createEncoder()
  write(enc)
  return encoding.toUint8Array(enc)
}

const utf8 = new TextEncoder()
