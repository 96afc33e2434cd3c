// Member keys (issue 13, "ids that cannot be borrowed"): a member id is
// derived from a public key the member holds the private half of, and every
// link's handshake is signed with it, so no one can claim another member's id.
//
//   id        = "k" · base32(SHA-256("meshkeeper/member-id/v1\0" · alg · raw public key))[0..32]
//               (160 bits: collisions and second preimages are out of reach;
//               33 characters of [a-z2-7], within MEMBER_ID_PATTERN)
//   signature = Sign(private key, "meshkeeper/hello-sig/v1" · room · signer · signer's browser
//                    · verifier · attempt · signer's challenge · verifier's challenge)
//
// The verifier's fresh challenge makes a recorded signature useless on any
// other link; naming both ends, the room and the attempt stops a signature
// made for one peer from being shown to another. The receiver checks
// id == deriveMemberId(public key) and the signature before it hands the
// link to the node (src/transport/mesh-transport.ts).
//
// Ed25519 where WebCrypto has it (Chromium, Node 20), ECDSA P-256 (SHA-256)
// otherwise; the algorithm is part of the id's input, so one id names one key
// of one algorithm. The private key is made non-extractable: it can be used
// and stored (IndexedDB keeps a CryptoKey by structured clone), never read.
import * as encoding from 'lib0/encoding'
import { digest } from 'lib0/hash/sha256'
import { WireError } from './errors'
import { toBufferSource } from './room-key'

export type MemberKeyAlgorithm = 'Ed25519' | 'ECDSA-P256'
export const MEMBER_KEY_ALGORITHMS: readonly MemberKeyAlgorithm[] = ['Ed25519', 'ECDSA-P256']

/** raw public key bytes per algorithm (P-256: uncompressed point) */
export const PUBLIC_KEY_BYTES: Record<MemberKeyAlgorithm, number> = { Ed25519: 32, 'ECDSA-P256': 65 }
/** signature bytes per algorithm (ECDSA as WebCrypto writes it: r · s) */
export const SIGNATURE_BYTES: Record<MemberKeyAlgorithm, number> = { Ed25519: 64, 'ECDSA-P256': 64 }
export const MAX_SIGNATURE_BYTES = 64

/** What a peer shows of its key: enough to derive its id and check its signatures. */
export interface MemberPublicKey {
  algorithm: MemberKeyAlgorithm
  /** raw public key, PUBLIC_KEY_BYTES[algorithm] long */
  publicKey: Uint8Array
}

/** A member's key pair. Plain data (structured-cloneable) so a browser can keep it in IndexedDB. */
export interface MemberKey extends MemberPublicKey {
  /** deriveMemberId(this): the member id this key owns */
  id: string
  /** non-extractable */
  privateKey: CryptoKey
}

/** What the signature of one side of a link's handshake covers. */
export interface HelloTranscript {
  room: string
  /** signaling ids (`member/tab`) of the signer and of the peer it signs for */
  signer: string
  /** the browser id of the signer's hello (it spreads voters across devices: no one may alter it) */
  signerBrowser: string
  verifier: string
  attempt: string
  signerChallenge: Uint8Array
  verifierChallenge: Uint8Array
}

const ID_PREFIX = 'k'
const ID_CHARS = 32
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
/** the shape of a key-derived id (a slot from before keyed ids has another) */
export const KEYED_MEMBER_ID = /^k[a-z2-7]{32}$/

const params = (alg: MemberKeyAlgorithm): { gen: EcKeyGenParams | Algorithm; sign: EcdsaParams | Algorithm; imp: EcKeyImportParams | Algorithm } =>
  alg === 'Ed25519'
    ? { gen: { name: 'Ed25519' }, sign: { name: 'Ed25519' }, imp: { name: 'Ed25519' } }
    : { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' }, imp: { name: 'ECDSA', namedCurve: 'P-256' } }

/** The member id a public key owns. */
export function deriveMemberId(key: MemberPublicKey): string {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, 'meshkeeper/member-id/v1')
  encoding.writeVarUint(enc, MEMBER_KEY_ALGORITHMS.indexOf(key.algorithm))
  encoding.writeVarUint8Array(enc, key.publicKey)
  const hash = digest(encoding.toUint8Array(enc))
  let bits = 0
  let value = 0
  let out = ID_PREFIX
  for (const byte of hash) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5 && out.length <= ID_CHARS) {
      out += BASE32[(value >>> (bits - 5)) & 31]!
      bits -= 5
    }
    if (out.length > ID_CHARS) break
  }
  return out
}

/** Make a fresh member key: Ed25519, or ECDSA P-256 where Ed25519 is missing
 *  (or `algorithm` asks for it). */
export async function createMemberKey(algorithm?: MemberKeyAlgorithm): Promise<MemberKey> {
  const subtle = globalThis.crypto.subtle
  const tryAlg = async (alg: MemberKeyAlgorithm): Promise<MemberKey> => {
    const pair = (await subtle.generateKey(params(alg).gen, false, ['sign', 'verify'])) as CryptoKeyPair
    // public keys are always exportable, whatever `extractable` says
    const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey))
    const pub = { algorithm: alg, publicKey }
    return { ...pub, id: deriveMemberId(pub), privateKey: pair.privateKey }
  }
  if (algorithm !== undefined) return tryAlg(algorithm)
  try {
    return await tryAlg('Ed25519')
  } catch {
    return tryAlg('ECDSA-P256')
  }
}

/** Is `value` a MemberKey as createMemberKey made it (read back from storage: check before use)? */
export function isMemberKey(value: unknown): value is MemberKey {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Partial<MemberKey>
  return (
    typeof v.algorithm === 'string' &&
    MEMBER_KEY_ALGORITHMS.includes(v.algorithm) &&
    v.publicKey instanceof Uint8Array &&
    v.publicKey.length === PUBLIC_KEY_BYTES[v.algorithm] &&
    typeof v.id === 'string' &&
    v.id === deriveMemberId({ algorithm: v.algorithm, publicKey: v.publicKey }) &&
    typeof v.privateKey === 'object' &&
    // read back from storage: the type says CryptoKey, the bytes may say null
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    v.privateKey !== null
  )
}

/** The bytes a hello signature covers (a MemberKeyScheme signs exactly these). */
export function helloTranscriptBytes(t: HelloTranscript): Uint8Array<ArrayBuffer> {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, 'meshkeeper/hello-sig/v1')
  encoding.writeVarString(enc, t.room)
  encoding.writeVarString(enc, t.signer)
  encoding.writeVarString(enc, t.signerBrowser)
  encoding.writeVarString(enc, t.verifier)
  encoding.writeVarString(enc, t.attempt)
  encoding.writeVarUint8Array(enc, t.signerChallenge)
  encoding.writeVarUint8Array(enc, t.verifierChallenge)
  return toBufferSource(encoding.toUint8Array(enc))
}

/** Sign our side of a link's handshake. */
export async function signHello(key: MemberKey, t: HelloTranscript): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.sign(params(key.algorithm).sign, key.privateKey, helloTranscriptBytes(t)))
}

/**
 * Check a peer's handshake: `member` must be the id its public key derives
 * and `signature` its signature over the transcript. Throws WireError
 * UNAUTHORIZED otherwise (also for a malformed key: it proves nothing).
 */
export async function verifyHello(member: string, key: MemberPublicKey, signature: Uint8Array, t: HelloTranscript): Promise<void> {
  if (!MEMBER_KEY_ALGORITHMS.includes(key.algorithm) || key.publicKey.length !== PUBLIC_KEY_BYTES[key.algorithm]) throw new WireError('UNAUTHORIZED', 'member key malformed')
  if (deriveMemberId(key) !== member) throw new WireError('UNAUTHORIZED', `${member} is not the id of the key shown`)
  if (signature.length !== SIGNATURE_BYTES[key.algorithm]) throw new WireError('UNAUTHORIZED', 'hello signature malformed')
  const subtle = globalThis.crypto.subtle
  let ok = false
  try {
    const pub = await subtle.importKey('raw', toBufferSource(key.publicKey), params(key.algorithm).imp, false, ['verify'])
    ok = await subtle.verify(params(key.algorithm).sign, pub, toBufferSource(signature), helloTranscriptBytes(t))
  } catch {
    ok = false // a point off the curve, a key WebCrypto will not take
  }
  if (!ok) throw new WireError('UNAUTHORIZED', `hello signature of ${member} does not verify`)
}

/**
 * How hellos are signed and checked, and which id a key owns. WebCrypto
 * (webCryptoKeys) everywhere; the simulator injects a scheme whose
 * signatures are synchronous and seeded, because WebCrypto answers on real
 * time, outside the virtual clock, and would make a seeded run depend on
 * the machine (invariant 7: the transport is the same, only its keys differ).
 * A scheme must keep the one property the handshake rests on: without the
 * private half of the key an id derives from, no signature verifies.
 */
export interface MemberKeyScheme {
  deriveId(key: MemberPublicKey): string
  sign(key: MemberKey, t: HelloTranscript): Promise<Uint8Array>
  /** throws WireError UNAUTHORIZED unless `member` owns `key` and `signature` is its signature over `t` */
  verify(member: string, key: MemberPublicKey, signature: Uint8Array, t: HelloTranscript): Promise<void>
}

/** The default scheme: ids from SHA-256 of the key, signatures by WebCrypto. */
export const webCryptoKeys: MemberKeyScheme = { deriveId: deriveMemberId, sign: signHello, verify: verifyHello }
