// WebSocket signaling against the real signaling server (src/server), relay of
// signaling through a connected peer, and the room secret; WebRTC through wrtc.
import { afterEach, describe, expect, it } from 'vitest'
import wrtc from '@roamhq/wrtc'
import WebSocket from 'ws'
import { startSignalingServer } from '../../src/server/index'
import type { SignalingServer } from '../../src/server/index'
import { MeshTransport } from '../../src/transport/mesh-transport'
import type { MeshTransportOptions } from '../../src/transport/mesh-transport'
import type { SignalingChannel } from '../../src/transport/signaling'
import { nodePeerFactory } from '../../src/transport/simple-peer-node'
import type { Link } from '../../src/transport/types'
import { nextLink, nextMessage } from './links'
import { WebSocketSignaling } from '../../src/transport/websocket-signaling'
import type { WebSocketConstructor } from '../../src/transport/websocket-signaling'
import type { TransportError } from '../../src/transport/errors'
import { deriveRoomKey } from '../../src/wire/room-key'
import { createMeshTransport } from '../../src/transport/create'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function server(port = 0): Promise<SignalingServer> {
  const s = await startSignalingServer({ port, host: '127.0.0.1' })
  cleanup.push(() => s.close())
  return s
}

const ws = (url: string): WebSocketSignaling =>
  new WebSocketSignaling(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, backoffBaseMs: 50, backoffMaxMs: 300 })

function start(member: string, room: string, signaling: SignalingChannel[], extra: Partial<MeshTransportOptions> = {}): MeshTransport {
  const t = new MeshTransport({
    self: { member, tab: `tab${member}`, browser: 'node' },
    room,
    signaling,
    peerFactory: nodePeerFactory(wrtc),
    backoffBaseMs: 50,
    backoffMaxMs: 500,
    ...extra,
  })
  cleanup.push(() => t.close())
  return t
}


async function exchange(from: Link, to: Link): Promise<Uint8Array> {
  const got = nextMessage(to)
  from.send(Uint8Array.of(7, 7))
  return got
}

describe('WebSocket signaling (the real signaling server)', () => {
  it('two peers that share only a signaling server connect over WebRTC', async () => {
    const s = await server()
    const a = start('a', 'ws-room', [ws(s.url)])
    const b = start('b', 'ws-room', [ws(s.url)])
    const [ab, ba] = await Promise.all([nextLink(a, 'b'), nextLink(b, 'a')])
    expect(ab.hello.member).toBe('b')
    expect(await exchange(ab.link, ba.link)).toEqual(Uint8Array.of(7, 7))
  })

  it('a client reconnects and re-joins after the server restarts; newcomers still find it', async () => {
    const first = await server()
    const port = first.port
    const channel = ws(first.url)
    const a = start('a', 'restart-room', [channel])
    await expect.poll(() => channel.connected).toBe(true)
    await first.close()
    await expect.poll(() => channel.connected).toBe(false)
    const second = await server(port)
    await expect.poll(() => channel.connected, { timeout: 10_000 }).toBe(true)
    const b = start('b', 'restart-room', [ws(second.url)])
    const [ab] = await Promise.all([nextLink(a, 'b'), nextLink(b, 'a')])
    expect(ab.link.open).toBe(true)
  })

  it('signaling is relayed through a connected peer: a and c share no server but both know b', async () => {
    const s1 = await server()
    const s2 = await server()
    const a = start('a', 'relay-room', [ws(s1.url)])
    const b = start('b', 'relay-room', [ws(s1.url), ws(s2.url)])
    const c = start('c', 'relay-room', [ws(s2.url)])
    const [ac, ca] = await Promise.all([nextLink(a, 'c'), nextLink(c, 'a')])
    expect(await exchange(ac.link, ca.link)).toEqual(Uint8Array.of(7, 7))
    expect([...b.links().keys()].sort()).toEqual(['a', 'c'])
  })
})

describe('the mesh survives its signaling server going down', () => {
  it('a link that fails while the server is down is re-made through a connected peer', async () => {
    const s = await server()
    const channels = [ws(s.url), ws(s.url), ws(s.url)]
    const a = start('a', 'heal-room', [channels[0]!])
    const b = start('b', 'heal-room', [channels[1]!])
    const c = start('c', 'heal-room', [channels[2]!])
    const ac = nextLink(a, 'c')
    await Promise.all([ac, nextLink(a, 'b'), nextLink(b, 'c'), nextLink(c, 'a')])
    await s.close()
    await expect.poll(() => channels.every((ch) => !ch.connected)).toBe(true)
    const first = (await ac).link
    const again = Promise.all([nextLink(a, 'c'), nextLink(c, 'a')])
    first.close('simulated failure')
    const [ac2, ca2] = await again
    expect(ac2.link).not.toBe(first)
    expect(await exchange(ac2.link, ca2.link)).toEqual(Uint8Array.of(7, 7))
    expect(channels.every((ch) => !ch.connected)).toBe(true)
  })
})

describe('room secret', () => {
  const iterations = 100_000

  // Under a secret the room's name on the server is derived from the room key
  // (room-sealer.ts signalingRoom): a peer with another secret, or none, is in
  // another room and never meets the members, nor learns their ids.
  it('peers with the same secret connect; a peer with another secret never meets them', async () => {
    const s = await server()
    const good = await deriveRoomKey('right secret', 'secret-room', { iterations })
    const bad = await deriveRoomKey('wrong secret', 'secret-room', { iterations })
    const errors: TransportError[] = []
    const a = start('a', 'secret-room', [ws(s.url)], { roomKey: good })
    a.onError((e) => errors.push(e))
    const b = start('b', 'secret-room', [ws(s.url)], { roomKey: good })
    const [ab, ba] = await Promise.all([nextLink(a, 'b'), nextLink(b, 'a')])
    expect(await exchange(ab.link, ba.link)).toEqual(Uint8Array.of(7, 7))

    const m = start('m', 'secret-room', [ws(s.url)], { roomKey: bad })
    const mLinks: string[] = []
    m.onLink((l) => mLinks.push(l.peer))
    // a member that comes after m still meets a and b: m was in the way of nothing
    const c = start('c', 'secret-room', [ws(s.url)], { roomKey: good })
    await Promise.all([nextLink(a, 'c'), nextLink(c, 'a'), nextLink(b, 'c'), nextLink(c, 'b')])
    expect([...a.links().keys()].sort()).toEqual(['b', 'c'])
    expect(mLinks).toEqual([])
    expect(errors.filter((e) => e.peer === 'm')).toEqual([])
  })

  it('a peer without any secret never meets the members', async () => {
    const s = await server()
    const key = await deriveRoomKey('s3cret', 'open-room', { iterations })
    const a = start('a', 'open-room', [ws(s.url)], { roomKey: key })
    const x = start('x', 'open-room', [ws(s.url)])
    const y = start('y', 'open-room', [ws(s.url)])
    // x and y meet in the room by its plain name; a is not there
    await Promise.all([nextLink(x, 'y'), nextLink(y, 'x')])
    expect(a.links().size).toBe(0)
    expect(a.knownPeers()).toEqual([])
    expect(x.knownPeers()).toEqual(['y/taby'])
  })
})

describe('createMeshTransport (from joinMesh-style options)', () => {
  it('builds transports that meet through a server URL with a secret', async () => {
    const s = await server()
    const make = async (member: string) => {
      const t = await createMeshTransport({
        self: { member, tab: 't', browser: member },
        room: 'created-room',
        signaling: s.url,
        secret: 'shh',
        secretIterations: 100_000,
        broadcastChannel: false,
        websocket: { WebSocket: WebSocket as unknown as WebSocketConstructor },
        peerFactory: nodePeerFactory(wrtc),
      })
      cleanup.push(() => t.close())
      return t
    }
    const a = await make('a')
    const ab = nextLink(a, 'b')
    const b = await make('b')
    const [x, y] = await Promise.all([ab, nextLink(b, 'a')])
    expect(await exchange(x.link, y.link)).toEqual(Uint8Array.of(7, 7))
  })

  it('refuses to start with no way to find peers', async () => {
    await expect(createMeshTransport({ self: { member: 'a', tab: 't', browser: 'b' }, room: 'r', broadcastChannel: false, peerFactory: nodePeerFactory(wrtc) })).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' })
  })
})
