// Fuzzing the decoders (invariant 6). For arbitrary bytes and for valid
// encodings damaged by bit flips, truncations, insertions, deletions and
// overwrites:
//   - a decoder either returns a value or throws WireError, never anything else;
//   - whatever it accepts re-encodes to exactly the bytes it came from (the
//     encoding is canonical) and decodes again to an equal value.
// Case counts are printed by the summary test; the total stays ≥ 100,000.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { WireError } from '../../src/wire/errors'
import { decodeRaftMessage, encodeRaftMessage, RAFT_MESSAGE_TYPES } from '../../src/wire/raft-codec'
import { decodeEnvelope, encodeEnvelope, openEnvelope, sealEnvelope, WIRE_VERSION } from '../../src/wire/envelope'
import { decodeControl, encodeControl } from '../../src/transport/control'
import { ReplayGuard, SealCounter } from '../../src/wire/replay'
import { deriveRoomKey } from '../../src/wire/room-key'
import { applyMutation, controlMessage, envelope, mutation, raftMessage } from './arbitraries'

let cases = 0
let accepted = 0

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
  accepted++
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
        { numRuns: 4_000 },
      )
    })
  }
})

const mutate = (bytes: Uint8Array, ms: readonly { m: Parameters<typeof applyMutation>[1]['m']; where: number }[]) => {
  let out = bytes
  for (const mu of ms) if (out.length > 0) out = applyMutation(out, mu)
  return out
}
const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 })

describe('fuzz: envelope', () => {
  const env = (b: Uint8Array) => checkDecoder(b, (x) => decodeEnvelope(x), encodeEnvelope)

  it('arbitrary bytes, and arbitrary bytes behind the right version byte', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, versioned) => void env(versioned ? new Uint8Array([WIRE_VERSION, ...b]) : b)), { numRuns: 10_000 })
  })

  it('mutated valid envelopes', () => {
    fc.assert(fc.property(envelope, mutations, (e, ms) => void env(mutate(encodeEnvelope(e), ms))), { numRuns: 15_000 })
  })
})

describe('fuzz: link control messages (hello with its key and challenge, proof, peers, relay)', () => {
  const c = (b: Uint8Array) => checkDecoder(b, decodeControl, encodeControl)

  it('arbitrary bytes and mutated valid control messages', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => void c(b)), { numRuns: 5_000 })
    fc.assert(fc.property(controlMessage, mutations, (m, ms) => void c(mutate(encodeControl(m), ms))), { numRuns: 5_000 })
  })
})

describe('fuzz: sealed envelopes', () => {
  it('a mutated sealed frame never opens and never throws anything but WireError', async () => {
    const key = await deriveRoomKey('fuzz secret', 'room')
    const counter = new SealCounter()
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 32 }), mutations, async (body, ms) => {
        const frame = await sealEnvelope(key, { kind: 1, sender: 'm1', body }, counter)
        const bad = mutate(frame, ms)
        cases++
        let err: unknown
        try {
          await openEnvelope(key, bad, new ReplayGuard())
        } catch (e) {
          err = e
        }
        // a mutation may leave the frame unchanged (e.g. overwrite with the same byte): then it must open
        if (bad.length === frame.length && bad.every((b, i) => b === frame[i])) expect(err).toBeUndefined()
        else expect(err).toBeInstanceOf(WireError)
      }),
      { numRuns: 3_000 },
    )
  })
})

// runs last (tests of a file run in order); skipped when a filter picks single tests
it('ran at least 100,000 cases in total', () => {
  console.log(`fuzz cases run: ${cases}, decoded successfully (and round-tripped): ${accepted}`)
  expect(cases).toBeGreaterThanOrEqual(100_000)
})
