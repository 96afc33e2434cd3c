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
import { MemorySignalingHub } from './memory-signaling'

const open: MeshTransport[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()))
})

function start(member: string, hub: MemorySignalingHub, peerFactory: PeerFactory = nodePeerFactory(wrtc), extra: Partial<MeshTransportOptions> = {}): MeshTransport {
  const t = new MeshTransport({ self: { member, tab: 't', browser: 'node' }, room: 'r', signaling: [hub.channel()], peerFactory, backoffBaseMs: 20, backoffMaxMs: 200, ...extra })
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
    const a = start('a', hub, countingFactory(aRoles))
    const b = start('b', hub, countingFactory(bRoles))
    await Promise.all([nextLink(a, 'b'), nextLink(b, 'a')])
    expect(aRoles).toEqual([true])
    expect(bRoles).toEqual([false])
    const kinds = hub.log.map((l) => `${l.from}:${String(l.data.k)}`)
    expect(kinds.filter((k) => k === 'b/t:knock').length).toBeGreaterThanOrEqual(1)
  })

  it('a lost knock is repeated until the initiator answers', async () => {
    const hub = new MemorySignalingHub()
    let dropped = 0
    // b learns of a first; a never sees b join (its presence event is lost), so
    // only b's knock can make a start; the first two knocks are lost
    hub.presence = (peer, observer) => !(peer === 'b/t' && observer === 'a/t')
    hub.filter = (from, _to, data) => {
      if (from === 'b/t' && data.k === 'knock' && dropped < 2) {
        dropped++
        return false
      }
      return true
    }
    const a = start('a', hub)
    const b = start('b', hub)
    await Promise.all([nextLink(a, 'b'), nextLink(b, 'a')])
    expect(dropped).toBe(2)
  })

  it('malformed signals are reported as BAD_MESSAGE, never thrown, and the peers still connect', async () => {
    const hub = new MemorySignalingHub()
    const errors: TransportError[] = []
    const a = start('a', hub)
    a.onError((e) => errors.push(e))
    // one sender each: bad signaling is reported at most once per sender per window
    const malformed = [{}, { a: 'x', k: 'sdp' }, { a: 'x', k: 'sdp', s: { type: 'offer' } }, { a: 'bad id!', k: 'sdp', s: { type: 'answer', sdp: '' } }, { a: 'x', k: 'sdp', s: { type: 'candidate', candidate: 'x'.repeat(20_000) } }]
    malformed.forEach((data, i) => hub.inject(`z${i}/t`, 'a/t', data))
    await expect.poll(() => errors.length).toBe(5)
    expect(errors.every((e) => e.code === 'BAD_MESSAGE' && e.peer?.startsWith('z'))).toBe(true)
    expect(a.knownPeers()).toEqual([]) // a malformed signal takes no table entry
    const b = start('b', hub)
    await Promise.all([nextLink(a, 'b'), nextLink(b, 'a')])
  })

  it('signals of an attempt the initiator gave up are ignored', async () => {
    const hub = new MemorySignalingHub()
    const errors: TransportError[] = []
    const a = start('a', hub)
    a.onError((e) => errors.push(e))
    const b = start('b', hub)
    await Promise.all([nextLink(a, 'b'), nextLink(b, 'a')])
    const links = a.links().get('b')
    // an answer to some old attempt: a (the initiator) drops it quietly
    hub.inject('b/t', 'a/t', { a: 'deadbeef', k: 'sdp', s: { type: 'answer', sdp: 'v=0' } })
    await new Promise((r) => setTimeout(r, 50))
    expect(a.links().get('b')).toBe(links)
    expect(errors).toEqual([])
  })

  it('a peer that never answers is forgotten after a few attempts, and comes back when announced again', async () => {
    const hub = new MemorySignalingHub()
    const ghost = hub.channel()
    ghost.join('r', 'z/t') // present on signaling, but nobody answers behind it
    const a = start('a', hub, nodePeerFactory(wrtc), { connectTimeoutMs: 100, giveUpAfterFailures: 2 })
    await expect.poll(() => a.knownPeers()).toEqual(['z/t'])
    await expect.poll(() => a.knownPeers(), { timeout: 10_000 }).toEqual([])
    // a living peer announces itself again: it is known (and tried) again
    const again = hub.channel()
    again.join('r', 'y/t')
    await expect.poll(() => a.knownPeers()).toEqual(['y/t'])
  })
})
