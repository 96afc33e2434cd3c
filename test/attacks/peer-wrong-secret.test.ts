// Attack (issue 13 follow-up): a member with a wrong room secret (a typo).
// Since the signaling room is named after the room key (room-sealer.ts), such
// a member met nobody and silently founded a cluster of its own: the app was
// never told. Now every member with a secret also waits in a lobby on the
// room's plain name under a random id (lobby.ts) and shows a key check there:
// a check that differs is UNAUTHORIZED on both sides, once a window, and
// nobody links, nobody is refused, and no member id is shown in the lobby.
import { afterEach, beforeAll, expect, it } from 'vitest'
import { BroadcastChannelSignaling } from '../../src/transport/broadcast-channel-signaling'
import type { Clock } from '../../src/shared/clock'
import { realClock } from '../../src/shared/clock'
import { parseSignalingId } from '../../src/transport/control'
import type { RoomKey } from '../../src/wire/room-key'
import { FakePeerNet } from '../transport/fake-peers'
import { nextLink } from '../transport/links'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { id, MeshRig, sleep } from '../transport/mesh-rig'
import type { WatchedTransport } from '../transport/mesh-rig'
import { roomKeys } from '../transport/room-keys'

let key: RoomKey
let otherKey: RoomKey
beforeAll(async () => {
  ;[key, otherKey] = await roomKeys('room', 's3cret', 's3cert') // a typo
})

let rig: MeshRig
afterEach(() => rig.closeAll())

const unauthorized = (w: WatchedTransport) => w.errors.filter((e) => e.code === 'UNAUTHORIZED').length

/** nobody linked, nobody is known, nobody is refused */
function apart(x: WatchedTransport, y: WatchedTransport): void {
  for (const [w, other] of [
    [x, y],
    [y, x],
  ] as const) {
    expect(w.t.links().size).toBe(0)
    expect(w.t.knownPeers()).toEqual([])
    expect(w.peersMade()).toBe(0)
    expect(w.t.refusedFor(other.t.self.member)).toBe(0)
  }
}

it('two members with different secrets on one signaling server: both are told UNAUTHORIZED, once; neither links, nobody is refused', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const a = rig.start('a', { roomKey: key })
  const m = rig.start('m', { roomKey: otherKey })
  await expect.poll(() => unauthorized(m)).toBe(1)
  await expect.poll(() => unauthorized(a)).toBe(1)
  apart(a, m)
  // the lobby showed no member id: every lobby sender is a random id that names no member
  const lobbyTraffic = hub.log.filter((l) => 'lobby' in l.data)
  expect(lobbyTraffic.length).toBeGreaterThan(0)
  for (const l of lobbyTraffic) {
    expect(parseSignalingId(l.from)).toBeNull()
    for (const member of [id('a'), id('m')]) expect(JSON.stringify(l)).not.toContain(member)
  }
  // a member with the right secret still meets a; m still meets nobody
  const b = rig.start('b', { roomKey: key })
  await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
  expect(m.t.links().size).toBe(0)
})

it('two tabs of one browser with different secrets (BroadcastChannel): UNAUTHORIZED, neither links', async () => {
  rig = new MeshRig(new MemorySignalingHub(), new FakePeerNet())
  const room = `bc-wrong-secret-${Date.now()}`
  const [k1, k2] = await roomKeys(room, 's3cret', 's3cert')
  const a = rig.start('a', { room, roomKey: k1, signaling: [new BroadcastChannelSignaling()] })
  const m = rig.start('m', { room, roomKey: k2, signaling: [new BroadcastChannelSignaling()] })
  await expect.poll(() => unauthorized(m)).toBe(1)
  await expect.poll(() => unauthorized(a)).toBe(1)
  apart(a, m)
})

it('a hostile lobby: 200 made-up peers with wrong checks get one report and at most 16 answers a window; the members still meet', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  // time stands still, so everything below happens within one window
  const clock: Clock = { ...realClock, now: () => 1_000_000 }
  const a = rig.start('a', { roomKey: key, clock })
  await expect.poll(() => [...hub.members.keys()].filter((id) => id.startsWith('lobby.')).length).toBe(1)
  const lobbyId = [...hub.members.keys()].find((id) => id.startsWith('lobby.'))!
  for (let i = 0; i < 200; i++) {
    hub.inject(`x.${i}`, lobbyId, { lobby: 'check', v: `forged${i}` })
    hub.inject(`y.${i}`, lobbyId, { lobby: 'check', v: 'x'.repeat(100_000) }) // not a check: dropped unread
    hub.inject(`z.${i}`, lobbyId, { nonsense: [1, 2, 3] })
  }
  await expect.poll(() => unauthorized(a)).toBe(1)
  await sleep(100) // the rest are delivered on zero timers
  expect(unauthorized(a)).toBe(1)
  expect(hub.log.filter((l) => l.from === lobbyId).length).toBeLessThanOrEqual(16)
  expect(a.t.knownPeers()).toEqual([])
  const b = rig.start('b', { roomKey: key, clock })
  await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
})
