// Attack (issue 13): with a room secret, an outsider who joins the room on
// the signaling server still learned every member's id. Under a secret the
// room name sent to signaling is now derived from the room key, so an
// outsider without the secret never shares the signaling room. The members'
// lobbies are in the plain room (lobby.ts, so a wrong secret is told), under
// random ids that name no member.
import { afterEach, beforeAll, expect, it } from 'vitest'
import { parseSignalingId } from '../../src/transport/control'
import type { RoomKey } from '../../src/wire/room-key'
import { FakePeerNet } from '../transport/fake-peers'
import { nextLink } from '../transport/links'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { id, MeshRig, sleep } from '../transport/mesh-rig'
import { roomKeys } from '../transport/room-keys'

let key: RoomKey
let otherKey: RoomKey
beforeAll(async () => {
  ;[key, otherKey] = await roomKeys('room', 's3cret', 'guess')
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
  const heard: string[] = []
  const outsider = hub.channel()
  outsider.onPeer((peer, present) => present && seen.push(peer))
  outsider.onSignal((from, data) => heard.push(from, JSON.stringify(data)))
  outsider.join('room', 'z/t')
  await expect.poll(() => seen.length).toBe(2) // a's and b's lobbies; presence comes on a zero timer
  await sleep(20)
  // no member id: not as an id in the room, not in anything it was sent
  for (const id of seen) expect(parseSignalingId(id)).toBeNull()
  for (const text of [...seen, ...heard]) for (const member of [id('a'), id('b')]) expect(text).not.toContain(member)
  expect(hub.rooms.filter((r) => r === 'room')).toEqual(['room', 'room', 'room']) // two lobbies, the outsider
  outsider.close()
})

it('the signaling room names no secret: another secret gives another name, the same secret the same', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  rig.start('a', { roomKey: key })
  rig.start('b', { roomKey: key })
  rig.start('c', { roomKey: otherKey })
  // the members' rooms, beside the plain name their lobbies join (lobby.ts)
  const derived = () => hub.rooms.filter((r) => r !== 'room')
  await expect.poll(() => derived().length).toBe(3)
  const [ra, rb, rc] = derived()
  expect(ra).toBe(rb)
  expect(rc).not.toBe(ra)
  for (const r of derived()) expect(r).not.toContain('room')
})
