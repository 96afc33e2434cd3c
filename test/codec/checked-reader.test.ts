// The one checked reader (src/codec/checked-reader.ts) throws one error type,
// DecodeError, and each layer maps it once: raft conf changes to RaftError
// BAD_CONF_CHANGE_ENCODING, tree commands and snapshots to TreeError
// BAD_ARGUMENTS, wire reads to WireError BAD_MESSAGE.
import { describe, expect, it } from 'vitest'
import * as decoding from 'lib0/decoding'
import * as prng from 'lib0/prng'
import { DecodeError, decodeAll, readBool, readCharBoundedString, readCount, readVarInt, readVarUint } from '../../src/codec/checked-reader'
import { RaftError, decodeConfChange } from '../../src/raft/index'
import { decodeCommand } from '../../src/tree/command'
import { decodeState } from '../../src/tree/snapshot'
import { TreeError } from '../../src/tree/errors'
import { readVarUint as wireReadVarUint } from '../../src/wire/reader'
import { WireError } from '../../src/wire/errors'

const dec = (...b: number[]) => decoding.createDecoder(Uint8Array.from(b))
const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (err) {
    return err
  }
  return undefined
}

describe('the checked reader throws only DecodeError', () => {
  it('refuses truncation, overlong varints, out-of-range values, bad booleans, bad UTF-8, forged counts, trailing bytes', () => {
    const cases: (() => unknown)[] = [
      () => readVarUint(dec(0x80)),
      () => readVarUint(dec(0x81, 0x00)),
      () => readVarUint(dec(0x05), 4),
      () => readVarInt(dec(0x4b), -1, 10),
      () => readBool(dec(2)),
      () => readCharBoundedString(dec(2, 0xc3, 0x28), 10),
      () => readCharBoundedString(dec(3, 0x61, 0x62, 0x63), 2),
      () => readCount(dec(5, 0), 10),
      () => decodeAll(Uint8Array.of(1, 2), (d) => readVarUint(d), 'frame', () => false),
      () => decodeAll(Uint8Array.of(1), () => { throw new TypeError('a bug') }, 'frame', () => false),
    ]
    for (const f of cases) expect(thrown(f)).toBeInstanceOf(DecodeError)
    expect(readCharBoundedString(dec(2, 0xc3, 0xa9), 1)).toBe('é')
  })
})

describe('each layer maps DecodeError once to its own error', () => {
  it('wire reads throw WireError BAD_MESSAGE', () => {
    const err = thrown(() => wireReadVarUint(dec(0x81, 0x00)))
    expect(err).toBeInstanceOf(WireError)
    expect((err as WireError).code).toBe('BAD_MESSAGE')
  })

  it('random bytes: decodeConfChange throws only RaftError, decodeCommand and decodeState only TreeError BAD_ARGUMENTS', () => {
    const rng = prng.create(15)
    for (let i = 0; i < 3000; i++) {
      const bytes = prng.uint8Array(rng, prng.int32(rng, 0, 40))
      // a valid version byte half the time, so the reads go past it
      if (bytes.length > 0 && prng.bool(rng)) bytes[0] = 1
      const raft = thrown(() => decodeConfChange(bytes))
      if (raft !== undefined) expect((raft as RaftError).code).toBe('BAD_CONF_CHANGE_ENCODING')
      if (raft !== undefined) expect(raft).toBeInstanceOf(RaftError)
      for (const decode of [decodeCommand, decodeState]) {
        const tree = thrown(() => decode(bytes))
        if (tree !== undefined) {
          expect(tree).toBeInstanceOf(TreeError)
          expect((tree as TreeError).code).toBe('BAD_ARGUMENTS')
        }
      }
    }
  })

  it('a conf change with an overlong count or invalid UTF-8 node id is BAD_CONF_CHANGE_ENCODING', () => {
    for (const bytes of [Uint8Array.of(1, 0, 0x81, 0x00, 0, 1, 65), Uint8Array.of(1, 0, 1, 0, 2, 0xc3, 0x28)]) {
      const err = thrown(() => decodeConfChange(bytes))
      expect(err).toBeInstanceOf(RaftError)
      expect((err as RaftError).code).toBe('BAD_CONF_CHANGE_ENCODING')
    }
  })
})
