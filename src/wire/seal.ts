// Authenticated encryption under the room key: AES-GCM-256 with a fresh
// random 96-bit nonce per message, carried in front of the ciphertext.
//   sealed = nonce (12 bytes) · ciphertext · GCM tag (16 bytes)
// `aad` (associated data) is authenticated but not encrypted: a frame's
// header, so a sealed body cannot be moved under another header.
//
// Random nonces are safe for about 2^32 messages under one key (NIST
// SP 800-38D); a room key is per (secret, room), so a room that outlives
// billions of messages should change its secret.
//
// What must stay true: open() throws WireError UNAUTHORIZED for any input
// that was not produced by seal() with the same key and aad, and returns
// nothing else in that case.
import { fromBase64UrlEncoded, toBase64UrlEncoded } from 'lib0/buffer'
import { badMessage, WireError } from './errors'
import { MAX_SIGNAL_TEXT_BYTES } from './limits'
import type { RoomKey } from './room-key'
import { toBufferSource } from './room-key'

export const NONCE_BYTES = 12
export const GCM_TAG_BYTES = 16
/** Bytes seal() adds to a plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + GCM_TAG_BYTES

export async function seal(key: RoomKey, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
  const ct = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: toBufferSource(aad), tagLength: 128 }, key.aead, toBufferSource(plaintext))
  const out = new Uint8Array(NONCE_BYTES + ct.byteLength)
  out.set(nonce)
  out.set(new Uint8Array(ct), NONCE_BYTES)
  return out
}

/** Throws WireError UNAUTHORIZED on a wrong key, a wrong aad, or any change
 *  to `sealed` (truncation included). */
export async function open(key: RoomKey, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (sealed.length < SEAL_OVERHEAD) throw new WireError('UNAUTHORIZED', 'sealed message too short')
  const nonce = toBufferSource(sealed.subarray(0, NONCE_BYTES))
  try {
    const pt = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: toBufferSource(aad), tagLength: 128 }, key.aead, toBufferSource(sealed.subarray(NONCE_BYTES)))
    return new Uint8Array(pt)
  } catch {
    throw new WireError('UNAUTHORIZED', 'sealed message does not open under the room key')
  }
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })
const BASE64URL = /^[A-Za-z0-9_-]*$/

/**
 * Seal a signaling payload (SDP offer/answer, ICE candidate: JSON text) for
 * a relay we do not trust. `context` is authenticated with it: name the
 * purpose and the endpoints (e.g. `signal:offer:${from}->${to}`) so a relay
 * cannot replay an offer meant for one peer to another. Output: base64url.
 */
export async function sealText(key: RoomKey, text: string, context: string): Promise<string> {
  const bytes = textEncoder.encode(text)
  if (bytes.length > MAX_SIGNAL_TEXT_BYTES) throw badMessage(`signal text of ${bytes.length} bytes exceeds ${MAX_SIGNAL_TEXT_BYTES}`)
  return toBase64UrlEncoded(await seal(key, bytes, textEncoder.encode(context)))
}

/** The inverse of sealText. BAD_MESSAGE for text that is not base64url or is
 *  too long; UNAUTHORIZED for anything that does not open. */
export async function openText(key: RoomKey, sealed: string, context: string): Promise<string> {
  if (typeof sealed !== 'string' || !BASE64URL.test(sealed) || sealed.length % 4 === 1) throw badMessage('sealed text is not base64url')
  if (sealed.length > Math.ceil(((MAX_SIGNAL_TEXT_BYTES + SEAL_OVERHEAD) * 4) / 3)) throw badMessage('sealed text too long')
  const plain = await open(key, fromBase64UrlEncoded(sealed), textEncoder.encode(context))
  try {
    return textDecoder.decode(plain)
  } catch {
    // only a member holding the key could have sealed this: still refuse it
    throw badMessage('sealed text is not UTF-8')
  }
}
