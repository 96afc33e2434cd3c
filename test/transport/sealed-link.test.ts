// Under a room secret every message on a link is sealed (issue 5): what an
// eavesdropper on the data channel reads is ciphertext, and a replayed,
// tampered or foreign frame closes the link without being delivered. First a
// FramedLink with a LinkSecurity over an in-memory pipe, then whole
// MeshTransports (handshake, proof, sealing) over stand-in WebRTC peers.
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { dataFrames, FRAME_DATA, Reassembler } from '../../src/transport/framing'
import { FramedLink } from '../../src/transport/link'
import { memoryPortPair } from '../../src/transport/memory-port'
import type { MemoryPort } from '../../src/transport/memory-port'
import { roomKeySealer } from '../../src/transport/room-sealer'
import { MeshTransport } from '../../src/transport/mesh-transport'
import type { MeshTransportOptions } from '../../src/transport/mesh-transport'
import type { TransportError } from '../../src/transport/errors'
import { ENVELOPE_KIND, encodeEnvelope, WIRE_VERSION } from '../../src/wire/envelope'
import { WireError } from '../../src/wire/errors'
import { LinkSecurity } from '../../src/wire/link-security'
import { ReplayGuard, SealCounter } from '../../src/wire/replay'
import { deriveRoomKey } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { containsBytes, FakePeerNet } from './fake-peers'
import { nextLink, nextMessage } from './links'
import type { MemberKey } from '../../src/wire/member-key'
import { namedKeys } from './identities'
import { MemorySignalingHub } from './memory-signaling'

/** member keys, named in the order of their ids */
const K = await namedKeys('a', 'b', 'm')


let key: RoomKey
let otherKey: RoomKey
beforeAll(async () => {
  ;[key, otherKey] = await Promise.all([deriveRoomKey('s3cret', 'room', { iterations: 100_000 }), deriveRoomKey('guess', 'room', { iterations: 100_000 })])
})

/** A recognisable plaintext: if these bytes show up on the channel, it was not sealed. */
const MARKER = new TextEncoder().encode('meshkeeper-plaintext-marker/0123456789')

/** The data payloads (whole messages) in the frames a port wrote. */
function dataMessages(port: MemoryPort): Uint8Array[] {
  const r = new Reassembler()
  const out: Uint8Array[] = []
  for (const f of port.written) {
    const got = r.push(f)
    if (got.kind === 'data') out.push(got.message)
  }
  return out
}

function pair(secured: boolean) {
  const [pa, pb] = memoryPortPair({ record: true })
  const errors: unknown[] = []
  const secA = secured ? new LinkSecurity(key, 'ma', new SealCounter(), new ReplayGuard()) : undefined
  const secB = secured ? new LinkSecurity(key, 'mb', new SealCounter(), new ReplayGuard()) : undefined
  const a = new FramedLink('mb', pa, { onError: (e) => errors.push(e), ...(secA === undefined ? {} : { security: secA }) })
  const b = new FramedLink('ma', pb, { onError: (e) => errors.push(e), ...(secB === undefined ? {} : { security: secB }) })
  return { a, b, pa, pb, secA, secB, errors }
}

async function handshake(secA: LinkSecurity, secB: LinkSecurity): Promise<void> {
  const [proofA, proofB] = await Promise.all([secA.prove('mb', secB.challenge), secB.prove('ma', secA.challenge)])
  await Promise.all([secA.accept(proofB), secB.accept(proofA)])
}

const closeReason = (link: FramedLink): Promise<string> => new Promise((resolve) => link.onClose(resolve))

describe('FramedLink with a LinkSecurity', () => {
  it('without security the channel carries the plaintext (the check below can fail)', async () => {
    const { a, b, pa } = pair(false)
    const got = nextMessage(b)
    a.send(MARKER)
    expect(await got).toEqual(MARKER)
    expect(pa.written.some((f) => containsBytes(f, MARKER))).toBe(true)
  })

  it('every message is sealed on the channel and opened whole, in order, on the other side', async () => {
    const { a, b, pa, secA, secB, errors } = pair(true)
    await handshake(secA!, secB!)
    const msgs = [MARKER, new Uint8Array(0), new Uint8Array(100_000).fill(7), Uint8Array.of(...MARKER, ...MARKER)]
    const got: Uint8Array[] = []
    const all = new Promise<void>((resolve) =>
      b.onMessage((m) => {
        got.push(m)
        if (got.length === msgs.length) resolve()
      }),
    )
    for (const m of msgs) a.send(m)
    await all
    expect(got).toEqual(msgs)
    expect(pa.written.length).toBeGreaterThan(msgs.length) // the 100 KB one took several frames
    expect(pa.written.some((f) => containsBytes(f, MARKER))).toBe(false)
    expect(errors).toEqual([])
    expect(a.queuedBytes).toBe(0)
  })

  it('nothing the peer sends is delivered before its proof verifies; then all of it, in order', async () => {
    const { a, b, secA, secB } = pair(true)
    const proofB = await secB!.prove('ma', secA!.challenge)
    const proofA = await secA!.prove('mb', secB!.challenge)
    await secA!.accept(proofB) // a is open and sends at once; b has not checked a's proof yet
    const got: Uint8Array[] = []
    b.onMessage((m) => got.push(m))
    a.send(Uint8Array.of(1))
    a.send(Uint8Array.of(2))
    await new Promise((r) => setTimeout(r, 20))
    expect(got).toEqual([])
    await secB!.accept(proofA)
    await expect.poll(() => got).toEqual([Uint8Array.of(1), Uint8Array.of(2)])
  })

  /** a proven pair after one MARKER message from a to b; `sealed` is what crossed the channel */
  async function afterOneMessage() {
    const p = pair(true)
    await handshake(p.secA!, p.secB!)
    const got: Uint8Array[] = []
    p.b.onMessage((m) => got.push(m))
    p.a.send(MARKER)
    await expect.poll(() => got.length).toBe(1)
    return { ...p, got, sealed: dataMessages(p.pa)[0]! }
  }

  it('a replayed message closes the link (BAD_MESSAGE replay) and is not delivered twice', async () => {
    const { b, pa, errors, got, sealed } = await afterOneMessage()
    // a hostile peer re-sends the sealed message in well-formed framing (the next seq)
    const closed = closeReason(b)
    for (const f of dataFrames(1, sealed)) pa.write(f)
    expect(await closed).toMatch(/replay/)
    expect(got).toEqual([MARKER])
    expect(errors.some((e) => e instanceof WireError && e.code === 'BAD_MESSAGE' && /replay/.test(e.message))).toBe(true)
  })

  it('a tampered message closes the link (UNAUTHORIZED) and is not delivered', async () => {
    const { b, pa, errors, got, sealed } = await afterOneMessage()
    const forged = sealed.slice()
    forged[forged.length - 1]! ^= 1
    const closed = closeReason(b)
    for (const f of dataFrames(1, forged)) pa.write(f)
    expect(await closed).toMatch(/bad frame/)
    expect(got).toEqual([MARKER])
    expect(errors.some((e) => e instanceof WireError && e.code === 'UNAUTHORIZED')).toBe(true)
  })

  it('a plain (unsealed) envelope on a sealed link closes it (UNAUTHORIZED); bytes that are no envelope close it too (BAD_MESSAGE)', async () => {
    for (const [message, code] of [
      [encodeEnvelope({ room: key.tag, kind: ENVELOPE_KIND.node, sender: 'ma', seal: null, body: MARKER }), 'UNAUTHORIZED'],
      [Uint8Array.of(WIRE_VERSION, ...MARKER), 'BAD_MESSAGE'],
    ] as const) {
      const { b, pa, secA, secB, errors } = pair(true)
      await handshake(secA!, secB!)
      const got: Uint8Array[] = []
      b.onMessage((m) => got.push(m))
      const closed = closeReason(b)
      for (const f of dataFrames(0, message)) pa.write(f)
      expect(await closed).toMatch(/bad frame/)
      expect(got).toEqual([])
      expect(errors.map((e) => (e as WireError).code)).toContain(code)
    }
  })
})

describe('MeshTransport under a room key (stand-in WebRTC peers)', () => {
  const open: MeshTransport[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()))
  })

  function start(identity: MemberKey, hub: MemorySignalingHub, net: FakePeerNet, extra: Partial<MeshTransportOptions> = {}): MeshTransport {
    const t = new MeshTransport({ self: { member: identity.id, tab: 't', browser: 'bnode' }, identity, room: 'room', signaling: [hub.channel()], peerFactory: net.factory, backoffBaseMs: 20, backoffMaxMs: 200, ...extra })
    open.push(t)
    return t
  }

  /** every data message any peer wrote, reassembled per peer */
  function channelMessages(net: FakePeerNet): Uint8Array[] {
    const perPeer = new Map<unknown, Reassembler>()
    const out: Uint8Array[] = []
    for (const { from, chunk } of net.written) {
      if (chunk[0] !== FRAME_DATA) continue
      let r = perPeer.get(from)
      if (r === undefined) perPeer.set(from, (r = new Reassembler()))
      const got = r.push(chunk)
      if (got.kind === 'data') out.push(got.message)
    }
    return out
  }

  it('without a key the link carries plaintext (control for the next test)', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const a = start(K.a, hub, net)
    const b = start(K.b, hub, net)
    const [ab, ba] = await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    const got = nextMessage(ba.link)
    ab.link.send(MARKER)
    expect(await got).toEqual(MARKER)
    expect(channelMessages(net).some((m) => containsBytes(m, MARKER))).toBe(true)
  })

  it('with the same key: links form after both proofs, messages both ways arrive, the channel carries only ciphertext', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const errors: TransportError[] = []
    const a = start(K.a, hub, net, { roomKey: key })
    const b = start(K.b, hub, net, { roomKey: key })
    a.onError((e) => errors.push(e))
    b.onError((e) => errors.push(e))
    const [ab, ba] = await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    expect(ab.hello).toEqual({ member: K.b.id, tab: 't', browser: 'bnode' })
    const toB = nextMessage(ba.link)
    const toA = nextMessage(ab.link)
    ab.link.send(MARKER)
    ba.link.send(Uint8Array.of(...MARKER, 1))
    expect(await toB).toEqual(MARKER)
    expect(await toA).toEqual(Uint8Array.of(...MARKER, 1))
    const onChannel = channelMessages(net)
    expect(onChannel.length).toBeGreaterThanOrEqual(2)
    expect(onChannel.some((m) => containsBytes(m, MARKER))).toBe(false)
    // signaling is sealed too: no offer text in the clear (the lobby's key checks aside, lobby.ts)
    expect(hub.log.every((l) => typeof l.data.sealed === 'string' || l.data.lobby === 'check')).toBe(true)
    expect(errors).toEqual([])
  })

  it('a peer with another key is in another signaling room: it never gets a link, nor learns who is here, and is told UNAUTHORIZED', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const a = start(K.a, hub, net, { roomKey: key })
    const m = start(K.m, hub, net, { roomKey: otherKey })
    const mErrors: TransportError[] = []
    m.onError((e) => mErrors.push(e))
    const links: string[] = []
    a.onLink((l) => links.push(l.peer))
    m.onLink((l) => links.push(l.peer))
    const derived = () => hub.rooms.filter((r) => r !== 'room') // beside the lobbies' plain room
    await expect.poll(() => derived().length).toBe(2)
    expect(derived()[0]).not.toBe(derived()[1])
    // the lobby (lobby.ts) tells m its secret is not the members'
    await expect.poll(() => mErrors.map((e) => e.code)).toEqual(['UNAUTHORIZED'])
    // a member with the key, after m, still links with a
    const b = start(K.b, hub, net, { roomKey: key })
    await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    expect(links).toEqual([K.b.id]) // a's link to b; m made none
    expect(m.knownPeers()).toEqual([])
  })

  it('a signal sealed under another key (injected by a hostile server) is refused as UNAUTHORIZED, once per sender', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const errors: TransportError[] = []
    const a = start(K.a, hub, net, { roomKey: key })
    a.onError((e) => errors.push(e))
    await expect.poll(() => hub.members.has(`${K.a.id}/t`)).toBe(true)
    const forged = await roomKeySealer(otherKey).seal(JSON.stringify({ a: 'knock', k: 'knock' }), `signal:${K.m.id}/t->${K.a.id}/t`)
    for (let i = 0; i < 5; i++) hub.inject(`${K.m.id}/t`, `${K.a.id}/t`, { sealed: forged })
    await expect.poll(() => errors.length).toBe(1)
    expect(errors[0]).toMatchObject({ code: 'UNAUTHORIZED', peer: K.m.id })
    expect(a.knownPeers()).toEqual([])
  })

  it('a peer that injects bytes into an established sealed link loses the link, and nothing it wrote is delivered', async () => {
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const errors: TransportError[] = []
    const a = start(K.a, hub, net, { roomKey: key })
    const b = start(K.b, hub, net, { roomKey: key })
    b.onError((e) => errors.push(e))
    const [ab, ba] = await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    const got: Uint8Array[] = []
    ba.link.onMessage((m) => got.push(m))
    ab.link.send(Uint8Array.of(1))
    await expect.poll(() => got.length).toBe(1)
    // a's channel peer: replay the sealed message it just sent, with the framing's next seq
    const sent = channelMessages(net).at(-1)!
    const aPeer = net.written.at(-1)!.from
    const closed = new Promise<string>((resolve) => ba.link.onClose(resolve))
    for (const f of dataFrames(1, sent)) aPeer.inject(f)
    expect(await closed).toMatch(/replay/)
    expect(got).toEqual([Uint8Array.of(1)])
    expect(errors.some((e) => e.code === 'BAD_MESSAGE' && e.peer === K.a.id)).toBe(true)
    // the transport's error names its code once: `BAD_MESSAGE: replay`, not `BAD_MESSAGE: BAD_MESSAGE: replay`
    expect(errors.every((e) => !/^BAD_MESSAGE: BAD_MESSAGE/.test(e.message))).toBe(true)
  })
})
