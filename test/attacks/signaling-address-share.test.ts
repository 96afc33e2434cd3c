// Attack: one client takes every socket and fills every room. Now each remote
// address (an IPv6 /64 counts as one) has a share: maxSocketsPerAddress
// sockets (more are refused with 429 at the upgrade) and maxRoomPeersPerAddress
// peers in any one room (more get ROOM_FULL); other addresses are unaffected.
// The loopback 127.0.0.0/8 gives the tests several addresses.
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../src/server/index'
import { TestClient } from '../server/test-client'
import { signalingHarness } from './signaling-harness'

const { server, client } = signalingHarness()

describe('attack: one address takes every socket and fills every room', () => {
  it('refuses an address its sockets beyond maxSocketsPerAddress (429); another address still connects', async () => {
    const s = await server({ limits: { maxSocketsPerAddress: 3 } })
    for (let i = 0; i < 3; i++) await client(s, { localAddress: '127.0.0.1' })
    await expect(TestClient.connect(s.url, { localAddress: '127.0.0.1' })).rejects.toThrow(/429/)
    const other = await client(s, { localAddress: '127.0.0.2' })
    expect(await other.join('r', 'other')).toEqual([])
    expect(s.health().sockets).toBe(4)
  })

  it('gives an address at most maxRoomPeersPerAddress peers of a room (ROOM_FULL); other addresses still join', async () => {
    const s = await server({ limits: { maxRoomPeersPerAddress: 2, maxPeersPerRoom: 10 } })
    const mine = [await client(s), await client(s), await client(s)]
    await mine[0]!.join('r', 'm0')
    await mine[1]!.join('r', 'm1')
    mine[2]!.send({ type: 'join', room: 'r', peer: 'm2' })
    expect(await mine[2]!.next('error')).toMatchObject({ code: 'ROOM_FULL', room: 'r' })
    // another room is a share of its own
    expect(await mine[2]!.join('r2', 'm2')).toEqual([])
    const other = await client(s, { localAddress: '127.0.0.3' })
    expect(await other.join('r', 'o')).toEqual(['m0', 'm1'])
    // a peer that leaves frees its share
    mine[0]!.send({ type: 'leave', room: 'r' })
    await mine[0]!.sync()
    expect(await mine[2]!.join('r', 'm2')).toEqual(['m1', 'o'])
  })

  it('has default shares well under the server and room totals', () => {
    expect(DEFAULT_LIMITS.maxSocketsPerAddress).toBeLessThan(DEFAULT_LIMITS.maxSockets / 10)
    expect(DEFAULT_LIMITS.maxRoomPeersPerAddress).toBeLessThan(DEFAULT_LIMITS.maxPeersPerRoom)
  })
})
