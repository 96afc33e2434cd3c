// Member-key figures: `npx tsx test/wire/bench-member-key.ts`. What one side
// of a link's handshake costs for the member key (issue 13): one signature
// (its PROOF) and one verification of the peer's (id derivation, key import,
// verify). Prints, asserts nothing about speed (the machine is shared and noisy).
import { createMemberKey, deriveMemberId, signHello, verifyHello } from '../../src/wire/member-key'
import type { MemberKeyAlgorithm } from '../../src/wire/member-key'

const ROUNDS = 500

async function perHello(algorithm: MemberKeyAlgorithm): Promise<void> {
  const keyStart = performance.now()
  const ours = await createMemberKey(algorithm)
  const peer = await createMemberKey(algorithm)
  const keyMs = (performance.now() - keyStart) / 2
  const t = { room: 'bench', signer: `${peer.id}/t`, signerBrowser: 'b1', verifier: `${ours.id}/t`, attempt: 'a1b2c3', signerChallenge: new Uint8Array(32).fill(1), verifierChallenge: new Uint8Array(32).fill(2) }
  const peerSig = await signHello(peer, t)
  let signMs = 0
  let verifyMs = 0
  for (let i = 0; i < ROUNDS; i++) {
    const s0 = performance.now()
    await signHello(ours, { ...t, signer: t.verifier, signerBrowser: 'b1', verifier: t.signer })
    const s1 = performance.now()
    deriveMemberId(peer)
    await verifyHello(peer.id, peer, peerSig, t)
    const s2 = performance.now()
    signMs += s1 - s0
    verifyMs += s2 - s1
  }
  const us = (ms: number) => `${((ms / ROUNDS) * 1000).toFixed(0)} µs`
  console.log(`${algorithm.padEnd(10)} key pair ${(keyMs * 1000).toFixed(0)} µs · per hello: sign ${us(signMs)}, verify ${us(verifyMs)}, both ${us(signMs + verifyMs)} (${ROUNDS} rounds)`)
}

await perHello('Ed25519')
await perHello('ECDSA-P256')
