import { describe, expect, it } from 'vitest'
import { decodeControl, encodeControl, parseSignalingId, signalingId } from '../../src/transport/control'
import type { ControlMessage } from '../../src/transport/control'
import { parseSignal } from '../../src/transport/mesh-transport'
import { WireError } from '../../src/wire/errors'

describe('control messages', () => {
  it('round-trip every kind', () => {
    const msgs: ControlMessage[] = [
      { type: 'hello', hello: { member: 'm1', tab: 'tab-1', browser: 'b_1' } },
      { type: 'peers', peers: ['a/t', 'b/t'] },
      { type: 'peers', peers: [] },
      { type: 'relay', to: 'a/t', from: 'b/t', text: '{"a":"x","k":"knock"}' },
      { type: 'sealedHello', text: 'abc_-' },
      { type: 'hello', hello: { member: 'm1', tab: 'tab-1', browser: 'b_1' }, challenge: new Uint8Array(32).fill(9) },
      { type: 'proof', proof: new Uint8Array(32).fill(4) },
    ]
    for (const m of msgs) expect(decodeControl(encodeControl(m))).toEqual(m)
  })

  it('refuse bad ids, unknown tags, trailing bytes, truncation — always as WireError', () => {
    const hello = encodeControl({ type: 'hello', hello: { member: 'm', tab: 't', browser: 'b' } })
    const bad = [Uint8Array.of(9), Uint8Array.of(), hello.subarray(0, hello.length - 1), Uint8Array.of(...hello, 0)]
    for (const bytes of bad) expect(() => decodeControl(bytes)).toThrow(WireError)
    expect(() => encodeControl({ type: 'hello', hello: { member: 'has space', tab: 't', browser: 'b' } })).toThrow(WireError)
    expect(() => encodeControl({ type: 'peers', peers: ['no slash?'] })).toThrow(WireError)
  })

  it('a challenge is 32 bytes or absent, a proof exactly 32 bytes', () => {
    const hello = { member: 'm', tab: 't', browser: 'b' }
    expect(() => encodeControl({ type: 'hello', hello, challenge: new Uint8Array(31) })).toThrow(WireError)
    expect(() => encodeControl({ type: 'proof', proof: new Uint8Array(33) })).toThrow(WireError)
    const withChallenge = encodeControl({ type: 'hello', hello, challenge: new Uint8Array(32) })
    const plain = encodeControl({ type: 'hello', hello })
    // a claimed challenge of another length, and a proof cut short
    const claims16 = Uint8Array.of(...plain.subarray(0, plain.length - 1), 16, ...new Uint8Array(16))
    const proof = encodeControl({ type: 'proof', proof: new Uint8Array(32) })
    for (const bytes of [claims16, withChallenge.subarray(0, withChallenge.length - 1), proof.subarray(0, 20)]) expect(() => decodeControl(bytes)).toThrow(WireError)
  })

  it('a hello of another control version is refused, not half read', () => {
    const hello = encodeControl({ type: 'hello', hello: { member: 'm', tab: 't', browser: 'b' } })
    const v1 = Uint8Array.of(hello[0]!, 1, ...hello.subarray(2))
    expect(() => decodeControl(v1)).toThrow(/hello version 1/)
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
