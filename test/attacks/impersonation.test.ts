// Attack (issue 13): claim another member's id as a new tab, then send one
// junk frame. Before member keys, the impostor's hello replaced the honest
// member's link (a newer link of the same member wins) and its junk frame got
// the honest id penalised: the honest member was cut off for the whole
// penalty. Now a member id is the id of a key, every hello is signed over the
// link's challenges, and an unverified peer is held to account by its attempt
// only. Whole MeshTransports over stand-in WebRTC peers, with and without a
// room secret (with one, the impostor is an insider that knows it).
import { afterEach, describe, expect, it } from 'vitest'
import type { TransportError } from '../../src/transport/errors'
import { MeshTransport } from '../../src/transport/mesh-transport'
import type { PeerLike } from '../../src/transport/simple-peer-port'
import type { Link, PeerHello } from '../../src/transport/types'
import type { MemberKey } from '../../src/wire/member-key'
import { deriveRoomKey, MIN_PBKDF2_ITERATIONS } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { FakePeerNet } from '../transport/fake-peers'
import type { FakePeer } from '../transport/fake-peers'
import { nextLink } from '../transport/links'
import { namedKeys } from '../transport/identities'
import { MemorySignalingHub } from '../transport/memory-signaling'

const open: MeshTransport[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()))
})

/** a frame no framing accepts (no frame starts with 0xff) */
const JUNK = Uint8Array.of(0xff, 1, 2, 3)

function start(identity: MemberKey, tab: string, hub: MemorySignalingHub, net: FakePeerNet, roomKey: RoomKey | undefined, peers: FakePeer[] = [], onPeer: (p: FakePeer) => void = () => {}) {
  const links: Array<{ link: Link; hello: PeerHello }> = []
  const errors: TransportError[] = []
  const t = new MeshTransport({
    self: { member: identity.id, tab, browser: `b${tab}` },
    identity,
    room: 'room',
    signaling: [hub.channel()],
    peerFactory: (opts): PeerLike => {
      const p = net.factory(opts) as FakePeer
      peers.push(p)
      onPeer(p)
      return p
    },
    backoffBaseMs: 20,
    backoffMaxMs: 100,
    penalty: { baseMs: 60_000 },
    ...(roomKey === undefined ? {} : { roomKey }),
  })
  open.push(t)
  t.onLink((link, hello) => links.push({ link, hello }))
  t.onError((e) => errors.push(e))
  return { t, links, errors, peers }
}

type Forge = (honest: MemberKey, impostor: MemberKey) => MemberKey

/** the impostor's own key under the honest member's id: its hello shows a key that is not the id's */
const ownKey: Forge = (honest, impostor) => ({ ...impostor, id: honest.id })
/** the honest member's public key (it is public: every hello shows it), the impostor's private key */
const honestPublicKey: Forge = (honest, impostor) => ({ ...honest, privateKey: impostor.privateKey })

/** when the impostor sends its junk frame: as the link's first bytes (before
 *  its hello is read), or once the verifier has dealt with its hello */
type JunkWhen = 'first' | 'after-hello'

async function impersonate(secret: boolean, forge: Forge, junkWhen: JunkWhen) {
  const roomKey = secret ? await deriveRoomKey('s3cret', 'room', { iterations: MIN_PBKDF2_ITERATIONS }) : undefined
  const { a: verifier, h: honest, i: impostorKey } = await namedKeys('a', 'h', 'i')
  const hub = new MemorySignalingHub()
  const net = new FakePeerNet()
  const a = start(verifier, 't', hub, net, roomKey)
  const h = start(honest, 't', hub, net, roomKey)
  const [ah] = await Promise.all([nextLink(a.t, honest.id), nextLink(h.t, verifier.id)])

  // the impostor: a new tab claiming the honest member's id
  const impostorPeers: FakePeer[] = []
  const impostor = start(forge(honest, impostorKey), 'newtab', hub, net, roomKey, impostorPeers, (p) => {
    // the junk leaves before the hello (whose sending awaits WebCrypto)
    if (junkWhen === 'first') p.on('connect', () => p.inject(JUNK))
  })
  await expect.poll(() => impostorPeers.some((p) => p.twin !== null)).toBe(true)
  const channel = impostorPeers.find((p) => p.twin !== null)!
  if (junkWhen === 'after-hello') {
    await expect.poll(() => a.errors.length + a.links.filter((l) => l.hello.tab === 'newtab').length).toBeGreaterThan(0)
    channel.inject(JUNK)
  }
  // a is done with the impostor's channel when it has closed it
  await expect.poll(() => channel.closed).toBe(true)
  return { a, h, ah, honest, impostor }
}

describe('attack: impersonation — a new tab claims an honest member’s id and sends a junk frame', () => {
  for (const secret of [false, true]) {
    for (const [name, forge] of [
      ['with its own key', ownKey],
      ['showing the honest member’s public key', honestPublicKey],
    ] as const) {
      for (const junkWhen of ['first', 'after-hello'] as const) {
        it(`${secret ? 'with a room secret (an insider)' : 'without a room secret'}, ${name}, junk ${junkWhen === 'first' ? 'before its hello' : 'after its hello'}: the honest link stays, the honest id is not penalised, the impostor is refused`, async () => {
          const { a, ah, honest } = await impersonate(secret, forge, junkWhen)
          // the impostor never got a link: nothing from its tab was handed out
          expect(a.links.filter((l) => l.hello.tab === 'newtab')).toEqual([])
          // the honest member's link is the one it had, still open
          expect(a.t.links().get(honest.id)).toBe(ah.link)
          expect(ah.link.open).toBe(true)
          // nothing was held against the honest id
          expect(a.t.refusedFor(honest.id)).toBe(0)
          // the refusal is reported, typed
          expect(a.errors.some((e) => e.code === (junkWhen === 'first' ? 'BAD_MESSAGE' : 'UNAUTHORIZED'))).toBe(true)
        })
      }
    }
  }

  it('a verified member that sends a junk frame is still penalised under its own id', async () => {
    const { a: verifier, h: honest } = await namedKeys('a', 'h')
    const hub = new MemorySignalingHub()
    const net = new FakePeerNet()
    const a = start(verifier, 't', hub, net, undefined)
    const hPeers: FakePeer[] = []
    const h = start(honest, 't', hub, net, undefined, hPeers)
    const [ah] = await Promise.all([nextLink(a.t, honest.id), nextLink(h.t, verifier.id)])
    const closed = new Promise<string>((resolve) => ah.link.onClose(resolve))
    hPeers.find((p) => p.twin !== null && !p.closed)!.inject(JUNK)
    expect(await closed).toMatch(/^bad frame: /)
    expect(a.t.refusedFor(honest.id)).toBeGreaterThan(0)
  })
})
