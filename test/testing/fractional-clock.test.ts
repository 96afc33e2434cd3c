// A leader stamps every command it proposes with its clock's time, and the
// command codec takes whole milliseconds only. A member whose ticks fall on
// fractions of a millisecond (restarted at such an instant of the virtual
// clock, or an app's `scheduler` built on performance.now()) threw inside
// CommandRoute.propose on every proposal: as leader it dropped every write
// and session open, for good (sim seed 654, found with lazy commit saves: two
// restarted members stuck `connecting` for 60 s). The stamp is floored.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'

describe('members whose clocks read fractions of a millisecond', () => {
  it('still open sessions and commit writes, whoever leads', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 11 })
    await cluster.stable()
    // every member restarts at a fractional instant: its tick timers (and so
    // its proposals) fall on fractions from now on
    await cluster.advance(0.25)
    for (const m of cluster.meshes) cluster.crash(m)
    await cluster.advance(0.5)
    expect(cluster.clock.now() % 1).not.toBe(0)
    for (const m of cluster.meshes) await cluster.restart(m)
    await cluster.stable()
    const [a, b, c] = cluster.meshes
    await cluster.settle(a!.create('/x', 'one'))
    await cluster.settle(b!.create('/y', 'two'))
    await cluster.settle(c!.create('/z', 'three'))
    await cluster.settle(a!.sync('/'))
    expect((await a!.children('/')).sort()).toEqual(['x', 'y', 'z'])
  })
})
