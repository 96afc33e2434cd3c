// The checked reader: every primitive refuses truncated and out-of-range
// input with WireError BAD_MESSAGE, and never lets another error escape.
import { describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { decodeWith, expectEnd, readArray, readBool, readBoundedString, readBytes, readEnum, readFixedBytes, readId, readVarUint } from '../../src/wire/reader'
import { encodeWith, writeArray, writeBool, writeBoundedString, writeBytes, writeEnum, writeId, writeVarUint } from '../../src/wire/writer'
import { bytes, expectWireError } from './helpers'

const dec = (b: Uint8Array) => decoding.createDecoder(b)

describe('reader', () => {
  it('readVarUint: bounds, truncation, overlong encodings', () => {
    expect(readVarUint(dec(bytes(0x7f)), 127)).toBe(127)
    expect(readVarUint(dec(bytes(0x80, 0x01)), 128)).toBe(128)
    expectWireError(() => readVarUint(dec(bytes(0x80, 0x01)), 127), 'BAD_MESSAGE', /exceeds 127/)
    expectWireError(() => readVarUint(dec(bytes(0x80))), 'BAD_MESSAGE', /truncated/)
    expectWireError(() => readVarUint(dec(bytes())), 'BAD_MESSAGE', /truncated/)
    expectWireError(() => readVarUint(dec(bytes(0x81, 0x00))), 'BAD_MESSAGE', /overlong/)
    // 2^53 needs 8 groups; lib0 returns an inexact number, we refuse it
    expectWireError(() => readVarUint(dec(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10))), 'BAD_MESSAGE', /exceeds/)
    expect(readVarUint(dec(encodeWith((e) => writeVarUint(e, Number.MAX_SAFE_INTEGER))))).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('readBool accepts only 0 and 1', () => {
    expect(readBool(dec(bytes(0)))).toBe(false)
    expect(readBool(dec(bytes(1)))).toBe(true)
    expectWireError(() => readBool(dec(bytes(2))), 'BAD_MESSAGE', /0 or 1/)
    expectWireError(() => readBool(dec(bytes())), 'BAD_MESSAGE', /truncated/)
  })

  it('readEnum maps an index into its values and refuses one past the end', () => {
    const values = ['a', 'b', 'c'] as const
    expect(readEnum(dec(bytes(2)), values)).toBe('c')
    expectWireError(() => readEnum(dec(bytes(3)), values), 'BAD_MESSAGE', /exceeds 2/)
  })

  it('readBytes and readFixedBytes: length bound, truncation, and a copy the caller owns', () => {
    const frame = bytes(3, 9, 8, 7)
    const out = readBytes(dec(frame), 3)
    expect(out).toEqual(bytes(9, 8, 7))
    frame[1] = 0
    expect(out[0]).toBe(9)
    expectWireError(() => readBytes(dec(bytes(4, 1, 2, 3, 4)), 3), 'BAD_MESSAGE', /length 4 exceeds 3/)
    expectWireError(() => readBytes(dec(bytes(3, 1, 2)), 3), 'BAD_MESSAGE', /truncated/)
    expectWireError(() => readFixedBytes(dec(bytes(1)), 2), 'BAD_MESSAGE', /truncated/)
  })

  it('readBoundedString: byte bound, pattern, valid UTF-8 only', () => {
    const s = encodeWith((e) => writeBoundedString(e, 'héllo', 10))
    expect(readBoundedString(dec(s), 10)).toBe('héllo')
    expectWireError(() => readBoundedString(dec(s), 5), 'BAD_MESSAGE', /exceeds 5/)
    expectWireError(() => readBoundedString(dec(s), 10, /^[a-z]+$/), 'BAD_MESSAGE', /does not match/)
    expectWireError(() => readBoundedString(dec(bytes(2, 0xc3, 0x28)), 10), 'BAD_MESSAGE', /UTF-8/)
    expectWireError(() => readBoundedString(dec(bytes(3, 0xed, 0xa0, 0x80)), 10), 'BAD_MESSAGE', /UTF-8/) // a lone surrogate
  })

  it('readId: 1..64 characters of [A-Za-z0-9_-]', () => {
    expect(readId(dec(encodeWith((e) => writeId(e, 'm_1-X'))))).toBe('m_1-X')
    for (const bad of ['', 'a'.repeat(65), 'a b', 'a/b', 'ü']) {
      const e = encoding.createEncoder()
      encoding.writeVarString(e, bad)
      expectWireError(() => readId(dec(encoding.toUint8Array(e))), 'BAD_MESSAGE')
    }
  })

  it('readArray: count bound, and a count the remaining bytes cannot hold', () => {
    const b = encodeWith((e) => writeArray(e, [1, 2, 3], 10, (x, n) => writeVarUint(x, n)))
    expect(readArray(dec(b), 10, (d) => readVarUint(d))).toEqual([1, 2, 3])
    expectWireError(() => readArray(dec(b), 2, (d) => readVarUint(d)), 'BAD_MESSAGE', /count 3 exceeds 2/)
    expectWireError(() => readArray(dec(bytes(100, 1, 2)), 1000, (d) => readVarUint(d)), 'BAD_MESSAGE', /truncated/)
  })

  it('expectEnd and decodeWith refuse trailing bytes', () => {
    const d = dec(bytes(1, 2))
    readBool(d)
    expectWireError(() => expectEnd(d), 'BAD_MESSAGE', /trailing/)
    expectWireError(() => decodeWith(bytes(1, 2), (x) => readBool(x)), 'BAD_MESSAGE', /trailing/)
    expect(decodeWith(bytes(1), (x) => readBool(x))).toBe(true)
  })

  it('decodeWith turns any stray exception into BAD_MESSAGE', () => {
    expectWireError(
      () =>
        decodeWith(bytes(1), () => {
          throw new RangeError('a bug in a reader')
        }),
      'BAD_MESSAGE',
      /malformed/,
    )
    expectWireError(() => decodeWith('not bytes' as unknown as Uint8Array, (x) => readBool(x)), 'BAD_MESSAGE', /not bytes/)
  })
})

describe('writer', () => {
  it('refuses what the reader would refuse', () => {
    expectWireError(() => encodeWith((e) => writeVarUint(e, -1)))
    expectWireError(() => encodeWith((e) => writeVarUint(e, 0.5)))
    expectWireError(() => encodeWith((e) => writeVarUint(e, 11, 10)))
    expectWireError(() => encodeWith((e) => writeBytes(e, bytes(1, 2, 3), 2)))
    expectWireError(() => encodeWith((e) => writeId(e, 'no spaces')))
    expectWireError(() => encodeWith((e) => writeEnum(e, ['a'], 'b')))
  })

  it('writes booleans as one byte 0/1', () => {
    expect(encodeWith((e) => writeBool(e, true))).toEqual(bytes(1))
    expect(encodeWith((e) => writeBool(e, false))).toEqual(bytes(0))
  })
})
