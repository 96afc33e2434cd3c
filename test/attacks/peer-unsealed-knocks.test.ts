// Attack (issue 13): under a room secret, an outsider on the signaling path
// sends unsealed knocks. Before the fix each one became an UNAUTHORIZED error
// event in the app, unbounded, and put the outsider in the peer table. Now
// they are dropped cheaply and reported at most once per sender per window
// (and a bounded number per window over all senders).
import { afterEach, beforeAll, expect, it } from 'vitest'
import { deriveRoomKey } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { FakePeerNet } from '../transport/fake-peers'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { MeshRig, sig, sleep } from '../transport/mesh-rig'

let key: RoomKey
beforeAll(async () => {
  key = await deriveRoomKey('s3cret', 'room', { iterations: 100_000 })
})

let rig: MeshRig
afterEach(() => rig.closeAll())

it('100 unsealed knocks from one outsider: one UNAUTHORIZED report, the outsider never enters the peer table', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const a = rig.start('a', { roomKey: key })
  await expect.poll(() => hub.members.has(sig('a'))).toBe(true) // under a key a joins once its room name is derived
  for (let i = 0; i < 100; i++) hub.inject('z/t', sig('a'), { a: 'knock', k: 'knock' })
  await expect.poll(() => a.errors.length).toBeGreaterThan(0)
  await sleep(100) // the rest are delivered on zero timers
  expect(a.errors.map((e) => [e.code, e.peer])).toEqual([['UNAUTHORIZED', 'z']])
  expect(a.t.knownPeers()).toEqual([])
})

it('unsealed knocks from 100 made-up outsiders: the reports are bounded too', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const a = rig.start('a', { roomKey: key })
  await expect.poll(() => hub.members.has(sig('a'))).toBe(true) // under a key a joins once its room name is derived
  for (let i = 0; i < 100; i++) hub.inject(`z${i}/t`, sig('a'), { sealed: 'AAAA' })
  await expect.poll(() => a.errors.length).toBeGreaterThan(0)
  await sleep(100)
  expect(a.errors.length).toBeLessThanOrEqual(16)
  expect(a.errors.every((e) => e.code === 'UNAUTHORIZED' || e.code === 'BAD_MESSAGE')).toBe(true)
  expect(a.t.knownPeers()).toEqual([])
})
