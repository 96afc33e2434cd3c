// Challenge-response proof that a peer knows the room secret, without
// revealing it (issue 5: peers that cannot prove it do not join).
//
//   proof = HMAC-SHA-256(roomKey.proof, "meshkeeper/proof/v1\0" · room tag ·
//                        len·prover · len·verifier · challenge)
//
// The verifier's fresh random challenge makes an old proof useless; naming
// prover and verifier stops a man in the middle from reflecting A's challenge
// back to A, or relaying B's answer as its own to a third member.
//
// How the transport uses it (src/transport/mesh-transport.ts, through
// LinkSecurity; one extra one-way trip on every new link, before the link is
// handed to the node):
//   1. each side sends its HELLO control message, sealed under the room key,
//      with its PeerHello and `challenge = createChallenge()`;
//   2. on the peer's hello, each side answers
//      `proveMembership(key, peerHello.challenge, self.member, peer.member)`
//      in a PROOF control message (after its own hello);
//   3. on the peer's proof: `await verifyProof(key, myChallenge, peer.member,
//      self.member, proof)`; on WireError UNAUTHORIZED close the link and
//      report it; on success the link opens;
//   4. from then on every message on the link is sealed (sealEnvelope) with
//      `binding = linkBinding(myChallenge, peerChallenge)`, so a frame
//      recorded on one link never opens on another.
// Challenges and proofs travel on the data channel only, never through
// signaling; no one sees the secret or the key.
import * as encoding from 'lib0/encoding'
import { WireError } from './errors'
import type { RoomKey } from './room-key'
import { toBufferSource } from './room-key'

export const CHALLENGE_BYTES = 32
export const PROOF_BYTES = 32

/** A fresh random challenge for one link. */
export function createChallenge(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES))
}

function proofInput(key: RoomKey, challenge: Uint8Array, prover: string, verifier: string): Uint8Array<ArrayBuffer> {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, 'meshkeeper/proof/v1')
  encoding.writeUint8Array(enc, key.tag)
  encoding.writeVarString(enc, prover)
  encoding.writeVarString(enc, verifier)
  encoding.writeVarUint8Array(enc, challenge)
  return toBufferSource(encoding.toUint8Array(enc))
}

/** Prove to `verifier` that `prover` (us) holds the room key. */
export async function proveMembership(key: RoomKey, challenge: Uint8Array, prover: string, verifier: string): Promise<Uint8Array> {
  if (challenge.length !== CHALLENGE_BYTES) throw new WireError('BAD_MESSAGE', `challenge must be ${CHALLENGE_BYTES} bytes`)
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key.proof, proofInput(key, challenge, prover, verifier)))
}

/** Check a peer's proof for the challenge we sent it; throws WireError
 *  UNAUTHORIZED unless it is right. The comparison is WebCrypto's (constant time). */
export async function verifyProof(key: RoomKey, challenge: Uint8Array, prover: string, verifier: string, proof: Uint8Array): Promise<void> {
  if (challenge.length !== CHALLENGE_BYTES || proof.length !== PROOF_BYTES) throw new WireError('UNAUTHORIZED', 'membership proof malformed')
  const ok = await globalThis.crypto.subtle.verify('HMAC', key.proof, toBufferSource(proof), proofInput(key, challenge, prover, verifier))
  if (!ok) throw new WireError('UNAUTHORIZED', 'membership proof does not verify')
}

/** The link's binding: both challenges, ordered so both ends compute the
 *  same bytes. Passed to sealEnvelope/openEnvelope for every frame. */
export function linkBinding(a: Uint8Array, b: Uint8Array): Uint8Array {
  const first = compareBytes(a, b) <= 0 ? a : b
  const second = first === a ? b : a
  const out = new Uint8Array(first.length + second.length)
  out.set(first)
  out.set(second, first.length)
  return out
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
