// Member keys for transport tests: a member id is the id of its key
// (src/wire/member-key.ts), so tests make keys first and take ids from them.
import { createMemberKey } from '../../src/wire/member-key'
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
