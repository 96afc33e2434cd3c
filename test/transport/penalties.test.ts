// A member that breaks the protocol is refused for a while (issue 5, hostile
// peers): its link closes, nothing is re-made with it until the penalty ends,
// and then it is linked again like any peer. First the penalty book on a
// hand-driven clock, then whole MeshTransports over stand-in WebRTC peers.
import { afterEach, describe, expect, it } from 'vitest'
import { decodeControl } from '../../src/transport/control'
import { controlFrame } from '../../src/transport/framing'
import { MeshTransport } from '../../src/transport/mesh-transport'
import type { MeshTransportOptions } from '../../src/transport/mesh-transport'
import { PenaltyBox } from '../../src/transport/penalties'
import type { TransportError } from '../../src/transport/errors'
import { FakePeerNet } from './fake-peers'
import type { MemberKey } from '../../src/wire/member-key'
import { namedKeys } from './identities'
import { nextLink } from './links'
import { MemorySignalingHub } from './memory-signaling'

describe('PenaltyBox', () => {
  it('doubles the refusal with each offence up to the cap, and a strike while refused adds nothing', () => {
    let now = 0
    const box = new PenaltyBox({ baseMs: 100, maxMs: 350, forgetAfterMs: 10_000 }, () => now)
    expect(box.remaining('m')).toBe(0)
    expect(box.strike('m')).toBe(100)
    now = 50
    expect(box.strike('m')).toBe(50) // frames already in flight: the same offence
    expect(box.offences('m')).toBe(1)
    expect(box.remaining('m')).toBe(50)
    now = 100
    expect(box.remaining('m')).toBe(0)
    expect(box.strike('m')).toBe(200)
    now = 300
    expect(box.strike('m')).toBe(350) // 400, capped
    now = 650
    expect(box.strike('m')).toBe(350)
    expect(box.offences('m')).toBe(4)
    expect(box.remaining('other')).toBe(0)
  })

  it('forgets the offences after a clean spell', () => {
    let now = 0
    const box = new PenaltyBox({ baseMs: 100, maxMs: 1_000, forgetAfterMs: 500 }, () => now)
    box.strike('m')
    now = 100 + 500 // exactly the spell: still on record
    expect(box.offences('m')).toBe(1)
    now = 100 + 501
    expect(box.offences('m')).toBe(0)
    expect(box.strike('m')).toBe(100)
  })

  it('tracks a bounded number of members, dropping the oldest offender first', () => {
    let now = 0
    const box = new PenaltyBox({ baseMs: 1_000, maxEntries: 3 }, () => now)
    for (const m of ['a', 'b', 'c']) box.strike(m)
    now = 1
    box.strike('a') // still refused: not a new offence, but a stays where it was
    box.strike('d')
    expect(box.remaining('a')).toBe(0) // the oldest entry went
    expect(['b', 'c', 'd'].map((m) => box.remaining(m) > 0)).toEqual([true, true, true])
  })
})

/** a < b by id, so a initiates */
const K = await namedKeys('a', 'b')

describe('MeshTransport refuses a member that broke the protocol', () => {
  const open: MeshTransport[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()))
  })

  const PENALTY_MS = 300

  /** a transport whose WebRTC peers are counted, so a test can see that none is made while refused */
  function start(identity: MemberKey, hub: MemorySignalingHub, net: FakePeerNet, extra: Partial<MeshTransportOptions> = {}) {
    const peersMade: number[] = []
    const t = new MeshTransport({
      self: { member: identity.id, tab: 't', browser: `b${identity.id}` },
      identity,
      room: 'room',
      signaling: [hub.channel()],
      peerFactory: (opts) => {
        peersMade.push(Date.now())
        return net.factory(opts)
      },
      backoffBaseMs: 20,
      backoffMaxMs: 100,
      penalty: { baseMs: PENALTY_MS },
      ...extra,
    })
    open.push(t)
    const linkedAt: number[] = []
    t.onLink(() => linkedAt.push(Date.now()))
    return { t, peersMade, linkedAt }
  }

  it('refuse(): the link closes on both sides, no attempt is made or answered while refused, then it links again', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const a = start(K.a, hub, net)
    const b = start(K.b, hub, net)
    const [ab, ba] = await Promise.all([nextLink(a.t, K.b.id), nextLink(b.t, K.a.id)])
    const closedA = new Promise<string>((resolve) => ab.link.onClose(resolve))
    const closedB = new Promise<string>((resolve) => ba.link.onClose(resolve))
    const again = nextLink(a.t, K.b.id)
    const refusedAt = Date.now()
    a.t.refuse(K.b.id, 'sent a message that does not decode')
    expect(await closedA).toBe('refused: sent a message that does not decode')
    await closedB // the data channel closes under b too
    expect(a.t.refusedFor(K.b.id)).toBeGreaterThan(0)
    expect(a.t.links().has(K.b.id)).toBe(false)
    expect(b.t.refusedFor(K.a.id)).toBe(0) // b refused nobody

    await again
    // nothing a made or took from b while b was refused (a is the initiator of this pair)
    const early = (ts: number[]) => ts.filter((ms) => ms > refusedAt && ms < refusedAt + PENALTY_MS - 5)
    expect(early(a.peersMade)).toEqual([])
    expect(early(a.linkedAt)).toEqual([])
    expect(a.linkedAt.at(-1)! - refusedAt).toBeGreaterThanOrEqual(PENALTY_MS - 5)
    expect(a.t.links().get(K.b.id)?.open).toBe(true)
  })

  /** a and b linked; a's errors recorded, a's link to b watched for its close, b's end of the wire to inject from */
  async function linkedPairWatchingA() {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const errors: TransportError[] = []
    const a = start(K.a, hub, net)
    a.t.onError((e) => errors.push(e))
    const b = start(K.b, hub, net)
    const [ab] = await Promise.all([nextLink(a.t, K.b.id), nextLink(b.t, K.a.id)])
    const closed = new Promise<string>((resolve) => ab.link.onClose(resolve))
    const bPeer = [...net.peers].reverse().find((p) => !p.initiator && !p.closed)!
    return { a, b, errors, closed, bPeer }
  }

  it('refused by the answering side: the initiator keeps offering and no offer is answered until the penalty ends', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    // an unanswered offer is given up after the connect timeout, then retried
    const a = start(K.a, hub, net, { connectTimeoutMs: 200 })
    const b = start(K.b, hub, net)
    await Promise.all([nextLink(a.t, K.b.id), nextLink(b.t, K.a.id)])
    const again = nextLink(b.t, K.a.id)
    const offersBefore = a.peersMade.length
    const refusedAt = Date.now()
    b.t.refuse(K.a.id, 'out of protocol')
    await again
    // a tried again (its retries), b answered none of them while a was refused
    expect(a.peersMade.length).toBeGreaterThan(offersBefore)
    expect(b.peersMade.filter((ms) => ms > refusedAt && ms < refusedAt + PENALTY_MS - 5)).toEqual([])
    expect(b.linkedAt.at(-1)! - refusedAt).toBeGreaterThanOrEqual(PENALTY_MS - 5)
  })

  it('a frame that breaks the framing closes the link and the sender is refused like one the node refused', async () => {
    const { a, errors, closed, bPeer } = await linkedPairWatchingA()
    const again = nextLink(a.t, K.b.id)
    const at = Date.now()
    bPeer.inject(Uint8Array.of(0xff, 1, 2, 3)) // no frame starts with 0xff
    expect(await closed).toMatch(/^bad frame: /)
    expect(errors.some((e) => e.code === 'BAD_MESSAGE' && e.peer === K.b.id)).toBe(true)
    expect(a.t.refusedFor(K.b.id)).toBeGreaterThan(0)
    await again
    expect(a.linkedAt.at(-1)! - at).toBeGreaterThanOrEqual(PENALTY_MS - 5)
  })

  it('a control message we do not speak refuses the sender too', async () => {
    const { a, errors, closed, bPeer } = await linkedPairWatchingA()
    // a well-framed control frame whose body is no control message
    expect(() => decodeControl(Uint8Array.of(0x7f, 0x7f, 0x7f))).toThrow()
    bPeer.inject(controlFrame(Uint8Array.of(0x7f, 0x7f, 0x7f)))
    expect(await closed).toBe('refused: bad control message')
    expect(errors.some((e) => e.code === 'BAD_MESSAGE' && e.peer === K.b.id)).toBe(true)
    expect(a.t.refusedFor(K.b.id)).toBeGreaterThan(0)
  })

  it('refusing oneself, or after close, does nothing', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const a = start(K.a, hub, net)
    a.t.refuse(K.a.id, 'self')
    expect(a.t.refusedFor(K.a.id)).toBe(0)
    await a.t.close()
    a.t.refuse(K.b.id, 'late')
    expect(a.t.refusedFor(K.b.id)).toBe(0)
  })
})
