// Attack (issue 13): an app's out-of-range argument on a FOLLOWER. The Mesh
// refused it with BAD_ARGUMENTS but left the write pending; the resend threw
// inside the tick timer, the timer never re-armed, and the member stopped
// ticking: its session was lost and every later write timed out. Each bad call
// must be refused once, before anything is queued, and change nothing.
import { describe, expect, it } from 'vitest'
import { stableCluster } from './arguments-cluster'
import type { Mesh } from '../../src/shared/types'

const badCalls: Array<[string, (m: Mesh) => Promise<unknown>]> = [
  ['set with version 2^31', (m) => m.set('/x', 'v', { version: 2 ** 31 })],
  ['delete with version 2^31', (m) => m.delete('/x', { version: 2 ** 31 })],
  ['create with an unknown mode', (m) => m.create('/y', 'v', { mode: 'bogus' as never })],
  ['create ttl with ttlMs over 2^40-1', (m) => m.create('/t', 'v', { mode: 'ttl', ttlMs: 2 ** 40 })],
  ['multi of 1,025 ops', (m) => m.multi(Array.from({ length: 1025 }, () => ({ op: 'check' as const, path: '/' })))],
  ['multi check with version 2^31', (m) => m.multi([{ op: 'check', path: '/', version: 2 ** 31 }])],
  ['set fenced by a lease with a negative token', (m) => m.set('/x', 'v', { fence: { path: '/', token: -1 } as never })],
]

describe('attack: out-of-range app arguments on a follower', () => {
  it.each(badCalls)('%s is refused with BAD_ARGUMENTS, leaves nothing pending, and the member keeps ticking', async (_name, call) => {
    const { cluster, follower } = await stableCluster(13)
    await follower.create('/x', 'start')
    const member = cluster.memberOf(follower)
    const session = follower.sessionId

    await expect(call(follower)).rejects.toMatchObject({ name: 'MeshError', code: 'BAD_ARGUMENTS' })
    expect(member.pendingWrites).toBe(0)

    // several session timeouts later: still ticking, same session, writes commit
    await cluster.advance(60_000)
    expect(member.isStopped).toBe(false)
    expect(follower.sessionId).toBe(session)
    expect(follower.state).toBe('connected')
    await expect(follower.set('/x', 'after')).resolves.toMatchObject({ version: 1 })
    await cluster.close()
  })
})
