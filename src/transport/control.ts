// CONTROL messages: what the mesh transport itself says over a link (never
// seen by the node above). lib0 encoding, a varuint tag first:
//   HELLO  = 0 · varuint version · member · tab · browser
//            · varuint key algorithm · raw public key   (the member key its id derives from)
//            · CHALLENGE_BYTES challenge                (fresh for this link)
//   PEERS  = 1 · varuint n · n signaling ids   (whom I have links to: relay targets)
//   RELAY  = 2 · to · from · json text         (signaling for a peer without a common channel)
//   SEALED_HELLO = 3 · text                    (with a room secret: the HELLO, sealed)
//   PROOF  = 4 · varuint n · n proof bytes     (n = PROOF_BYTES with a room secret: the answer
//                                               to the peer's challenge, membership-proof.ts;
//                                               0 without one)
//            · varuint m · m signature bytes   (the member key's signature over both
//                                               challenges, src/wire/member-key.ts)
// Decode validates every field; anything else throws WireError.
import { badMessage } from '../wire/errors'
import { MEMBER_ID_PATTERN } from '../wire/limits'
import { MAX_SIGNATURE_BYTES, MEMBER_KEY_ALGORITHMS, PUBLIC_KEY_BYTES } from '../wire/member-key'
import type { MemberPublicKey } from '../wire/member-key'
import { CHALLENGE_BYTES, PROOF_BYTES } from '../wire/membership-proof'
import { decodeWith, readArray, readBoundedString, readBytes, readEnum, readFixedBytes, readVarUint } from '../wire/reader'
import { encodeWith, writeArray, writeBoundedString, writeBytes, writeEnum, writeFixedBytes, writeVarUint } from '../wire/writer'
import { SIGNAL_ID_PATTERN } from './signaling'
import type { PeerHello } from './types'

/** 2: the hello carries the link's challenge; PROOF added.
 *  3: the hello carries the member key and always a challenge; PROOF carries
 *  the key's signature (and the membership proof only under a room secret).
 *  A peer of another version is refused at its hello (BAD_MESSAGE), never half understood. */
export const CONTROL_VERSION = 3
const MAX_PEERS = 256
const MAX_RELAY_TEXT = 12 * 1024

export type ControlMessage =
  | { type: 'hello'; hello: PeerHello; key: MemberPublicKey; challenge: Uint8Array }
  | { type: 'peers'; peers: string[] }
  | { type: 'relay'; to: string; from: string; text: string }
  | { type: 'sealedHello'; text: string }
  | { type: 'proof'; proof?: Uint8Array; signature: Uint8Array }

const TAGS = ['hello', 'peers', 'relay', 'sealedHello', 'proof'] as const

export function encodeControl(msg: ControlMessage): Uint8Array {
  return encodeWith((enc) => {
    writeVarUint(enc, TAGS.indexOf(msg.type))
    switch (msg.type) {
      case 'hello':
        writeVarUint(enc, CONTROL_VERSION)
        writeBoundedString(enc, msg.hello.member, 64, MEMBER_ID_PATTERN, 'member')
        writeBoundedString(enc, msg.hello.tab, 64, MEMBER_ID_PATTERN, 'tab')
        writeBoundedString(enc, msg.hello.browser, 64, MEMBER_ID_PATTERN, 'browser')
        writeEnum(enc, MEMBER_KEY_ALGORITHMS, msg.key.algorithm, 'key algorithm')
        if (msg.key.publicKey.length !== PUBLIC_KEY_BYTES[msg.key.algorithm]) throw badMessage(`a ${msg.key.algorithm} public key is ${PUBLIC_KEY_BYTES[msg.key.algorithm]} bytes`)
        writeFixedBytes(enc, msg.key.publicKey)
        if (msg.challenge.length !== CHALLENGE_BYTES) throw badMessage(`challenge must be ${CHALLENGE_BYTES} bytes`)
        writeFixedBytes(enc, msg.challenge)
        break
      case 'peers':
        writeArray(enc, msg.peers, MAX_PEERS, (e, id) => writeBoundedString(e, id, 128, SIGNAL_ID_PATTERN, 'peer'))
        break
      case 'relay':
        writeBoundedString(enc, msg.to, 128, SIGNAL_ID_PATTERN, 'to')
        writeBoundedString(enc, msg.from, 128, SIGNAL_ID_PATTERN, 'from')
        writeBoundedString(enc, msg.text, MAX_RELAY_TEXT, undefined, 'relay text')
        break
      case 'sealedHello':
        writeBoundedString(enc, msg.text, MAX_RELAY_TEXT, undefined, 'sealed hello')
        break
      case 'proof':
        if (msg.proof === undefined) writeVarUint(enc, 0)
        else {
          if (msg.proof.length !== PROOF_BYTES) throw badMessage(`proof must be ${PROOF_BYTES} bytes`)
          writeVarUint(enc, PROOF_BYTES)
          writeFixedBytes(enc, msg.proof)
        }
        writeBytes(enc, msg.signature, MAX_SIGNATURE_BYTES, 'signature')
        break
    }
  })
}

export function decodeControl(bytes: Uint8Array): ControlMessage {
  return decodeWith(bytes, (dec) => {
    const tag = readVarUint(dec, TAGS.length - 1, 'control tag')
    switch (TAGS[tag]) {
      case 'hello': {
        const version = readVarUint(dec, 1000, 'version')
        if (version !== CONTROL_VERSION) throw badMessage(`hello version ${version}`)
        const member = readBoundedString(dec, 64, MEMBER_ID_PATTERN, 'member')
        const tab = readBoundedString(dec, 64, MEMBER_ID_PATTERN, 'tab')
        const browser = readBoundedString(dec, 64, MEMBER_ID_PATTERN, 'browser')
        const algorithm = readEnum(dec, MEMBER_KEY_ALGORITHMS, 'key algorithm')
        const publicKey = readFixedBytes(dec, PUBLIC_KEY_BYTES[algorithm], 'public key')
        const challenge = readFixedBytes(dec, CHALLENGE_BYTES, 'challenge')
        return { type: 'hello', hello: { member, tab, browser }, key: { algorithm, publicKey }, challenge }
      }
      case 'peers':
        return { type: 'peers', peers: readArray(dec, MAX_PEERS, (d) => readBoundedString(d, 128, SIGNAL_ID_PATTERN, 'peer'), 'peers', 2) }
      case 'relay': {
        const to = readBoundedString(dec, 128, SIGNAL_ID_PATTERN, 'to')
        const from = readBoundedString(dec, 128, SIGNAL_ID_PATTERN, 'from')
        const text = readBoundedString(dec, MAX_RELAY_TEXT, undefined, 'relay text')
        return { type: 'relay', to, from, text }
      }
      case 'sealedHello':
        return { type: 'sealedHello', text: readBoundedString(dec, MAX_RELAY_TEXT, undefined, 'sealed hello') }
      case 'proof': {
        const n = readVarUint(dec, PROOF_BYTES, 'proof length')
        if (n !== 0 && n !== PROOF_BYTES) throw badMessage(`proof of ${n} bytes`)
        const proof = n === 0 ? undefined : readFixedBytes(dec, PROOF_BYTES, 'proof')
        const signature = readBytes(dec, MAX_SIGNATURE_BYTES, 'signature')
        return proof === undefined ? { type: 'proof', signature } : { type: 'proof', proof, signature }
      }
      default:
        throw badMessage('unknown control tag')
    }
  }, 'control message')
}

/** A member's signaling id: `member/tab` (unique per running tab). */
export function signalingId(hello: Pick<PeerHello, 'member' | 'tab'>): string {
  return `${hello.member}/${hello.tab}`
}

/** The (member, tab) a signaling id names, or null if it names none. */
export function parseSignalingId(id: string): { member: string; tab: string } | null {
  const slash = id.indexOf('/')
  if (slash < 0) return null
  const member = id.slice(0, slash)
  const tab = id.slice(slash + 1)
  if (!MEMBER_ID_PATTERN.test(member) || !MEMBER_ID_PATTERN.test(tab)) return null
  return { member, tab }
}
