// The lobby's edges (lobby.ts; the attack itself is test/attacks/peer-wrong-secret):
// a channel with no sibling has no lobby, and one whose sibling cannot join
// costs the member its lobby only — reported, never an unhandled rejection.
import { afterEach, beforeAll, expect, it } from 'vitest'
import type { RoomKey } from '../../src/wire/room-key'
import { FakePeerNet } from './fake-peers'
import { nextLink } from './links'
import { MemorySignalingHub } from './memory-signaling'
import { id, MeshRig } from './mesh-rig'
import { roomKeys } from './room-keys'

let key: RoomKey
beforeAll(async () => {
  ;[key] = await roomKeys('room', 's3cret')
})

let rig: MeshRig
afterEach(() => rig.closeAll())

it('a channel without sibling(): no lobby, the members still meet', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const plain = () => {
    const { sibling: _, ...rest } = hub.channel()
    return rest
  }
  const a = rig.start('a', { roomKey: key, signaling: [plain()] })
  const b = rig.start('b', { roomKey: key, signaling: [plain()] })
  await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
  expect(hub.rooms.filter((r) => r === 'room')).toEqual([])
  expect([...a.errors, ...b.errors]).toEqual([])
})

it('a sibling that throws on join: reported once, the member still meets its peers', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const broken = () => {
    const channel = hub.channel()
    return {
      ...channel,
      sibling: () => ({
        ...hub.channel(),
        join: () => {
          throw new Error('this channel holds one room')
        },
      }),
    }
  }
  const a = rig.start('a', { roomKey: key, signaling: [broken()] })
  const b = rig.start('b', { roomKey: key })
  await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
  await expect.poll(() => a.errors.map((e) => e.message)).toEqual(['BAD_MESSAGE: this channel holds one room'])
})
