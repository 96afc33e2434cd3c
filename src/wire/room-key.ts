// The room secret (issue 5): the keys every member of a room derives from
// (secret, room), and nothing else. Peers that cannot derive the same keys
// can neither open our frames nor prove membership (membership-proof.ts).
//
// Derivation, WebCrypto only (browsers, and Node 20+ as globalThis.crypto):
//   master = PBKDF2-SHA-256(secret, salt = "meshkeeper/room-key/v1\0" + room, ≥ 100,000 rounds, 256 bits)
//   aead   = HKDF-SHA-256(master, info = "meshkeeper/aead/v1")  → AES-GCM-256
//   proof  = HKDF-SHA-256(master, info = "meshkeeper/proof/v1") → HMAC-SHA-256
// The salt binds the keys to the room: one secret reused across rooms yields
// unrelated keys, so a frame of one room never opens in another. PBKDF2 makes
// guessing a weak secret from a captured frame expensive; HKDF separates the
// two uses so a proof can never be confused with a ciphertext. Neither key is
// extractable.
import { digest } from 'lib0/hash/sha256'
import { WireError } from './errors'

/** PBKDF2 rounds by default (OWASP 2023 advises 600,000 for SHA-256; a tab
 *  derives once per join, about 0.1 s per 100,000 rounds on a laptop). */
export const DEFAULT_PBKDF2_ITERATIONS = 210_000
/** Fewer rounds are refused: the secret is often a human-chosen word. */
export const MIN_PBKDF2_ITERATIONS = 100_000

export interface RoomKey {
  readonly room: string
  /** the room's tag in every envelope (see roomTag) */
  readonly tag: Uint8Array
  /** AES-GCM-256, for seal/open */
  readonly aead: CryptoKey
  /** HMAC-SHA-256, for membership proofs */
  readonly proof: CryptoKey
}

const encoder = new TextEncoder()
const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Copy into a fresh ArrayBuffer-backed array, as WebCrypto's types want. */
export function toBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return concat(bytes)
}

/** The 8-byte tag that binds an envelope to its room: the head of
 *  SHA-256("meshkeeper/room/v1\0" + room). Public (it needs no secret): it
 *  only keeps two rooms' frames apart, authentication is the seal's job. */
export function roomTag(room: string): Uint8Array {
  // lib0 hands back a Node Buffer in Node: copy into a plain Uint8Array
  return new Uint8Array(digest(concat(encoder.encode('meshkeeper/room/v1\0'), encoder.encode(room))).subarray(0, 8))
}

export interface DeriveOptions {
  /** PBKDF2 rounds, ≥ MIN_PBKDF2_ITERATIONS; every member of a room must use the same */
  iterations?: number
}

/** Derive the room's keys. Every member of the room must call this with the
 *  same (secret, room, iterations). Throws WireError BAD_MESSAGE for an empty
 *  secret or too few rounds (a configuration error, caught at joinMesh). */
export async function deriveRoomKey(secret: string, room: string, opts: DeriveOptions = {}): Promise<RoomKey> {
  const iterations = opts.iterations ?? DEFAULT_PBKDF2_ITERATIONS
  if (secret.length === 0) throw new WireError('BAD_MESSAGE', 'empty room secret')
  if (!Number.isInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS) throw new WireError('BAD_MESSAGE', `PBKDF2 iterations must be an integer ≥ ${MIN_PBKDF2_ITERATIONS}`)
  const subtle = globalThis.crypto.subtle
  const password = await subtle.importKey('raw', encoder.encode(secret), 'PBKDF2', false, ['deriveBits'])
  const salt = concat(encoder.encode('meshkeeper/room-key/v1\0'), encoder.encode(room))
  const master = await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, password, 256)
  const hkdf = await subtle.importKey('raw', master, 'HKDF', false, ['deriveKey'])
  const expand = (info: string) => ({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(info) })
  const aead = await subtle.deriveKey(expand('meshkeeper/aead/v1'), hkdf, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  const proof = await subtle.deriveKey(expand('meshkeeper/proof/v1'), hkdf, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign', 'verify'])
  return { room, tag: roomTag(room), aead, proof }
}
