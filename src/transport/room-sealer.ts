// The room secret for the transport: signaling payloads and the hello are
// sealed with the room key (src/wire/seal.ts, AES-GCM under a key derived from
// secret and room). A peer without the secret can neither read our offers nor
// produce a hello that opens, so it never gets a link (UNAUTHORIZED).
//
// The room's name on signaling is derived from the key too (signalingRoom):
// a signaling server relays only within a room, so an outsider who knows the
// room's name but not its secret never shares the signaling room with the
// members — it learns none of their ids and cannot knock on their doors.
import { toBase64UrlEncoded } from 'lib0/buffer'
import * as encoding from 'lib0/encoding'
import type { RoomKey } from '../wire/room-key'
import { toBufferSource } from '../wire/room-key'
import { openText, sealText } from '../wire/seal'

/** End-to-end sealing of signaling and hello under the room secret. */
export interface SignalSealer {
  seal(text: string, context: string): Promise<string>
  /** throws (UNAUTHORIZED) unless `sealed` came from seal() with this key and context */
  open(sealed: string, context: string): Promise<string>
}

export function roomKeySealer(key: RoomKey): SignalSealer {
  return {
    seal: (text, context) => sealText(key, text, context),
    open: (sealed, context) => openText(key, sealed, context),
  }
}

/**
 * The name a room with a secret goes by on signaling: `mk1.` and the
 * base64url HMAC-SHA-256 (the room key's proof key) of the room's name. Every
 * member with the secret computes the same; without the secret it cannot be
 * computed, and it reveals neither secret nor room. The input starts with its
 * own label, so it can never equal a membership proof's input
 * (src/wire/membership-proof.ts) made under the same key.
 */
export async function signalingRoom(key: RoomKey, room: string): Promise<string> {
  return `mk1.${await roomMac(key, 'meshkeeper/signaling-room/v1', room)}`
}

/**
 * What members show each other in the lobby (lobby.ts): a value every holder
 * of the room key computes alike and a holder of another key computes
 * differently. Its own label keeps it apart from the signaling room's name, so
 * showing it in the plain room never reveals where the members meet.
 */
export function lobbyCheck(key: RoomKey, room: string): Promise<string> {
  return roomMac(key, 'meshkeeper/lobby-check/v1', room)
}

/** base64url HMAC-SHA-256 (the room key's proof key) of `label` and `room` */
async function roomMac(key: RoomKey, label: string, room: string): Promise<string> {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, label)
  encoding.writeVarString(enc, room)
  const mac = await globalThis.crypto.subtle.sign('HMAC', key.proof, toBufferSource(encoding.toUint8Array(enc)))
  return toBase64UrlEncoded(new Uint8Array(mac))
}
