// WireError: what the wire layer throws for any byte sequence it will not
// accept. The codes are spelled exactly like MeshError's (src/shared/errors)
// so `toMeshError` maps them 1:1; this file imports nothing so every layer
// that decodes peer bytes can depend on it.

/**
 * - BAD_MESSAGE: malformed, truncated, out of bounds, trailing bytes, replayed.
 * - TOO_LARGE: the whole frame exceeds the link message bound (checked before
 *   any parsing, so an oversized frame costs nothing).
 * - UNAUTHORIZED: a sealed message that does not open under our room key
 *   (wrong secret, wrong room, tampered), or a membership proof that fails.
 * - UNSUPPORTED_VERSION: a frame of a protocol version we do not speak.
 */
export type WireErrorCode = 'BAD_MESSAGE' | 'TOO_LARGE' | 'UNAUTHORIZED' | 'UNSUPPORTED_VERSION'

export class WireError extends Error {
  readonly code: WireErrorCode
  /** a short, stable reason (e.g. 'truncated', 'trailing bytes', 'replay') */
  readonly reason: string

  constructor(code: WireErrorCode, reason: string) {
    super(`${code}: ${reason}`)
    this.name = 'WireError'
    this.code = code
    this.reason = reason
  }
}

/** A malformed-input error; the common case. */
export function badMessage(reason: string): WireError {
  return new WireError('BAD_MESSAGE', reason)
}

export function isWireError(err: unknown): err is WireError {
  return err instanceof WireError
}
