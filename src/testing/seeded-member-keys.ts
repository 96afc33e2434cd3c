// Member keys for the simulator (a MemberKeyScheme, src/wire/member-key.ts).
// WebCrypto signs on real time, outside the virtual clock, so a seeded run
// would depend on the machine; these keys sign synchronously from a seeded
// PRNG, and MeshTransport runs its real hello/proof handshake with them.
//
// The model is a signing oracle: the keyring is the only place that knows a
// key's secret, and it signs only for the holder of the key object it handed
// out (the `privateKey` token, checked by identity). So the property the
// handshake rests on holds inside the simulated world: a peer that shows
// another member's public key, or makes up a key object of its own, or
// alters a signature, fails verification (UNAUTHORIZED).
//
// Unlike real keys, ids are not hashes: the keyring gives member `m1` a key
// whose id is `m1` (simulated clusters and their tests name members m1, m2,
// …), and one id gets one key for the life of the keyring.
import * as prng from 'lib0/prng'
import { digest } from 'lib0/hash/sha256'
import { WireError } from '../wire/errors'
import { helloTranscriptBytes, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../wire/member-key'
import type { HelloTranscript, MemberKey, MemberKeyScheme, MemberPublicKey } from '../wire/member-key'

interface Held {
  id: string
  secret: Uint8Array
  /** the token handed out as the key's privateKey: only its holder can sign */
  token: object
}

const ALGORITHM = 'Ed25519'

export class SeededKeyring implements MemberKeyScheme {
  private readonly byId = new Map<string, MemberKey>()
  /** public key (hex) -> its secret and owner */
  private readonly byPublic = new Map<string, Held>()

  constructor(private readonly gen: prng.PRNG) {}

  /** The key of member `id` (made on first use, the same afterwards). */
  keyFor(id: string): MemberKey {
    const known = this.byId.get(id)
    if (known !== undefined) return known
    const publicKey = prng.uint8Array(this.gen, PUBLIC_KEY_BYTES[ALGORITHM])
    const held: Held = { id, secret: prng.uint8Array(this.gen, 32), token: Object.freeze({ simulated: id }) }
    this.byPublic.set(hex(publicKey), held)
    // the token stands where a non-extractable CryptoKey would: opaque, usable only through the keyring
    const key: MemberKey = { algorithm: ALGORITHM, publicKey, id, privateKey: held.token as CryptoKey }
    this.byId.set(id, key)
    return key
  }

  /** the owner of a key this keyring made; a key it never made owns no id */
  deriveId(key: MemberPublicKey): string {
    return this.byPublic.get(hex(key.publicKey))?.id ?? ''
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a throw rejects, as the MemberKeyStore contract promises
  async sign(key: MemberKey, t: HelloTranscript): Promise<Uint8Array> {
    const held = this.byPublic.get(hex(key.publicKey))
    // eslint-disable-next-line @typescript-eslint/prefer-optional-chain -- key may come from untyped JavaScript: an undefined privateKey must not match a missing key
    if (held === undefined || held.token !== key.privateKey) throw new WireError('UNAUTHORIZED', 'not a key this keyring handed out')
    return signature(held.secret, t)
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a throw rejects, as the MemberKeyStore contract promises
  async verify(member: string, key: MemberPublicKey, sig: Uint8Array, t: HelloTranscript): Promise<void> {
    const held = this.byPublic.get(hex(key.publicKey))
    // eslint-disable-next-line @typescript-eslint/prefer-optional-chain -- member may come from untyped JavaScript: an undefined id must not match a missing key
    if (held === undefined || held.id !== member || key.algorithm !== ALGORITHM) throw new WireError('UNAUTHORIZED', `${member} is not the id of the key shown`)
    const expected = signature(held.secret, t)
    if (sig.length !== expected.length || !sig.every((b, i) => b === expected[i])) throw new WireError('UNAUTHORIZED', `hello signature of ${member} does not verify`)
  }
}

/** a keyed hash of the transcript, SIGNATURE_BYTES long: only the secret's holder can make it */
function signature(secret: Uint8Array, t: HelloTranscript): Uint8Array {
  const transcript = helloTranscriptBytes(t)
  const out = new Uint8Array(SIGNATURE_BYTES[ALGORITHM])
  for (let half = 0; half * 32 < out.length; half++) {
    const input = new Uint8Array(secret.length + 1 + transcript.length)
    input.set(secret)
    input[secret.length] = half
    input.set(transcript, secret.length + 1)
    out.set(digest(input).subarray(0, Math.min(32, out.length - half * 32)), half * 32)
  }
  return out
}

function hex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}
