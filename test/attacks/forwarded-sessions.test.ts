// Attack: a linked peer forwards `open-session` commands to the leader. There
// was no cap: 20,000 were accepted, each with a 24-day timeout, and any
// peer could open (or close) a session in another member's name. Now a peer
// may open only sessions named after itself (`${peer}.…`), at most
// MAX_SESSIONS_PER_MEMBER of them, with a timeout of at most
// MAX_MEMBER_SESSION_TIMEOUT_MS.
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { encodeCommand } from '../../src/tree/command'
import { MAX_MEMBER_SESSION_TIMEOUT_MS, MAX_SESSIONS_PER_MEMBER } from '../../src/wire/limits'
import { connectAttacker } from './attacker'

const open = (session: string, timeoutMs: number) => ({ type: 'forward' as const, command: encodeCommand({ type: 'open-session', session, timeoutMs, time: 0 }) })

describe('attack: a peer forwards open-session without end', () => {
  it('a peer holds at most MAX_SESSIONS_PER_MEMBER sessions', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 16 })
    await cluster.stable()
    const evil = await connectAttacker(cluster)
    await cluster.advance(200)
    for (let i = 0; i < 1_000; i++) evil.sendAll(open(`evil.t.${i}`, 10_000))
    await cluster.advance(2_000)
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const tree = cluster.memberOf(leader).tree
    expect(tree.sessions().filter((s) => s.startsWith('evil.')).length).toBeLessThanOrEqual(MAX_SESSIONS_PER_MEMBER)
    await leader.create('/still', 'x')
  })

  it('a session that would outlive MAX_MEMBER_SESSION_TIMEOUT_MS, or that names another member, is refused', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 17 })
    await cluster.stable()
    const errors: string[] = []
    for (const m of cluster.meshes) m.on('error', (e) => errors.push(e.code))
    const first = await connectAttacker(cluster, 'evil1')
    const second = await connectAttacker(cluster, 'evil2')
    await cluster.advance(200)
    first.sendAll(open('evil1.t.1', 24 * 24 * 3600 * 1000))
    second.sendAll(open(`${cluster.meshes[0]!.id}.t.forged`, 10_000))
    await cluster.advance(2_000)
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const sessions = cluster.memberOf(leader).tree.sessions()
    expect(sessions.filter((s) => s.startsWith('evil1.') || s.endsWith('.forged'))).toEqual([])
    expect(sessions.map((s) => cluster.memberOf(leader).tree.session(s)!.timeoutMs).every((t) => t <= MAX_MEMBER_SESSION_TIMEOUT_MS)).toBe(true)
    expect(errors).toContain('BAD_MESSAGE')
    await leader.create('/still', 'x')
  })
})
