// Room keys for tests, derived with the fewest iterations deriveRoomKey allows
// (the derivation is the slow part of a sealed test, and its strength is not
// what these tests check).
import { deriveRoomKey } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'

/** one key per secret, all for `room` */
export function roomKeys(room: string, ...secrets: string[]): Promise<RoomKey[]> {
  return Promise.all(secrets.map((secret) => deriveRoomKey(secret, room, { iterations: 100_000 })))
}
