// Byte helpers for transport tests. (Vitest's deep equality is far too slow on
// megabyte arrays; compare them as Buffers.)
export const patterned = (n: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}

export const sameBytes = (a: Uint8Array | null | undefined, b: Uint8Array): boolean =>
  a != null && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
