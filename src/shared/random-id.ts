// Ids for tabs, browsers and Node processes: random, URL-safe, at most 64
// characters. From the platform's CSPRNG: an id is a name, not a simulation
// input, so it needs no seed.

/** A random id of the member id alphabet (crypto randomness: ids must never collide across browsers). */
export function randomId(prefix: string, bytes = 9): string {
  const raw = globalThis.crypto.getRandomValues(new Uint8Array(bytes))
  let out = prefix
  for (const b of raw) out += (b & 63).toString(36).padStart(2, '0').slice(-2)
  return out.slice(0, 64)
}
