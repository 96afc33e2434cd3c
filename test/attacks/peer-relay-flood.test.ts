// Attack (issue 13): a linked peer relays knocks "from" 512 made-up ids (the
// relay control message names its origin, and only the relaying link vouches
// for it). Before the fix each relayed id went into the peer table and got a
// WebRTC attempt at once. Relayed origins obey the same per-announcer bounds
// as announced peers, and attempts in flight stay bounded.
import { afterEach, expect, it } from 'vitest'
import { encodeControl } from '../../src/transport/control'
import { controlFrame } from '../../src/transport/framing'
import { FakePeerNet } from '../transport/fake-peers'
import { nextLink } from '../transport/links'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { id, MeshRig, sig, within } from '../transport/mesh-rig'

const ATTEMPTS_BOUND = 8
const PER_ANNOUNCER_BOUND = 64

let rig: MeshRig
afterEach(() => rig.closeAll())

it('512 knocks relayed from made-up ids: bounded table and attempts, and a real newcomer still links', async () => {
  rig = new MeshRig(new MemorySignalingHub(), new FakePeerNet())
  const { a, mPeer } = await rig.victimLinkedToAttacker({ connectTimeoutMs: 300 })
  const knock = JSON.stringify({ a: 'knock', k: 'knock' })
  for (let i = 0; i < 512; i++) {
    mPeer.inject(controlFrame(encodeControl({ type: 'relay', to: sig('a'), from: `x${String(i).padStart(3, '0')}/t`, text: knock })))
  }
  await expect.poll(() => a.t.knownPeers().length).toBeGreaterThan(2)

  const n = rig.start('n')
  await within(Promise.all([nextLink(a.t, id('n')), nextLink(n.t, id('a'))]), 20_000, 'the newcomer links with a')
  expect(a.maxInFlight()).toBeLessThanOrEqual(ATTEMPTS_BOUND)
  expect(a.t.knownPeers().filter((id) => id.startsWith('x')).length).toBeLessThanOrEqual(PER_ANNOUNCER_BOUND)
})
