// The hello exchange: the body of ENVELOPE_KIND.hello frames, the only
// frames a link carries before its peer is known (see membership-proof.ts
// for the protocol). Without a room secret only the `hello` step is used.
//
//   tag 0 hello: member · tab · browser · challenge (CHALLENGE_BYTES)
//   tag 1 proof: proof (PROOF_BYTES)
import { badMessage, WireError } from './errors'
import { CHALLENGE_BYTES, PROOF_BYTES } from './membership-proof'
import type { Decoder } from './reader'
import { decodeWith, readBoundedString, readEnum, readFixedBytes, readId } from './reader'
import { encodeWith, writeBoundedString, writeEnum, writeFixedBytes, writeId } from './writer'

/** Tab and browser ids: printable ASCII, no spaces (random ids of any alphabet). */
export const OPAQUE_ID_PATTERN = /^[\x21-\x7e]{1,128}$/
const MAX_OPAQUE_ID_BYTES = 128

export type HelloMessage =
  | { type: 'hello'; member: string; tab: string; browser: string; challenge: Uint8Array }
  | { type: 'proof'; proof: Uint8Array }

const HELLO_TYPES: readonly HelloMessage['type'][] = ['hello', 'proof']

export function encodeHello(m: HelloMessage): Uint8Array {
  return encodeWith((enc) => {
    writeEnum(enc, HELLO_TYPES, m.type, 'hello type')
    if (m.type === 'hello') {
      writeId(enc, m.member)
      writeBoundedString(enc, m.tab, MAX_OPAQUE_ID_BYTES, OPAQUE_ID_PATTERN, 'tab id')
      writeBoundedString(enc, m.browser, MAX_OPAQUE_ID_BYTES, OPAQUE_ID_PATTERN, 'browser id')
      if (m.challenge.length !== CHALLENGE_BYTES) throw badMessage(`challenge must be ${CHALLENGE_BYTES} bytes`)
      writeFixedBytes(enc, m.challenge)
    } else {
      if (m.proof.length !== PROOF_BYTES) throw badMessage(`proof must be ${PROOF_BYTES} bytes`)
      writeFixedBytes(enc, m.proof)
    }
  })
}

function readHello(dec: Decoder): HelloMessage {
  const type = readEnum(dec, HELLO_TYPES, 'hello type')
  if (type === 'proof') return { type, proof: readFixedBytes(dec, PROOF_BYTES, 'proof') }
  const member = readId(dec)
  const tab = readBoundedString(dec, MAX_OPAQUE_ID_BYTES, OPAQUE_ID_PATTERN, 'tab id')
  const browser = readBoundedString(dec, MAX_OPAQUE_ID_BYTES, OPAQUE_ID_PATTERN, 'browser id')
  const challenge = readFixedBytes(dec, CHALLENGE_BYTES, 'challenge')
  return { type, member, tab, browser, challenge }
}

/** Throws WireError BAD_MESSAGE on anything malformed. */
export function decodeHello(bytes: Uint8Array): HelloMessage {
  if (bytes.length > 1024) throw new WireError('TOO_LARGE', `hello of ${bytes.length} bytes`)
  return decodeWith(bytes, readHello, 'hello')
}
