// Issue 17, item 1: a newcomer whose links came up before it started (joinMesh
// listens for peers first when it has signaling) asks to join as soon as it
// hears the cluster, not at its next join round: its first round, run at
// start before any claim was heard, asked nobody and so must not count.
import { describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'
import { VirtualHub } from '../../src/testing/virtual-transport'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { Member } from '../../src/driver/member'
import type { Clock } from '../../src/shared/clock'
import { MeshError } from '../../src/shared/errors'
import type { PeerHello } from '../../src/transport/types'

/** ticks once a virtual minute: a join paced by its rounds (ten ticks) would take ten minutes */
const TICK_MS = 60_000

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

describe('a newcomer linked before it started', () => {
  it('asks to join when it hears the cluster and is let in before its next round', async () => {
    const clock = new VirtualClock()
    const network = new VirtualNetwork<Uint8Array>(clock, prng.create(5), { minDelay: 1, maxDelay: 2 })
    const hub = new VirtualHub(network)
    const scheduler: Clock = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h as number) }
    const provider = new MemoryStorageProvider()
    const hello = (id: string): PeerHello => ({ member: id, tab: 't1', browser: `b-${id}` })
    const member = async (id: string, transport: ReturnType<VirtualHub['connect']>, bootstrap: boolean): Promise<Member> =>
      new Member({ hello: hello(id), storage: await provider.open('room', id), transport, scheduler, random: () => 0.5, bootstrap, timing: { tickMs: TICK_MS } })
    const run = async (until: () => boolean, maxMs: number): Promise<void> => {
      const deadline = clock.now() + maxMs
      while (!until() && clock.now() <= deadline && clock.runNext()) await flush()
    }

    const founder = await member('m1', hub.connect(hello('m1')), true)
    await founder.start()
    await run(() => founder.isLeader, TICK_MS)
    expect(founder.isLeader).toBe(true)
    // the newcomer's transport links before its member starts
    const transport = hub.connect(hello('m2'))
    await run(() => transport.links().size > 0, 1_000)
    expect(transport.links().size).toBe(1)
    const newcomer = await member('m2', transport, false)
    await newcomer.start()
    const startedAt = clock.now()
    await run(() => founder.conf.learners.includes('m2') || founder.conf.voters.includes('m2'), 20 * TICK_MS)
    expect(founder.conf.learners).toContain('m2')
    expect(clock.now() - startedAt).toBeLessThan(TICK_MS)
    for (const m of [newcomer, founder]) m.stop(new MeshError('CLOSED', 'test over'))
  })
})
