// The rules of MeshTransport that keep one link per pair and survive a bad
// signaling path; real WebRTC (wrtc) over an in-memory signaling hub.
import { afterEach, describe, expect, it } from 'vitest'
import wrtc from '@roamhq/wrtc'
import type { TransportError } from '../../src/transport/errors'
import { MeshTransport } from '../../src/transport/mesh-transport'
import type { MeshTransportOptions } from '../../src/transport/mesh-transport'
import { nodePeerFactory } from '../../src/transport/simple-peer-node'
import type { PeerFactory } from '../../src/transport/simple-peer-port'
import { nextLink } from './links'
import type { MemberKey } from '../../src/wire/member-key'
import { namedKeys } from './identities'
import { MemorySignalingHub } from './memory-signaling'

/** member keys, named in the order of their ids */
const K = await namedKeys('a', 'b')


const open: MeshTransport[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()))
})

function start(identity: MemberKey, hub: MemorySignalingHub, peerFactory: PeerFactory = nodePeerFactory(wrtc), extra: Partial<MeshTransportOptions> = {}): MeshTransport {
  const t = new MeshTransport({ self: { member: identity.id, tab: 't', browser: 'node' }, identity, room: 'r', signaling: [hub.channel()], peerFactory, backoffBaseMs: 20, backoffMaxMs: 200, ...extra })
  open.push(t)
  return t
}

/** counts the peers each side makes, by role */
function countingFactory(roles: boolean[]): PeerFactory {
  const inner = nodePeerFactory(wrtc)
  return (opts) => {
    roles.push(opts.initiator)
    return inner(opts)
  }
}

describe('MeshTransport rules', () => {
  it('only the lower signaling id initiates: one attempt, one link per pair', async () => {
    const hub = new MemorySignalingHub()
    const aRoles: boolean[] = []
    const bRoles: boolean[] = []
    const a = start(K.a, hub, countingFactory(aRoles))
    const b = start(K.b, hub, countingFactory(bRoles))
    await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    expect(aRoles).toEqual([true])
    expect(bRoles).toEqual([false])
    const kinds = hub.log.map((l) => `${l.from}:${String(l.data.k)}`)
    expect(kinds.filter((k) => k === `${K.b.id}/t:knock`).length).toBeGreaterThanOrEqual(1)
  })

  it('a lost knock is repeated until the initiator answers', async () => {
    const hub = new MemorySignalingHub()
    let dropped = 0
    // b learns of a first; a never sees b join (its presence event is lost), so
    // only b's knock can make a start; the first two knocks are lost
    hub.presence = (peer, observer) => !(peer === `${K.b.id}/t` && observer === `${K.a.id}/t`)
    hub.filter = (from, _to, data) => {
      if (from === `${K.b.id}/t` && data.k === 'knock' && dropped < 2) {
        dropped++
        return false
      }
      return true
    }
    const a = start(K.a, hub)
    const b = start(K.b, hub)
    await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    expect(dropped).toBe(2)
  })

  it('malformed signals are reported as BAD_MESSAGE, never thrown, and the peers still connect', async () => {
    const hub = new MemorySignalingHub()
    const errors: TransportError[] = []
    const a = start(K.a, hub)
    a.onError((e) => errors.push(e))
    // one sender each: bad signaling is reported at most once per sender per window
    const malformed = [{}, { a: 'x', k: 'sdp' }, { a: 'x', k: 'sdp', s: { type: 'offer' } }, { a: 'bad id!', k: 'sdp', s: { type: 'answer', sdp: '' } }, { a: 'x', k: 'sdp', s: { type: 'candidate', candidate: 'x'.repeat(20_000) } }]
    malformed.forEach((data, i) => hub.inject(`z${i}/t`, `${K.a.id}/t`, data))
    await expect.poll(() => errors.length).toBe(5)
    expect(errors.every((e) => e.code === 'BAD_MESSAGE' && e.peer?.startsWith('z'))).toBe(true)
    expect(a.knownPeers()).toEqual([]) // a malformed signal takes no table entry
    const b = start(K.b, hub)
    await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
  })

  it('signals of an attempt the initiator gave up are ignored', async () => {
    const hub = new MemorySignalingHub()
    const errors: TransportError[] = []
    const a = start(K.a, hub)
    a.onError((e) => errors.push(e))
    const b = start(K.b, hub)
    await Promise.all([nextLink(a, K.b.id), nextLink(b, K.a.id)])
    const links = a.links().get(K.b.id)
    // an answer to some old attempt: a (the initiator) drops it quietly
    hub.inject(`${K.b.id}/t`, `${K.a.id}/t`, { a: 'deadbeef', k: 'sdp', s: { type: 'answer', sdp: 'v=0' } })
    await new Promise((r) => setTimeout(r, 50))
    expect(a.links().get(K.b.id)).toBe(links)
    expect(errors).toEqual([])
  })

  it('a peer that never answers is forgotten after a few attempts, and comes back when announced again', async () => {
    const hub = new MemorySignalingHub()
    const ghost = hub.channel()
    ghost.join('r', 'z/t') // present on signaling, but nobody answers behind it
    const a = start(K.a, hub, nodePeerFactory(wrtc), { connectTimeoutMs: 100, giveUpAfterFailures: 2 })
    await expect.poll(() => a.knownPeers()).toEqual(['z/t'])
    await expect.poll(() => a.knownPeers(), { timeout: 10_000 }).toEqual([])
    // a living peer announces itself again: it is known (and tried) again
    const again = hub.channel()
    again.join('r', 'y/t')
    await expect.poll(() => a.knownPeers()).toEqual(['y/t'])
  })
})
