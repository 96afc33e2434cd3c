// The room secret (issue 5): keys from (secret, room), authenticated
// encryption, sealed signaling text, membership proofs.
import { beforeAll, describe, expect, it } from 'vitest'
import { deriveRoomKey, MIN_PBKDF2_ITERATIONS, roomTag } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { open, openText, seal, SEAL_OVERHEAD, sealText } from '../../src/wire/seal'
import { createChallenge, linkBinding, proveMembership, verifyProof } from '../../src/wire/membership-proof'
import { bytes, expectWireErrorAsync } from './helpers'

let key: RoomKey // ('correct horse', 'room-a')
let sameAgain: RoomKey // derived again from the same inputs
let wrongSecret: RoomKey // ('wrong horse', 'room-a')
let wrongRoom: RoomKey // ('correct horse', 'room-b')

beforeAll(async () => {
  ;[key, sameAgain, wrongSecret, wrongRoom] = await Promise.all([
    deriveRoomKey('correct horse', 'room-a'),
    deriveRoomKey('correct horse', 'room-a'),
    deriveRoomKey('wrong horse', 'room-a'),
    deriveRoomKey('correct horse', 'room-b'),
  ])
})

const aad = bytes(1, 2, 3)
const plaintext = new TextEncoder().encode('set /config 42')

describe('room key', () => {
  it('is the same for the same (secret, room): a member derived separately opens our seal', async () => {
    expect(await open(sameAgain, await seal(key, plaintext, aad), aad)).toEqual(plaintext)
  })

  it('tags rooms apart without the secret', () => {
    expect(key.tag).toEqual(roomTag('room-a'))
    expect(roomTag('room-a')).not.toEqual(roomTag('room-b'))
    expect(roomTag('room-a').length).toBe(8)
  })

  it('refuses an empty secret and too few PBKDF2 rounds', async () => {
    await expectWireErrorAsync(() => deriveRoomKey('', 'room-a'), 'BAD_MESSAGE', /empty/)
    await expectWireErrorAsync(() => deriveRoomKey('s', 'room-a', { iterations: MIN_PBKDF2_ITERATIONS - 1 }), 'BAD_MESSAGE', /iterations/)
  })

  it('keeps its keys non-extractable', () => {
    expect(key.aead.extractable).toBe(false)
    expect(key.proof.extractable).toBe(false)
  })
})

describe('seal / open', () => {
  it('round-trips, adding SEAL_OVERHEAD bytes, with a fresh nonce each time', async () => {
    const a = await seal(key, plaintext, aad)
    const b = await seal(key, plaintext, aad)
    expect(a.length).toBe(plaintext.length + SEAL_OVERHEAD)
    expect(a).not.toEqual(b)
    expect(await open(key, a, aad)).toEqual(plaintext)
    expect(await open(key, b, aad)).toEqual(plaintext)
    expect(await open(key, await seal(key, new Uint8Array(0), aad), aad)).toEqual(new Uint8Array(0))
  })

  it('hides the plaintext', async () => {
    const sealed = await seal(key, plaintext, aad)
    expect(Buffer.from(sealed).includes(Buffer.from('config'))).toBe(false)
  })

  it('a wrong secret is UNAUTHORIZED', async () => {
    await expectWireErrorAsync(async () => open(wrongSecret, await seal(key, plaintext, aad), aad), 'UNAUTHORIZED')
  })

  it('a wrong room is UNAUTHORIZED', async () => {
    await expectWireErrorAsync(async () => open(wrongRoom, await seal(key, plaintext, aad), aad), 'UNAUTHORIZED')
  })

  it('a different aad is UNAUTHORIZED', async () => {
    await expectWireErrorAsync(async () => open(key, await seal(key, plaintext, aad), bytes(1, 2, 4)), 'UNAUTHORIZED')
  })

  it('every single flipped bit (nonce, ciphertext, tag) is UNAUTHORIZED', async () => {
    const sealed = await seal(key, bytes(7, 7), aad)
    for (let i = 0; i < sealed.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = sealed.slice()
        bad[i] = (bad[i] as number) ^ (1 << bit)
        await expectWireErrorAsync(() => open(key, bad, aad), 'UNAUTHORIZED')
      }
    }
  })

  it('truncations are UNAUTHORIZED', async () => {
    const sealed = await seal(key, plaintext, aad)
    for (const n of [0, 11, 12, SEAL_OVERHEAD - 1, SEAL_OVERHEAD, sealed.length - 1]) {
      await expectWireErrorAsync(() => open(key, sealed.slice(0, n), aad), 'UNAUTHORIZED')
    }
  })
})

describe('sealed signaling text', () => {
  const offer = JSON.stringify({ type: 'offer', sdp: 'v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\n' })

  it('round-trips as base64url', async () => {
    const sealed = await sealText(key, offer, 'signal:m1->m2')
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(await openText(sameAgain, sealed, 'signal:m1->m2')).toBe(offer)
  })

  it('refuses another context, another secret, a changed character', async () => {
    const sealed = await sealText(key, offer, 'signal:m1->m2')
    await expectWireErrorAsync(() => openText(key, sealed, 'signal:m1->m3'), 'UNAUTHORIZED')
    await expectWireErrorAsync(() => openText(wrongSecret, sealed, 'signal:m1->m2'), 'UNAUTHORIZED')
    const i = 20
    const changed = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1)
    await expectWireErrorAsync(() => openText(key, changed, 'signal:m1->m2'), 'UNAUTHORIZED')
  })

  it('refuses text that is not base64url as BAD_MESSAGE', async () => {
    await expectWireErrorAsync(() => openText(key, 'abc+/==', 'c'), 'BAD_MESSAGE', /base64url/)
    await expectWireErrorAsync(() => openText(key, 'a', 'c'), 'BAD_MESSAGE', /base64url/)
    await expectWireErrorAsync(() => openText(key, 'A'.repeat(200_000), 'c'), 'BAD_MESSAGE', /too long/)
  })
})

describe('membership proof', () => {
  it('a member proves it holds the key for the verifier’s challenge', async () => {
    const challenge = createChallenge()
    const proof = await proveMembership(sameAgain, challenge, 'm2', 'm1')
    await verifyProof(key, challenge, 'm2', 'm1', proof)
  })

  it('a peer with another secret or room cannot prove membership', async () => {
    const challenge = createChallenge()
    await expectWireErrorAsync(async () => verifyProof(key, challenge, 'm2', 'm1', await proveMembership(wrongSecret, challenge, 'm2', 'm1')), 'UNAUTHORIZED')
    await expectWireErrorAsync(async () => verifyProof(key, challenge, 'm2', 'm1', await proveMembership(wrongRoom, challenge, 'm2', 'm1')), 'UNAUTHORIZED')
  })

  it('a proof is good for one challenge only', async () => {
    const proof = await proveMembership(key, createChallenge(), 'm2', 'm1')
    await expectWireErrorAsync(() => verifyProof(key, createChallenge(), 'm2', 'm1', proof), 'UNAUTHORIZED')
  })

  it('a proof cannot be reflected back or relayed to another verifier', async () => {
    const challenge = createChallenge()
    const proof = await proveMembership(key, challenge, 'm2', 'm1')
    await expectWireErrorAsync(() => verifyProof(key, challenge, 'm1', 'm2', proof), 'UNAUTHORIZED')
    await expectWireErrorAsync(() => verifyProof(key, challenge, 'm2', 'm3', proof), 'UNAUTHORIZED')
  })

  it('a malformed proof is UNAUTHORIZED', async () => {
    await expectWireErrorAsync(() => verifyProof(key, createChallenge(), 'm2', 'm1', bytes(1, 2, 3)), 'UNAUTHORIZED', /malformed/)
  })

  it('both ends of a link compute the same binding', () => {
    const a = createChallenge()
    const b = createChallenge()
    expect(linkBinding(a, b)).toEqual(linkBinding(b, a))
    expect(linkBinding(a, b).length).toBe(64)
  })
})
