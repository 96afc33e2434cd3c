// Fuzzing the decoders (invariant 6). For arbitrary bytes and for valid
// encodings damaged by bit flips, truncations, insertions, deletions and
// overwrites:
//   - a decoder either returns a value or throws WireError, never anything else;
//   - whatever it accepts re-encodes to exactly the bytes it came from (the
//     encoding is canonical) and decodes again to an equal value.
// Case counts are printed by the summary test; the total stays ≥ 100,000.
import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { WireError } from '../../src/wire/errors'
import { decodeRaftMessage, encodeRaftMessage, RAFT_MESSAGE_TYPES } from '../../src/wire/raft-codec'
import { applyMutation, mutation, raftMessage } from './arbitraries'

let cases = 0

/** Decode `bytes`; on success check the canonical round trip. Returns whether it was accepted. */
function checkDecoder<T>(bytes: Uint8Array, decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array): boolean {
  cases++
  let value: T
  try {
    value = decode(bytes)
  } catch (err) {
    if (!(err instanceof WireError)) throw new Error(`decoder threw a non-WireError: ${String(err)}`)
    return false
  }
  const again = encode(value)
  expect(again).toEqual(bytes)
  expect(decode(again)).toEqual(value)
  return true
}

const raft = (b: Uint8Array) => checkDecoder(b, decodeRaftMessage, encodeRaftMessage)

describe('fuzz: raft codec', () => {
  it('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void raft(b)), { numRuns: 15_000 })
  })

  it('arbitrary bytes after a valid header prefix (reach the per-type rules)', () => {
    const prefix = fc.constantFrom(...RAFT_MESSAGE_TYPES).map((t) => encodeRaftMessage({ type: t, from: 'm1', to: 'm2', term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, context: null, snapshot: null }).slice(0, -1))
    fc.assert(fc.property(prefix, fc.uint8Array({ maxLength: 48 }), (p, tail) => void raft(new Uint8Array([...p, ...tail]))), { numRuns: 15_000 })
  })

  for (const type of RAFT_MESSAGE_TYPES) {
    it(`mutated valid ${type}`, () => {
      fc.assert(
        fc.property(raftMessage(type), fc.array(mutation, { minLength: 1, maxLength: 3 }), (m, ms) => {
          let bytes = encodeRaftMessage(m)
          for (const mu of ms) if (bytes.length > 0) bytes = applyMutation(bytes, mu)
          raft(bytes)
        }),
        { numRuns: 3_000 },
      )
    })
  }
})

afterAll(() => {
  console.log(`fuzz cases run: ${cases}`)
})
