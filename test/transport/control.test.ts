import { describe, expect, it } from 'vitest'
import { decodeControl, encodeControl, parseSignalingId, signalingId } from '../../src/transport/control'
import type { ControlMessage } from '../../src/transport/control'
import { parseSignal } from '../../src/transport/signal-parse'
import { WireError } from '../../src/wire/errors'

const key = { algorithm: 'Ed25519' as const, publicKey: new Uint8Array(32).fill(7) }
const p256 = { algorithm: 'ECDSA-P256' as const, publicKey: new Uint8Array(65).fill(4) }
const challenge = new Uint8Array(32).fill(9)

describe('control messages', () => {
  it('round-trip every kind', () => {
    const msgs: ControlMessage[] = [
      { type: 'hello', hello: { member: 'm1', tab: 'tab-1', browser: 'b_1' }, key, challenge },
      { type: 'peers', peers: ['a/t', 'b/t'] },
      { type: 'peers', peers: [] },
      { type: 'relay', to: 'a/t', from: 'b/t', text: '{"a":"x","k":"knock"}' },
      { type: 'sealedHello', text: 'abc_-' },
      { type: 'hello', hello: { member: 'm1', tab: 'tab-1', browser: 'b_1' }, key: p256, challenge },
      { type: 'proof', proof: new Uint8Array(32).fill(4), signature: new Uint8Array(64).fill(5) },
      { type: 'proof', signature: new Uint8Array(64).fill(5) },
    ]
    for (const m of msgs) expect(decodeControl(encodeControl(m))).toEqual(m)
  })

  it('refuse bad ids, unknown tags, trailing bytes, truncation — always as WireError', () => {
    const hello = encodeControl({ type: 'hello', hello: { member: 'm', tab: 't', browser: 'b' }, key, challenge })
    const bad = [Uint8Array.of(9), Uint8Array.of(), hello.subarray(0, hello.length - 1), Uint8Array.of(...hello, 0)]
    for (const bytes of bad) expect(() => decodeControl(bytes)).toThrow(WireError)
    expect(() => encodeControl({ type: 'hello', hello: { member: 'has space', tab: 't', browser: 'b' }, key, challenge })).toThrow(WireError)
    expect(() => encodeControl({ type: 'peers', peers: ['no slash?'] })).toThrow(WireError)
  })

  it('a challenge is 32 bytes, a key as long as its algorithm says, a proof 32 bytes or none, a signature at most 64', () => {
    const hello = { member: 'm', tab: 't', browser: 'b' }
    expect(() => encodeControl({ type: 'hello', hello, key, challenge: new Uint8Array(31) })).toThrow(WireError)
    expect(() => encodeControl({ type: 'hello', hello, key: { algorithm: 'Ed25519', publicKey: new Uint8Array(65) }, challenge })).toThrow(WireError)
    expect(() => encodeControl({ type: 'proof', proof: new Uint8Array(33), signature: new Uint8Array(64) })).toThrow(WireError)
    expect(() => encodeControl({ type: 'proof', signature: new Uint8Array(65) })).toThrow(WireError)
    const good = encodeControl({ type: 'hello', hello, key, challenge })
    // an unknown key algorithm, a hello cut short, a proof that claims 16 bytes, a proof cut short
    const unknownAlg = Uint8Array.of(...good.subarray(0, 8), 2, ...good.subarray(9))
    expect(good[8]).toBe(0) // the algorithm's tag: after tag, version and three 1-char ids
    const proof = encodeControl({ type: 'proof', proof: new Uint8Array(32), signature: new Uint8Array(64) })
    const claims16 = Uint8Array.of(proof[0]!, 16, ...new Uint8Array(16), 64, ...new Uint8Array(64))
    for (const bytes of [unknownAlg, good.subarray(0, good.length - 1), claims16, proof.subarray(0, 20)]) expect(() => decodeControl(bytes)).toThrow(WireError)
  })

  it('a hello of another control version is refused, not half read', () => {
    const hello = encodeControl({ type: 'hello', hello: { member: 'm', tab: 't', browser: 'b' }, key, challenge })
    const v2 = Uint8Array.of(hello[0]!, 2, ...hello.subarray(2))
    expect(() => decodeControl(v2)).toThrow(/hello version 2/)
  })

  it('signaling ids are member/tab', () => {
    expect(signalingId({ member: 'm', tab: 't' })).toBe('m/t')
    expect(parseSignalingId('m/t')).toEqual({ member: 'm', tab: 't' })
    expect(parseSignalingId('m')).toBeNull()
    expect(parseSignalingId('m/t/x')).toBeNull()
    expect(parseSignalingId('/t')).toBeNull()
  })
})

describe('signal payloads from a channel are checked', () => {
  it('accepts knocks, offers, answers and candidates', () => {
    expect(parseSignal({ a: 'knock', k: 'knock' })).toEqual({ a: 'knock', k: 'knock' })
    expect(parseSignal({ a: 'abc123', k: 'sdp', s: { type: 'offer', sdp: 'v=0' } })).not.toBeNull()
    expect(parseSignal({ a: 'abc123', k: 'sdp', s: { type: 'answer', sdp: 'v=0' } })).not.toBeNull()
    expect(parseSignal({ a: 'abc123', k: 'sdp', s: { type: 'candidate', candidate: { candidate: 'c' } } })).not.toBeNull()
  })

  it('refuses anything else', () => {
    for (const bad of [null, [], 'x', {}, { a: 1, k: 'sdp' }, { a: 'a', k: 'other' }, { a: 'a!', k: 'sdp', s: { type: 'offer', sdp: '' } }, { a: 'a', k: 'sdp', s: { type: 'offer' } }, { a: 'a', k: 'sdp', s: { type: 'pranswer', sdp: '' } }, { a: 'a', k: 'sdp', s: { type: 'offer', sdp: 'x'.repeat(20_000) } }]) {
      expect(parseSignal(bad)).toBeNull()
    }
  })
})
