// The transport's randomness, in one place. Backoff jitter (`random`) and the
// bytes behind attempt ids, lobby ids and signal nonces (`randomBytes`) are
// options of MeshTransport and the signaling channels, so a simulator can
// hand in a seeded generator and replay a run; these are the platform
// defaults, and the only place in src/transport that reaches for them
// (test/transport/injected-globals.test.ts keeps it so).

/** n random bytes (for ids and nonces: unpredictable by default) */
export type RandomBytes = (n: number) => Uint8Array

export const platformRandomBytes: RandomBytes = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n))

/** uniform in [0, 1): jitter only, never an id */
export const platformRandom: () => number = () => Math.random()

/** `n` random bytes as lowercase hex (what attempt ids, lobby ids and nonces are made of) */
export function randomHex(randomBytes: RandomBytes, n: number): string {
  let hex = ''
  for (const b of randomBytes(n)) hex += b.toString(16).padStart(2, '0')
  return hex
}
