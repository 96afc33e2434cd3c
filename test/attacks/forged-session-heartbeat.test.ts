// Attack: a session id is public (a lock node's ephemeralOwner). A peer that
// sends `session-heartbeat`s for a crashed member's session kept that
// session, and the locks it held, alive for as long as it kept sending.
// Now the leader counts a heartbeat only from the member that owns the
// session (the id begins with the member id and a dot).
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { connectAttacker } from './attacker'

describe('attack: forged heartbeats for a crashed member\'s session', () => {
  it('the session still expires, its ephemeral lock node goes, and the forger is refused', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 15, sessionTimeoutMs: 5_000 })
    await cluster.stable()
    const victim = cluster.meshes.find((m) => !m.isLeader)!
    const other = cluster.meshes.find((m) => m !== victim)!
    await victim.create('/lock', 'held', { mode: 'ephemeral' })
    await other.sync()
    const session = (await other.exists('/lock'))!.ephemeralOwner!
    expect(session).toBe(victim.sessionId)
    const errors: string[] = []
    for (const m of cluster.meshes) m.on('error', (e) => errors.push(e.code))
    cluster.crash(victim)
    const evil = await connectAttacker(cluster)
    for (let t = 0; t < 30_000; t += 500) {
      evil.sendAll({ type: 'session-heartbeat', sessions: [session] })
      await cluster.advance(500)
    }
    await other.sync()
    expect(await other.exists('/lock')).toBeNull()
    expect(errors).toContain('BAD_MESSAGE')
  })
})
