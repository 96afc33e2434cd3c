// Room keys for tests, derived with the fewest iterations deriveRoomKey allows
// (the derivation is the slow part of a sealed test, and its strength is not
// what these tests check).
import { deriveRoomKey } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'

/** one key per secret, all for `room`, in the secrets' order */
export function roomKeys<const Secrets extends readonly string[]>(
  room: string,
  ...secrets: Secrets
): Promise<{ [I in keyof Secrets]: RoomKey }> {
  // Promise.all over a mapped array only knows RoomKey[]; the map keeps one
  // key per secret, so the tuple type (one RoomKey per argument) is exact and
  // destructuring callers need no non-null assertions.
  return Promise.all(secrets.map((secret) => deriveRoomKey(secret, room, { iterations: 100_000 }))) as Promise<{
    [I in keyof Secrets]: RoomKey
  }>
}
