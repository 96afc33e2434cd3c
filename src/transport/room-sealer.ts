// The room secret for the transport: signaling payloads and the hello are
// sealed with the room key (src/wire/seal.ts, AES-GCM under a key derived from
// secret and room). A peer without the secret can neither read our offers nor
// produce a hello that opens, so it never gets a link (UNAUTHORIZED).
import type { RoomKey } from '../wire/room-key'
import { openText, sealText } from '../wire/seal'
import type { SignalSealer } from './mesh-transport'

export function roomKeySealer(key: RoomKey): SignalSealer {
  return {
    seal: (text, context) => sealText(key, text, context),
    open: (sealed, context) => openText(key, sealed, context),
  }
}
