// The wire layer's view of the one checked reader (src/codec/checked-reader):
// the same reads, each throwing WireError('BAD_MESSAGE') instead of
// DecodeError. The mapping is `toWireError`, applied here once for every
// read, so framing and the codecs, which call reads outside `decodeWith`
// too, see only WireError.
//
// Use: wrap a whole decode in `decodeWith(bytes, dec => ...)`, which also
// rejects trailing bytes and converts any stray exception.
import * as checked from '../codec/checked-reader'
import { badMessage, WireError } from './errors'
import { MAX_ID_LENGTH, MAX_WIRE_UINT, MEMBER_ID_PATTERN } from './limits'

export type Decoder = checked.Decoder

/** A DecodeError becomes BAD_MESSAGE with its reason; anything else passes through. */
function toWireError(err: unknown): unknown {
  return err instanceof checked.DecodeError ? badMessage(err.reason) : err
}

/** `read` with its DecodeErrors mapped to WireError. */
function asWire<A extends unknown[], R>(read: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return read(...args)
    } catch (err) {
      throw toWireError(err)
    }
  }
}

/** A minimal varuint in [0, max]; an overlong encoding is refused so a value's encoding is unique. */
// eslint-disable-next-line @typescript-eslint/no-inferrable-types -- asWire infers its argument types from these annotations; without it `what` is unknown
export const readVarUint = asWire((dec: Decoder, max: number = MAX_WIRE_UINT, what: string = 'integer') => checked.readVarUint(dec, max, what))
/** One byte. */
export const readByte = asWire(checked.readByte)
/** A boolean is one byte, 0 or 1. */
export const readBool = asWire(checked.readBool)
/** A varuint index into `values` (the symmetric writer is writeEnum). */
export const readEnum = asWire(checked.readEnum)
/** Exactly `len` raw bytes, copied. */
export const readFixedBytes = asWire(checked.readFixedBytes)
/** Length-prefixed bytes, at most `maxLen` long, copied. */
export const readBytes = asWire(checked.readBytes)
/** A length-prefixed UTF-8 string of at most `maxBytes` bytes, optionally matching an anchored `pattern`. */
export const readBoundedString = asWire(checked.readBoundedString)
/** A varuint count, then that many items (the count checked against the bytes left). */
export const readArray = asWire(checked.readArray)
/** Trailing bytes after a complete message are an error. */
export const expectEnd = asWire(checked.expectEnd)

/** A member id (see MEMBER_ID_PATTERN). */
export function readId(dec: Decoder, what = 'member id'): string {
  return readBoundedString(dec, MAX_ID_LENGTH, MEMBER_ID_PATTERN, what)
}

/**
 * Decode a whole frame with `read`, then require the end. Any exception that
 * is not a WireError (a bug in `read`, or lib0 surprising us) becomes
 * BAD_MESSAGE: a peer's bytes must never crash the receiver.
 */
export function decodeWith<T>(bytes: Uint8Array, read: (dec: Decoder) => T, what = 'message'): T {
  try {
    return checked.decodeAll(bytes, read, what, (err) => err instanceof WireError)
  } catch (err) {
    throw toWireError(err)
  }
}
