// Real WebRTC in Node: @roamhq/wrtc + simple-peer, peers found over
// BroadcastChannel (Node's global one), as two tabs of one browser would be.
import { afterEach, describe, expect, it } from 'vitest'
import wrtc from '@roamhq/wrtc'
import { BroadcastChannelSignaling } from '../../src/transport/broadcast-channel-signaling'
import { MeshTransport } from '../../src/transport/mesh-transport'
import type { MeshTransportOptions } from '../../src/transport/mesh-transport'
import { nodePeerFactory } from '../../src/transport/simple-peer-node'
import { nextLink, nextMessage } from './links'
import type { Link } from '../../src/transport/types'
import { patterned, sameBytes } from './bytes'
import type { MemberKey } from '../../src/wire/member-key'
import { namedKeys } from './identities'

/** member keys, named in the order of their ids */
const K = await namedKeys('a', 'b')

const open: MeshTransport[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()))
})

let roomCounter = 0
function start(identity: MemberKey, room: string, extra: Partial<MeshTransportOptions> = {}): MeshTransport {
  const t = new MeshTransport({
    self: { member: identity.id, tab: 'tab', browser: 'node' },
    identity,
    room,
    signaling: [new BroadcastChannelSignaling()],
    peerFactory: nodePeerFactory(wrtc),
    backoffBaseMs: 50,
    backoffMaxMs: 500,
    ...extra,
  })
  open.push(t)
  return t
}



describe('MeshTransport over WebRTC in Node (wrtc) with BroadcastChannel signaling', () => {
  it('two peers make one link each way, exchange hellos, small and 3 MiB messages in order', async () => {
    const room = `room-${process.pid}-${roomCounter++}`
    const a = start(K.a, room)
    const aSeesB = nextLink(a, K.b.id)
    const b = start(K.b, room)
    const bSeesA = nextLink(b, K.a.id)
    const [ab, ba] = await Promise.all([aSeesB, bSeesA])
    expect(ab.hello).toEqual({ member: K.b.id, tab: 'tab', browser: 'node' })
    expect(ba.hello).toEqual({ member: K.a.id, tab: 'tab', browser: 'node' })
    expect([...a.links().keys()]).toEqual([K.b.id])
    expect([...b.links().keys()]).toEqual([K.a.id])

    const got: Uint8Array[] = []
    const big = patterned(3 * 1024 * 1024, 9)
    const allIn = new Promise<void>((resolve) => {
      ba.link.onMessage((m) => {
        got.push(m)
        if (got.length === 4) resolve()
      })
    })
    const t0 = performance.now()
    ab.link.send(Uint8Array.of(1))
    ab.link.send(big)
    ab.link.send(Uint8Array.of(3))
    ab.link.send(new Uint8Array(0))
    await allIn
    const ms = performance.now() - t0
    console.log(`[figure] wrtc Node: 3 MiB + 3 small messages delivered in ${ms.toFixed(0)} ms (${((3 / ms) * 1000).toFixed(1)} MiB/s)`)
    expect(got[0]).toEqual(Uint8Array.of(1))
    expect(sameBytes(got[1], big)).toBe(true)
    expect(got[2]).toEqual(Uint8Array.of(3))
    expect(got[3]!.length).toBe(0)

    // round trip of a small message, printed (no timing assertion)
    const echoes = ba.link.onMessage((m) => ba.link.send(m))
    const rtts: number[] = []
    for (let i = 0; i < 20; i++) {
      const s = performance.now()
      const back = nextMessage(ab.link)
      ab.link.send(Uint8Array.of(i))
      expect(await back).toEqual(Uint8Array.of(i))
      rtts.push(performance.now() - s)
    }
    echoes()
    rtts.sort((x, y) => x - y)
    console.log(`[figure] wrtc Node round trip: median ${rtts[10]!.toFixed(2)} ms, max ${rtts[19]!.toFixed(2)} ms`)
  })

  it('a link that dies is re-made, and the new link replaces the old one', async () => {
    const room = `room-${process.pid}-${roomCounter++}`
    const a = start(K.a, room)
    const b = start(K.b, room)
    const [first] = await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    const closed = new Promise<string>((resolve) => first.link.onClose(resolve))
    const again = nextLink(a, K.b.id)
    const againB = nextLink(b, K.a.id)
    // kill the data channel under the link, as a network failure would
    first.link.close('simulated failure')
    expect(await closed).toBe('simulated failure')
    const [second, secondB] = await Promise.all([again, againB])
    expect(second.link).not.toBe(first.link)
    expect(second.link.open).toBe(true)
    expect(a.links().get(K.b.id)).toBe(second.link)
    const msg = nextMessage(secondB.link)
    second.link.send(Uint8Array.of(42))
    expect(await msg).toEqual(Uint8Array.of(42))
  })

  it('a link from a new tab of a member replaces the link to its old tab', async () => {
    const room = `room-${process.pid}-${roomCounter++}`
    const a = start(K.a, room)
    const oldTab = start(K.b, room, { self: { member: K.b.id, tab: 'old', browser: 'node' } })
    const first = await nextLink(a, K.b.id)
    expect(first.hello.tab).toBe('old')
    const replaced = new Promise<string>((resolve) => first.link.onClose(resolve))
    const fromNewTab = new Promise<{ link: Link; tab: string }>((resolve) => {
      const off = a.onLink((link, hello) => {
        if (hello.tab !== 'new') return
        off()
        resolve({ link, tab: hello.tab })
      })
    })
    // the new tab takes the member over (the old one would be dead: its Web Lock is free)
    start(K.b, room, { self: { member: K.b.id, tab: 'new', browser: 'node' } })
    const second = await fromNewTab
    expect(await replaced).toBe('replaced')
    await oldTab.close()
    expect(a.links().get(K.b.id)).toBe(second.link)
    expect(second.link.open).toBe(true)
  })

  it('closing a transport closes its links in the other peer', async () => {
    const room = `room-${process.pid}-${roomCounter++}`
    const a = start(K.a, room)
    const b = start(K.b, room)
    const [ab] = await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    const closed = new Promise<string>((resolve) => ab.link.onClose(resolve))
    await b.close()
    expect(typeof (await closed)).toBe('string')
    expect(ab.link.open).toBe(false)
    expect(a.links().has(K.b.id)).toBe(false)
    expect(() => ab.link.send(Uint8Array.of(1))).toThrow(/CLOSED/)
  })
})
