// A minority that says so (issue 14, deliverable 3): a member that cannot
// reach a quorum turns `suspended` within about one election timeout, its new
// writes fail at once with NO_QUORUM (or, with `whenNoQuorum: 'wait'`, wait
// and retry as before), its local reads keep working, and once the quorum is
// back it is `connected` and commits again. All on virtual time: the figures
// below are the simulator's clock, deterministic per seed.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { SimulatedCluster } from '../../src/testing/index'
import { MeshError } from '../../src/shared/errors'
import type { Mesh, MeshState } from '../../src/shared/types'
import { caught, expectConverged } from './helpers'

/** default member timing: 100 ms ticks, 10 ticks per election timeout */
const ELECTION_MS = 1_000
/** "about one election timeout": the timeout, plus the jitter allowed on the members' 1 s introductions (quorum-contact.ts) and a tick to say so */
const ABOUT_ONE_ELECTION_MS = ELECTION_MS + 500

/** Record when each state was entered, in virtual time. */
function stateLog(cluster: SimulatedCluster, mesh: Mesh): Array<{ state: MeshState; at: number }> {
  const log: Array<{ state: MeshState; at: number }> = []
  mesh.on('state', (state) => log.push({ state, at: cluster.clock.now() }))
  return log
}

async function setUp(seed: number, whenNoQuorum?: 'fail' | 'wait') {
  const cluster = createSimulatedCluster({ members: 3, seed, ...(whenNoQuorum === undefined ? {} : { whenNoQuorum }) })
  await cluster.stable()
  const leader = cluster.meshes.find((m) => m.isLeader)!
  const followers = cluster.meshes.filter((m) => m !== leader)
  await leader.create('/before', 'committed before the cut')
  for (const m of cluster.meshes) await m.sync()
  return { cluster, leader, followers }
}

/** Cut `away` from the others; resolves once it says `suspended`, with how long that took. */
async function cutAndWaitSuspended(cluster: SimulatedCluster, away: Mesh): Promise<number> {
  const log = stateLog(cluster, away)
  const cutAt = cluster.clock.now()
  cluster.partition([away], cluster.meshes.filter((m) => m !== away))
  while (away.state !== 'suspended' && cluster.clock.now() - cutAt < 10 * ELECTION_MS) await cluster.advance(50)
  const entry = log.find((e) => e.state === 'suspended')
  expect(entry, `${away.id} never turned suspended`).toBeDefined()
  return entry!.at - cutAt
}

describe("a member that cannot reach a quorum says so (whenNoQuorum: 'fail', the default)", () => {
  it('a follower cut off turns suspended within about one election timeout; writes fail at once with NO_QUORUM; local reads work; healed, it commits again', async () => {
    const { cluster, followers } = await setUp(3)
    const away = followers[0]!
    const took = await cutAndWaitSuspended(cluster, away)
    expect(took).toBeLessThanOrEqual(ABOUT_ONE_ELECTION_MS)

    const before = cluster.clock.now()
    const err = await caught(away.create('/minority', 'x'))
    expect(err).toBeInstanceOf(MeshError)
    expect((err as MeshError).code).toBe('NO_QUORUM')
    // never sent: surely not applied, so no `outcome: 'unknown'`
    expect((err as MeshError).outcome).toBeUndefined()
    // fail fast: no virtual time passed while the write was refused
    expect(cluster.clock.now() - before).toBe(0)
    // a linearizable read needs a quorum too: refused at once as well
    expect(((await caught(away.get('/before', { linearizable: true }))) as MeshError).code).toBe('NO_QUORUM')
    expect(cluster.clock.now() - before).toBe(0)
    // local reads stay local
    expect((await away.get('/before')).text()).toBe('committed before the cut')
    expect(await away.children('/')).toContain('before')

    cluster.heal()
    await cluster.stable()
    expect(away.state).toBe('connected')
    await expect(away.create('/after', 'y')).resolves.toBe('/after')
    await expectConverged(cluster)
    for (const m of cluster.meshes) expect(await m.exists('/minority')).toBeNull()
  })

  it('a leader cut off (its CheckQuorum would fail) turns suspended within about one election timeout and refuses writes; the others elect and commit', async () => {
    const { cluster, leader, followers } = await setUp(5)
    const took = await cutAndWaitSuspended(cluster, leader)
    expect(took).toBeLessThanOrEqual(ABOUT_ONE_ELECTION_MS)
    expect(((await caught(leader.set('/before', 'minority'))) as MeshError).code).toBe('NO_QUORUM')
    await expect(followers[0]!.set('/before', 'majority')).resolves.toBeDefined()
    cluster.heal()
    await cluster.stable()
    expect(leader.state).toBe('connected')
    await leader.sync()
    expect((await leader.get('/before')).text()).toBe('majority')
    await expect(leader.create('/old-leader-back', '')).resolves.toBe('/old-leader-back')
    await expectConverged(cluster)
  })

  it('a member that still hears a quorum stays connected: cutting one follower leaves the leader and the other follower writing', async () => {
    const { cluster, leader, followers } = await setUp(7)
    const [away, stays] = followers as [Mesh, Mesh]
    const leaderLog = stateLog(cluster, leader)
    const staysLog = stateLog(cluster, stays)
    await cutAndWaitSuspended(cluster, away)
    await cluster.advance(3 * ELECTION_MS)
    expect(leaderLog).toEqual([])
    expect(staysLog).toEqual([])
    await expect(leader.create('/from-leader', '')).resolves.toBe('/from-leader')
    await expect(stays.create('/from-follower', '')).resolves.toBe('/from-follower')
    cluster.heal()
    await expectConverged(cluster)
  })

  it('a follower cut from the leader alone, still hearing the other follower, cannot win an election (PreVote refused) and says so within a few election timeouts', async () => {
    const { cluster, leader, followers } = await setUp(17)
    const [away, stays] = followers as [Mesh, Mesh]
    const log = stateLog(cluster, away)
    const cutAt = cluster.clock.now()
    cluster.network.cut(leader.id, away.id)
    cluster.network.cut(away.id, leader.id)
    // an election may be under way among the two it hears: it waits up to 3 election timeouts, then says so
    await cluster.advance(5 * ELECTION_MS)
    const suspended = log.find((e) => e.state === 'suspended')
    expect(suspended, `${away.id} never turned suspended`).toBeDefined()
    expect(suspended!.at - cutAt).toBeLessThanOrEqual(4 * ELECTION_MS + 500)
    expect(((await caught(away.create('/lonely', ''))) as MeshError).code).toBe('NO_QUORUM')
    // the leader and the other follower are a quorum and carry on
    expect(stays.state).toBe('connected')
    await expect(stays.create('/still', '')).resolves.toBe('/still')
    cluster.heal()
    await cluster.stable()
    await expect(away.create('/lonely', 'back')).resolves.toBe('/lonely')
    await expectConverged(cluster)
  })

  it('a write in flight when the quorum goes is not failed by the suspension: it keeps its chance and commits once the quorum is back', async () => {
    const { cluster, followers } = await setUp(11)
    const away = followers[0]!
    cluster.partition([away], cluster.meshes.filter((m) => m !== away))
    // handed to the leader before anyone knows the link is dead: it may have been appended
    let settled = false
    const inFlight = cluster.memberOf(away).write([{ op: 'create', path: '/in-flight', data: new Uint8Array(), mode: 'persistent' }], false)
    void inFlight.then(
      () => (settled = true),
      () => (settled = true),
    )
    await cluster.advance(ABOUT_ONE_ELECTION_MS + 500)
    expect(away.state).toBe('suspended')
    // a new write fails fast meanwhile; the one in flight waits
    await expect(away.create('/new', '')).rejects.toMatchObject({ code: 'NO_QUORUM' })
    expect(settled).toBe(false)
    cluster.heal()
    await cluster.settle(inFlight)
    await expect(inFlight).resolves.toBeDefined()
    await expectConverged(cluster)
  })

  it('a lease held turns suspended with its member, and held again when the quorum is back', async () => {
    const { cluster, followers } = await setUp(13)
    const away = followers[0]!
    const lease = await away.lock('/locks/l').acquire()
    expect(lease.state).toBe('held')
    await cutAndWaitSuspended(cluster, away)
    expect(lease.state).toBe('suspended')
    cluster.heal()
    await cluster.stable()
    await cluster.advance(ELECTION_MS)
    expect(lease.state).toBe('held')
    await lease.release()
  })
})

describe("whenNoQuorum: 'wait' keeps the wait-and-retry", () => {
  it('the member still says suspended, but a write waits for the quorum and commits once healed', async () => {
    const { cluster, followers } = await setUp(3, 'wait')
    const away = followers[0]!
    await cutAndWaitSuspended(cluster, away)
    let settled = false
    const write = away.create('/waited', 'x').finally(() => (settled = true))
    await cluster.advance(3 * ELECTION_MS)
    expect(settled).toBe(false)
    cluster.heal()
    await expect(write).resolves.toBe('/waited')
    expect(away.state).toBe('connected')
    await expectConverged(cluster)
  })

  it('an unknown policy is refused with BAD_ARGUMENTS', () => {
    let err: unknown
    try {
      createSimulatedCluster({ members: 1, whenNoQuorum: 'retry' as unknown as 'wait' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(MeshError)
    expect((err as MeshError).code).toBe('BAD_ARGUMENTS')
  })
})
