// Attack (issue 13): a hostile signaling server (or relay) records a
// member's sealed offers and replays them. Sealing proves who wrote an offer,
// not when: before the fix every replayed offer of another attempt made the
// receiver create a new WebRTC peer (and drop the attempt under way). Sealed
// signals now carry a time and a nonce; the receiver refuses one outside its
// time window or seen before.
import { afterEach, beforeAll, expect, it } from 'vitest'
import type { SignalData } from '../../src/transport/signaling'
import { deriveRoomKey } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { FakePeerNet } from '../transport/fake-peers'
import { nextLink } from '../transport/links'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { id, MeshRig, sig, sleep } from '../transport/mesh-rig'

let key: RoomKey
beforeAll(async () => {
  key = await deriveRoomKey('s3cret', 'room', { iterations: 100_000 })
})

let rig: MeshRig
afterEach(() => rig.closeAll())

it('200 replayed sealed offers: no new WebRTC peer is made and the link stands', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const a = rig.start('a', { roomKey: key })
  const b = rig.start('b', { roomKey: key })
  const [ab] = await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
  // a second attempt (a's link closed, a re-makes it), so two distinct offers are on record
  const again = Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
  ab.link.close('test: make another attempt')
  const [, ba] = await again
  const recorded: SignalData[] = hub.log.filter((l) => l.from === sig('a') && l.to === sig('b') && typeof l.data.sealed === 'string').map((l) => l.data)
  expect(recorded.length).toBeGreaterThanOrEqual(2)

  const before = b.peersMade()
  for (let i = 0; i < 200; i++) hub.inject(sig('a'), sig('b'), recorded[i % recorded.length]!)
  // every replay is delivered on a timer and opened asynchronously: let them
  // all land (before the fix, 198 of 200 had made a peer within this wait)
  await sleep(300)
  expect(b.peersMade() - before).toBe(0)
  expect(b.t.links().get(id('a'))).toBe(ba.link)
  expect(ba.link.open).toBe(true)
})
