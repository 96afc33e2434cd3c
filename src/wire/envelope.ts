// The frame every link message travels in.
//
//   version (1 byte) · room tag (8 bytes) · kind (varuint) · flags (1 byte)
//   · sender (member id) · [sealed: boot (8 bytes) · counter (varuint ≥ 1)]
//   · body (length-prefixed)
//
// - version: WIRE_VERSION. Anything else is UNSUPPORTED_VERSION, checked
//   first, so a future version may change everything after this byte.
// - room tag: roomTag(room); a frame of another room is BAD_MESSAGE.
// - kind: what the body is. Tags 0..15 belong to src/wire (ENVELOPE_KIND);
//   tags NODE_KIND_MIN..MAX_ENVELOPE_KIND are free for the node driver to
//   assign (it documents its own); larger tags are BAD_MESSAGE.
// - flags: bit 0 = sealed; other bits must be 0.
// - sender: the member id of the sender. On a link the transport must still
//   check it is the link's peer.
// - sealed frames: the body is seal(key, plaintext, aad) where aad = every
//   header byte before the body, then the link binding. So version, room,
//   kind, sender, boot and counter are all authenticated, and (boot,
//   counter) feeds the receiver's ReplayGuard.
//
// With a room secret, receive only through openEnvelope: it refuses plain
// frames (UNAUTHORIZED), so a peer without the secret cannot inject.
import { badMessage, WireError } from './errors'
import { MAX_MESSAGE_BYTES } from './limits'
import type { Decoder } from './reader'
import { decodeWith, readByte, readBytes, readFixedBytes, readId, readVarUint } from './reader'
import type { ReplayGuard, SealCounter } from './replay'
import { BOOT_ID_BYTES } from './replay'
import type { RoomKey } from './room-key'
import { open, seal } from './seal'
import type { Encoder } from './writer'
import { encodeWith, writeByte, writeBytes, writeFixedBytes, writeId, writeVarUint } from './writer'

export const WIRE_VERSION = 1
export const ROOM_TAG_BYTES = 8

/** Kinds src/wire defines. */
export const ENVELOPE_KIND = {
  /** body: encodeRaftMessage bytes */
  raft: 0,
  /** body: a node message (src/wire/node-messages.ts) */
  node: 1,
  /** reserved for a hello exchange inside envelopes (the transport runs
   *  its handshake in control messages instead) */
  hello: 2,
} as const
/** First kind tag the node driver may assign itself. */
export const NODE_KIND_MIN = 16
export const MAX_ENVELOPE_KIND = 63

const FLAG_SEALED = 1

export interface SealInfo {
  /** the sender's boot id (BOOT_ID_BYTES random bytes) */
  boot: Uint8Array
  /** the sender's frame counter for this boot, from 1 */
  counter: number
}

export interface Envelope {
  room: Uint8Array
  kind: number
  sender: string
  /** null for a plain frame */
  seal: SealInfo | null
  /** the body: plaintext for a plain frame or an opened one; the sealed
   *  bytes in what decodeEnvelope returns for a sealed frame */
  body: Uint8Array
}

function writeHeader(enc: Encoder, env: Omit<Envelope, 'body'>): void {
  writeByte(enc, WIRE_VERSION)
  if (env.room.length !== ROOM_TAG_BYTES) throw badMessage(`room tag must be ${ROOM_TAG_BYTES} bytes`)
  writeFixedBytes(enc, env.room)
  writeVarUint(enc, env.kind, MAX_ENVELOPE_KIND, 'envelope kind')
  writeByte(enc, env.seal === null ? 0 : FLAG_SEALED)
  writeId(enc, env.sender, 'sender')
  if (env.seal !== null) {
    if (env.seal.boot.length !== BOOT_ID_BYTES) throw badMessage(`boot id must be ${BOOT_ID_BYTES} bytes`)
    writeFixedBytes(enc, env.seal.boot)
    if (env.seal.counter < 1) throw badMessage('seal counter must be ≥ 1')
    writeVarUint(enc, env.seal.counter, undefined, 'seal counter')
  }
}

export function encodeEnvelope(env: Envelope): Uint8Array {
  return encodeWith((enc) => {
    writeHeader(enc, env)
    writeBytes(enc, env.body, MAX_MESSAGE_BYTES, 'envelope body')
  })
}

interface ParsedEnvelope {
  env: Envelope
  /** bytes of the header: the sealed body's aad */
  headerEnd: number
}

function readEnvelope(dec: Decoder): ParsedEnvelope {
  const version = readByte(dec, 'version')
  if (version !== WIRE_VERSION) throw new WireError('UNSUPPORTED_VERSION', `wire version ${version}, this build speaks ${WIRE_VERSION}`)
  const room = readFixedBytes(dec, ROOM_TAG_BYTES, 'room tag')
  const kind = readVarUint(dec, MAX_ENVELOPE_KIND, 'envelope kind')
  const flags = readByte(dec, 'flags')
  if ((flags & ~FLAG_SEALED) !== 0) throw badMessage(`unknown envelope flags ${flags}`)
  const sender = readId(dec, 'sender')
  let sealInfo: SealInfo | null = null
  if (flags & FLAG_SEALED) {
    const boot = readFixedBytes(dec, BOOT_ID_BYTES, 'boot id')
    const counter = readVarUint(dec, undefined, 'seal counter')
    if (counter === 0) throw badMessage('seal counter 0')
    sealInfo = { boot, counter }
  }
  const headerEnd = dec.pos
  const body = readBytes(dec, MAX_MESSAGE_BYTES, 'envelope body')
  return { env: { room, kind, sender, seal: sealInfo, body }, headerEnd }
}

function parse(bytes: Uint8Array, room: Uint8Array | undefined): ParsedEnvelope {
  if (bytes.length > MAX_MESSAGE_BYTES) throw new WireError('TOO_LARGE', `frame of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  const parsed = decodeWith(bytes, readEnvelope, 'envelope')
  if (room !== undefined && !sameBytes(parsed.env.room, room)) throw badMessage('frame of another room')
  return parsed
}

/**
 * Decode a frame. With `room` (a roomTag), a frame of another room is
 * BAD_MESSAGE. A sealed frame's body is returned still sealed: use
 * openEnvelope to open it. Throws WireError: TOO_LARGE, UNSUPPORTED_VERSION,
 * BAD_MESSAGE.
 */
export function decodeEnvelope(bytes: Uint8Array, room?: Uint8Array): Envelope {
  return parse(bytes, room).env
}

export interface SealEnvelopeInput {
  kind: number
  sender: string
  body: Uint8Array
}

/** Seal `input.body` under the room key in a frame of `key.room`, taking
 *  the next counter of the sender's `counter`. */
export async function sealEnvelope(key: RoomKey, input: SealEnvelopeInput, counter: SealCounter, binding: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
  const header = encodeWith((enc) => writeHeader(enc, { room: key.tag, kind: input.kind, sender: input.sender, seal: { boot: counter.boot, counter: counter.take() } }))
  const sealed = await seal(key, input.body, concat(header, binding))
  return encodeWith((enc) => {
    writeFixedBytes(enc, header)
    writeBytes(enc, sealed, MAX_MESSAGE_BYTES, 'envelope body')
  })
}

/**
 * Receive a frame under a room secret: decode, require it sealed and of our
 * room, open it (aad = header + binding), then count it against `guard`.
 * Returns the envelope with the plaintext body. Throws WireError:
 * UNAUTHORIZED (plain, wrong key/room/binding, tampered), BAD_MESSAGE
 * (malformed, another room's tag, replay), TOO_LARGE, UNSUPPORTED_VERSION.
 */
export async function openEnvelope(key: RoomKey, bytes: Uint8Array, guard: ReplayGuard, binding: Uint8Array = new Uint8Array(0)): Promise<Envelope> {
  const { env, headerEnd } = parse(bytes, undefined)
  if (env.seal === null) throw new WireError('UNAUTHORIZED', 'plain frame where the room requires a secret')
  if (!sameBytes(env.room, key.tag)) throw new WireError('UNAUTHORIZED', 'frame of another room')
  const body = await open(key, env.body, concat(bytes.subarray(0, headerEnd), binding))
  // only now, with the header proven, may the counter move the window
  guard.accept(env.sender, env.seal.boot, env.seal.counter)
  return { ...env, body }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
