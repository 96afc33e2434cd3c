// Attack (issue 13): with a room secret, an outsider who joins the room on
// the signaling server still learned every member's id. Under a secret the
// room name sent to signaling is now derived from the room key, so an
// outsider without the secret never shares the signaling room.
import { afterEach, beforeAll, expect, it } from 'vitest'
import { deriveRoomKey } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { FakePeerNet } from '../transport/fake-peers'
import { nextLink } from '../transport/links'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { id, MeshRig, sleep } from '../transport/mesh-rig'

let key: RoomKey
let otherKey: RoomKey
beforeAll(async () => {
  ;[key, otherKey] = await Promise.all([deriveRoomKey('s3cret', 'room', { iterations: 100_000 }), deriveRoomKey('guess', 'room', { iterations: 100_000 })])
})

let rig: MeshRig
afterEach(() => rig.closeAll())

it('an outsider joining the room by its name sees no member; members with the secret still meet', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const a = rig.start('a', { roomKey: key })
  const b = rig.start('b', { roomKey: key })
  await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])

  const seen: string[] = []
  const outsider = hub.channel()
  outsider.onPeer((peer, present) => present && seen.push(peer))
  outsider.join('room', 'z/t')
  await sleep(20) // presence is delivered on a zero timer
  expect(seen).toEqual([])
  expect(hub.rooms.filter((r) => r === 'room')).toEqual(['room']) // the outsider's join only
  outsider.close()
})

it('the signaling room names no secret: another secret gives another name, the same secret the same', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  rig.start('a', { roomKey: key })
  rig.start('b', { roomKey: key })
  rig.start('c', { roomKey: otherKey })
  await expect.poll(() => hub.rooms.length).toBe(3)
  const [ra, rb, rc] = hub.rooms
  expect(ra).toBe(rb)
  expect(rc).not.toBe(ra)
  for (const r of hub.rooms) expect(r).not.toContain('room')
})
