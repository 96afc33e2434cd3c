// A signal of a connection attempt that never reaches the peer must not cost
// the attempt's whole connect timeout (issue 17: 16 tabs over 4 browsers
// formed ~20 s late, every run). While tabs open together, a tab whose
// signaling server is not connected yet reaches other browsers only through
// its own browser's tabs (relay.ts), and those, learning who leads, close
// the links they do not need (link-policy.ts): a relayed offer or answer
// then dies with the link it was on, and the attempt waited for an answer
// that could not come while the stranded tab's knocks went unheard.
// Fake WebRTC peers (fake-peers.ts): an offer that arrives connects both
// ends; one that is lost leaves the initiator waiting.
import { afterEach, describe, it } from 'vitest'
import type { PeerLike } from '../../src/transport/simple-peer-port'
import { FakePeerNet } from './fake-peers'
import { nextLink } from './links'
import { MemorySignalingHub } from './memory-signaling'
import { id, MeshRig, sig, within } from './mesh-rig'

/** longer than any test: an attempt that waits for its timeout never links */
const NEVER = 3_600_000

let rig: MeshRig | null = null
afterEach(async () => {
  await rig?.closeAll()
  rig = null
})

/** `peer` with its 'signal' events held until `release()` (a signal still on its way) */
function holdSignals(peer: PeerLike, held: Array<() => void>): PeerLike {
  const on = peer.on.bind(peer)
  peer.on = ((event: string, fn: (...args: unknown[]) => void) => (event === 'signal' ? on(event, (...args: unknown[]) => held.push(() => fn(...args))) : on(event as 'signal', fn))) as PeerLike['on']
  return peer
}

describe('an attempt whose signals were lost', () => {
  it('is made again when the peer knocks a second time: it has no attempt with us, so ours cannot connect', async () => {
    const hub = new MemorySignalingHub()
    rig = new MeshRig(hub, new FakePeerNet())
    // a (the lower id) initiates; its first offer to b is lost on the way
    let dropped = 0
    hub.filter = (from, to, data) => {
      if (from !== sig('a') || to !== sig('b') || data.k !== 'sdp' || dropped > 0) return true
      dropped++
      return false
    }
    const a = rig.start('a', { connectTimeoutMs: NEVER })
    const b = rig.start('b', { connectTimeoutMs: NEVER })
    await within(Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))]), 10_000, 'a link after a lost offer')
  })

  it('is made again when the neighbour that relayed it no longer reaches the peer', async () => {
    const net = new FakePeerNet()
    const west = new MemorySignalingHub()
    const east = new MemorySignalingHub()
    rig = new MeshRig(west, net)
    // b is on both servers; a only on west, c only on east: a reaches c through b
    const b = rig.start('b', { signaling: [west.channel(), east.channel()], connectTimeoutMs: NEVER })
    // c needs no link to a (a learner to a learner): it answers a's offer, never knocks
    const c = rig.start('c', { signaling: [east.channel()], connectTimeoutMs: NEVER })
    c.t.setLinkPolicy((member) => member !== id('a'))
    await Promise.all([nextLink(b.t, id('c')), nextLink(c.t, id('b'))])
    // a's first attempt is to b (on west); its second, to c, made when b names
    // c, has its signals held: they leave once b has dropped c
    const held: Array<() => void> = []
    let made = 0
    const a = rig.start('a', {
      connectTimeoutMs: NEVER,
      peerFactory: (opts) => {
        const peer = net.factory(opts)
        return opts.initiator && ++made === 2 ? holdSignals(peer, held) : peer
      },
    })
    await nextLink(a.t, id('b'))
    await within(
      (async () => {
        while (held.length === 0) await new Promise((r) => setTimeout(r, 5))
      })(),
      10_000,
      "a's attempt to c",
    )
    // b no longer wants c (its policy, as a newcomer's that learned who leads):
    // the link closes, and a's offer, sent before b's news reaches a, dies at b
    b.t.setLinkPolicy((member) => member !== id('c'))
    for (const send of held.splice(0)) send()
    // c links with b again (it still wants b): b can relay again
    await within(Promise.all([nextLink(a.t, id('c')), nextLink(c.t, id('a'))]), 10_000, 'a link to c after its offer died at the relay')
  })
})
