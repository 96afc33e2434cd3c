// The virtual WebRTC peer (src/testing/virtual-peer.ts), the virtual signaling
// server and the seeded member keys: what MeshTransport runs on in a
// simulated cluster with transport 'mesh'.
import { describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'
import { VirtualHosts } from '../../src/testing/virtual-host'
import type { VirtualHost } from '../../src/testing/virtual-host'
import { VirtualPeer, DEFAULT_PEER_TIMING } from '../../src/testing/virtual-peer'
import { VirtualSignalingServer } from '../../src/testing/virtual-signaling'
import { SeededKeyring } from '../../src/testing/seeded-member-keys'
import type { HelloTranscript } from '../../src/wire/member-key'

function world(seed = 1) {
  const clock = new VirtualClock()
  const network = new VirtualNetwork<Uint8Array>(clock, prng.create(seed), { minDelay: 1, maxDelay: 10 })
  const hosts = new VirtualHosts(network, clock)
  return { clock, network, hosts }
}

interface Watched {
  peer: VirtualPeer
  data: number[]
  closed: boolean
  errors: string[]
  connected: boolean
}

function watch(peer: VirtualPeer): Watched {
  const w: Watched = { peer, data: [], closed: false, errors: [], connected: false }
  peer.on('data', ((d: Uint8Array) => w.data.push(d[0]!)) as never)
  peer.on('close', (() => (w.closed = true)) as never)
  peer.on('error', ((e: Error) => w.errors.push(e.message)) as never)
  peer.on('connect', (() => (w.connected = true)) as never)
  return w
}

/** two peers whose signals are passed to each other directly, connected */
function pair(seed = 1) {
  const w = world(seed)
  const ha = w.hosts.host('a')
  const hb = w.hosts.host('b')
  const a = watch(new VirtualPeer(ha, true, DEFAULT_PEER_TIMING))
  const b = watch(new VirtualPeer(hb, false, DEFAULT_PEER_TIMING))
  const kinds: string[] = []
  a.peer.on('signal', ((s: { type: string }) => (kinds.push(`a:${s.type}`), b.peer.signal(s))) as never)
  b.peer.on('signal', ((s: { type: string }) => (kinds.push(`b:${s.type}`), a.peer.signal(s))) as never)
  expect(w.clock.runUntil(() => a.connected && b.connected, 5_000)).toBe(true)
  return { ...w, ha, hb, a, b, kinds }
}

const send = (p: VirtualPeer, from: number, to: number): void => {
  for (let i = from; i < to; i++) p.write(new Uint8Array([i]))
}

describe('virtual WebRTC peer', () => {
  it('connects through offer, answer and candidates passed as data', () => {
    const { kinds } = pair()
    expect(kinds).toEqual(['a:offer', 'a:candidate', 'b:answer', 'b:candidate'])
  })

  it('delivers every message once and in order, whatever the network does to packets', () => {
    const { clock, network, a, b } = pair()
    network.configure({ dropRate: 0.3, duplicateRate: 0.3, reorderRate: 1 })
    send(a.peer, 0, 100)
    clock.advance(1_000)
    expect(b.data).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('a partition stalls the channel; healed in time, what was sent arrives in order and the channel stays open', () => {
    const { clock, network, a, b } = pair()
    send(a.peer, 0, 5)
    network.partition(['a'], ['b'])
    send(a.peer, 5, 10)
    clock.advance(2_000)
    expect(b.data.length).toBeLessThan(10)
    network.heal()
    clock.advance(2_000)
    expect(b.data).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(a.closed || b.closed).toBe(false)
  })

  it('a partition that lasts closes the channel on both sides after the consent timeout, not before', () => {
    const { clock, network, a, b } = pair()
    network.partition(['a'], ['b'])
    clock.advance(DEFAULT_PEER_TIMING.consentTimeoutMs - 1_100)
    expect(a.closed || b.closed).toBe(false)
    clock.advance(2_200)
    expect(a.closed && b.closed).toBe(true)
    expect(a.errors).toEqual(['consent expired'])
    expect(b.errors).toEqual(['consent expired'])
  })

  it('a crashed peer: the channel stalls, then closes', () => {
    const { clock, hb, a, b } = pair()
    hb.shutdown()
    clock.advance(DEFAULT_PEER_TIMING.consentTimeoutMs - 1_100)
    expect(a.closed).toBe(false)
    clock.advance(2_200)
    expect(a.closed).toBe(true)
    expect(b.closed).toBe(false) // a crashed tab runs nothing
  })

  it('a closed peer closes the channel at once, after what it carried', () => {
    const { clock, a, b } = pair()
    send(a.peer, 0, 20)
    a.peer.destroy()
    clock.advance(30)
    expect(b.data).toHaveLength(20)
    expect(b.closed).toBe(true)
    expect(b.errors).toEqual([])
    expect(a.closed).toBe(true)
  })

  it('never connects when checks cannot get through (ICE fails)', () => {
    const { clock, network, hosts } = world()
    network.partition(['a'], ['b'])
    const a = watch(new VirtualPeer(hosts.host('a'), true, DEFAULT_PEER_TIMING))
    const b = watch(new VirtualPeer(hosts.host('b'), false, DEFAULT_PEER_TIMING))
    a.peer.on('signal', ((s: unknown) => b.peer.signal(s)) as never)
    b.peer.on('signal', ((s: unknown) => a.peer.signal(s)) as never)
    clock.advance(DEFAULT_PEER_TIMING.consentTimeoutMs + 1_000)
    expect(a.connected || b.connected).toBe(false)
    expect(a.errors).toEqual(['ICE failed'])
    expect(a.closed && b.closed).toBe(true)
  })

  it('refuses signals it cannot read', () => {
    const { hosts } = world()
    const p = new VirtualPeer(hosts.host('a'), false, DEFAULT_PEER_TIMING)
    expect(() => p.signal({ type: 'candidate', candidate: { candidate: 'virtual a x' } })).toThrow()
    expect(() => p.signal({ type: 'answer', sdp: 'virtual answer' })).toThrow() // the answerer gets offers
    expect(() => p.signal({ nonsense: true })).toThrow()
  })
})

describe('virtual signaling server', () => {
  it('announces presence both ways, passes signals with network delay, and says when a peer leaves', () => {
    const { clock, hosts } = world()
    const server = new VirtualSignalingServer(hosts)
    const events: string[] = []
    const channel = (host: VirtualHost, name: string) => {
      const c = server.channel(host)
      c.onPeer((peer, present) => events.push(`${name} sees ${peer} ${present ? 'present' : 'gone'}`))
      c.onSignal((from, data) => events.push(`${name} from ${from}: ${String(data.x)}`))
      return c
    }
    const a = channel(hosts.host('a'), 'a')
    const b = channel(hosts.host('b'), 'b')
    a.join('room', 'a/t')
    clock.advance(50)
    b.join('room', 'b/t')
    clock.advance(50)
    expect(server.present('room')).toEqual(['a/t', 'b/t'])
    const sentAt = clock.now()
    a.signal('b/t', { x: 1 })
    expect(clock.runUntil(() => events.includes('b from a/t: 1'), 100)).toBe(true)
    // two hops (a → server → b), each at least the network's least delay
    expect(clock.now() - sentAt).toBeGreaterThanOrEqual(2)
    a.close()
    clock.advance(50)
    expect(events.slice(0, 2).sort()).toEqual(['a sees b/t present', 'b sees a/t present'])
    expect(events.slice(2)).toEqual(['b from a/t: 1', 'b sees a/t gone'])
    expect(server.present('room')).toEqual(['b/t'])
  })

  it('an isolated member is not connected, and its signals wait for the heal', () => {
    const { clock, network, hosts } = world()
    const server = new VirtualSignalingServer(hosts)
    const a = server.channel(hosts.host('a'))
    const b = server.channel(hosts.host('b'))
    const got: unknown[] = []
    b.onSignal((_from, data) => got.push(data.x))
    a.join('room', 'a/t')
    b.join('room', 'b/t')
    clock.advance(50)
    network.isolate('a')
    expect(a.connected).toBe(false)
    a.signal('b/t', { x: 'late' })
    clock.advance(1_000)
    expect(got).toEqual([])
    network.heal()
    clock.advance(1_000)
    expect(got).toEqual(['late'])
  })
})

describe('seeded member keys', () => {
  const t: HelloTranscript = { room: 'r', signer: 'm1/t', signerBrowser: 'b', verifier: 'm2/t', attempt: 'x', signerChallenge: new Uint8Array(32), verifierChallenge: new Uint8Array(32).fill(1) }

  it('a signature verifies for its key and id; altered, shown for another id, or made without the key, it does not', async () => {
    const keys = new SeededKeyring(prng.create(7))
    const m1 = keys.keyFor('m1')
    const m2 = keys.keyFor('m2')
    expect(keys.deriveId(m1)).toBe('m1')
    expect(keys.keyFor('m1')).toBe(m1)
    const sig = await keys.sign(m1, t)
    await expect(keys.verify('m1', m1, sig, t)).resolves.toBeUndefined()
    const altered = sig.slice()
    altered[0]! ^= 1
    await expect(keys.verify('m1', m1, altered, t)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(keys.verify('m2', m1, sig, t)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(keys.verify('m1', m1, sig, { ...t, attempt: 'y' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    // m2 holds its own key, not m1's: a key object made up with m1's public half cannot sign
    await expect(keys.sign({ ...m1, privateKey: m2.privateKey }, t)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('the same seed gives the same keys and signatures', async () => {
    const one = new SeededKeyring(prng.create(7))
    const two = new SeededKeyring(prng.create(7))
    expect(await one.sign(one.keyFor('m1'), t)).toEqual(await two.sign(two.keyFor('m1'), t))
  })
})
