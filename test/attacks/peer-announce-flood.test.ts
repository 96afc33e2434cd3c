// Attack (issue 13): a linked peer announces 512 made-up peer ids. Before the
// fix every id went into the peer table (full at 512, so a real newcomer was
// never admitted) and each got a WebRTC attempt at once. Now an announcer may
// introduce a bounded number of peers we do not know from elsewhere, attempts
// in flight are bounded (and peers a signaling channel vouches for go first),
// ids that never answer are given up quickly, and an announcer whose
// announcements are mostly junk is refused.
import { afterEach, expect, it } from 'vitest'
import { encodeControl } from '../../src/transport/control'
import { controlFrame } from '../../src/transport/framing'
import { FakePeerNet } from '../transport/fake-peers'
import { nextLink } from '../transport/links'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { id, MeshRig, within } from '../transport/mesh-rig'

/** the transport's default bound on WebRTC attempts in flight */
const ATTEMPTS_BOUND = 8
/** the transport's default bound on peers one announcer may introduce */
const PER_ANNOUNCER_BOUND = 64

let rig: MeshRig
afterEach(() => rig.closeAll())

it('a peer announcing 512 made-up ids: a real newcomer still links, attempts in flight stay bounded, the announcer is refused', async () => {
  rig = new MeshRig(new MemorySignalingHub(), new FakePeerNet())
  const { a, mPeer } = await rig.victimLinkedToAttacker({ connectTimeoutMs: 300 })
  const madeUp = Array.from({ length: 512 }, (_, i) => `x${String(i).padStart(3, '0')}/t`)
  mPeer.inject(controlFrame(encodeControl({ type: 'peers', peers: madeUp.slice(0, 256) })))
  mPeer.inject(controlFrame(encodeControl({ type: 'peers', peers: madeUp.slice(256) })))
  await expect.poll(() => a.t.knownPeers().length).toBeGreaterThan(2)

  const t0 = Date.now()
  const n = rig.start('n')
  await within(Promise.all([nextLink(a.t, id('n')), nextLink(n.t, id('a'))]), 20_000, 'the newcomer links with a')
  console.log(`[figure] newcomer linked ${Date.now() - t0} ms after it joined; attempts in flight at most ${a.maxInFlight()}; made-up ids in the table ${a.t.knownPeers().filter((id) => id.startsWith('x')).length}`)
  expect(a.maxInFlight()).toBeLessThanOrEqual(ATTEMPTS_BOUND)
  expect(a.t.knownPeers().filter((id) => id.startsWith('x')).length).toBeLessThanOrEqual(PER_ANNOUNCER_BOUND)
  // the made-up ids never answer: once most of what m announced proved junk, m is refused
  await expect.poll(() => a.t.refusedFor(id('m')), { timeout: 20_000 }).toBeGreaterThan(0)
  console.log(`[figure] the announcer refused ${Date.now() - t0} ms after the newcomer joined; WebRTC peers made by a in all: ${a.peersMade()}`)
  expect(a.maxInFlight()).toBeLessThanOrEqual(ATTEMPTS_BOUND)
})
