// Member keys for transport tests: a member id is the id of its key
// (src/wire/member-key.ts), so tests make keys first and take ids from them.
import { createMemberKey, deriveMemberId } from '../../src/wire/member-key'
import type { MemberKey } from '../../src/wire/member-key'

/** `n` fresh member keys, in the order of their ids (the first has the lowest
 *  signaling id, so it is the one that initiates towards the others). */
export async function memberKeys(n: number): Promise<MemberKey[]> {
  const keys = await Promise.all(Array.from({ length: n }, () => createMemberKey()))
  return keys.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
}

/** keys by name, the names in the order of their ids ('a' < 'b' < ...) */
export async function namedKeys<N extends string>(...names: N[]): Promise<Record<N, MemberKey>> {
  const keys = await memberKeys(names.length)
  return Object.fromEntries(names.map((name, i) => [name, keys[i]!])) as Record<N, MemberKey>
}

/** Ed25519 PKCS#8 wrapping of a 32-byte seed (RFC 8410) */
const PKCS8_ED25519_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20)

/** The same Ed25519 member key for the same name, in every process and page
 *  (tests that must know another page's member id without asking it). */
export async function fixedMemberKey(name: string): Promise<MemberKey> {
  const subtle = globalThis.crypto.subtle
  const seed = new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(`meshkeeper/test-member-key\0${name}`)))
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + seed.length)
  pkcs8.set(PKCS8_ED25519_PREFIX)
  pkcs8.set(seed, PKCS8_ED25519_PREFIX.length)
  // the JWK of the private key carries its public half (x)
  const readable = await subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign'])
  const x = (await subtle.exportKey('jwk', readable)).x!
  const publicKey = Uint8Array.from(atob(x.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
  const privateKey = await subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign'])
  const pub = { algorithm: 'Ed25519' as const, publicKey }
  return { ...pub, id: deriveMemberId(pub), privateKey }
}
