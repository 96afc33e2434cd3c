// Member keys (issue 13): the id is the key's, the hello signature covers the
// link's challenges, both ends and the attempt, and nothing else verifies.
import { describe, expect, it } from 'vitest'
import { WireError } from '../../src/wire/errors'
import { MEMBER_ID_PATTERN } from '../../src/wire/limits'
import { createMemberKey, deriveMemberId, isMemberKey, KEYED_MEMBER_ID, signHello, verifyHello } from '../../src/wire/member-key'
import type { HelloTranscript } from '../../src/wire/member-key'

const transcript = (): HelloTranscript => ({
  room: 'room',
  signer: 'ka/t1',
  signerBrowser: 'b1',
  verifier: 'kb/t2',
  attempt: 'abc123',
  signerChallenge: new Uint8Array(32).fill(1),
  verifierChallenge: new Uint8Array(32).fill(2),
})

describe('member keys', () => {
  for (const algorithm of ['Ed25519', 'ECDSA-P256'] as const) {
    it(`${algorithm}: the id derives from the public key, a member id; the private key cannot be read`, async () => {
      const key = await createMemberKey(algorithm)
      expect(key.algorithm).toBe(algorithm)
      expect(key.id).toBe(deriveMemberId(key))
      expect(key.id).toMatch(MEMBER_ID_PATTERN)
      expect(key.id).toMatch(KEYED_MEMBER_ID)
      expect(key.privateKey.extractable).toBe(false)
      expect(isMemberKey(key)).toBe(true)
      expect(isMemberKey({ ...key, id: 'k' + 'a'.repeat(32) })).toBe(false)
    })

    it(`${algorithm}: a signature verifies for its transcript only`, async () => {
      const key = await createMemberKey(algorithm)
      const t = transcript()
      const sig = await signHello(key, t)
      await expect(verifyHello(key.id, key, sig, t)).resolves.toBeUndefined()
      const changed: HelloTranscript[] = [
        { ...t, room: 'other' },
        { ...t, signer: 'kc/t1' },
        { ...t, signerBrowser: 'b2' },
        { ...t, verifier: 'ka/t1' },
        { ...t, attempt: 'abc124' },
        { ...t, signerChallenge: new Uint8Array(32).fill(3) },
        { ...t, verifierChallenge: new Uint8Array(32).fill(3) },
        // the two challenges swapped: a signature is not reflected back
        { ...t, signerChallenge: t.verifierChallenge, verifierChallenge: t.signerChallenge },
      ]
      for (const other of changed) await expect(verifyHello(key.id, key, sig, other)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    })
  }

  it('an id is not borrowed: another key, a wrong signature, or a malformed key is UNAUTHORIZED', async () => {
    const honest = await createMemberKey()
    const impostor = await createMemberKey()
    const t = transcript()
    const sig = await signHello(impostor, t)
    // the impostor's key under the honest id
    await expect(verifyHello(honest.id, impostor, sig, t)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    // the honest public key, the impostor's signature
    await expect(verifyHello(honest.id, honest, sig, t)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(verifyHello(honest.id, honest, sig.subarray(0, 63), t)).rejects.toBeInstanceOf(WireError)
    const offCurve = { algorithm: 'ECDSA-P256' as const, publicKey: new Uint8Array(65).fill(4) }
    await expect(verifyHello(deriveMemberId(offCurve), offCurve, new Uint8Array(64), t)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('the same public key under another algorithm is another id', () => {
    const publicKey = new Uint8Array(32).fill(7)
    expect(deriveMemberId({ algorithm: 'Ed25519', publicKey })).not.toBe(deriveMemberId({ algorithm: 'ECDSA-P256', publicKey }))
  })
})
