// joinMeshFromNode without any browser: Node members (memory storage, ws
// signaling, @roamhq/wrtc) found a cluster and join it through a signaling
// server, as devices of their own. The browser side is test/e2e/node-member.spec.ts.
import { afterEach, describe, expect, it } from 'vitest'
import wrtc from '@roamhq/wrtc'
import { createMemberKey, joinMeshFromNode } from '../../src/node/index'
import { startSignalingServer } from '../../src/server/index'
import type { SignalingServer } from '../../src/server/index'
import type { Mesh, WatchEvent } from '../../src/shared/types'

const opened: Mesh[] = []
let server: SignalingServer | null = null
afterEach(async () => {
  for (const m of opened.splice(0)) await m.close()
  await server?.close()
  server = null
})

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('joinMeshFromNode', () => {
  it('refuses a missing room with BAD_ARGUMENTS before touching the network', async () => {
    await expect(joinMeshFromNode({ room: '', signaling: 'ws://127.0.0.1:1/', wrtc })).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' })
  })

  it('a member id is the id of its key: a bare `member`, or one that is not the identity’s, is refused with BAD_ARGUMENTS', async () => {
    await expect(joinMeshFromNode({ room: 'r', signaling: 'ws://127.0.0.1:1/', wrtc, member: 'n123' })).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' })
    const identity = await createMemberKey()
    await expect(joinMeshFromNode({ room: 'r', signaling: 'ws://127.0.0.1:1/', wrtc, identity, member: 'n123' })).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' })
  })

  it('a founding Node member and a joining one form a cluster through signaling; writes and watches go both ways', async () => {
    server = await startSignalingServer({ port: 0, host: '127.0.0.1' })
    const room = `node-${process.pid}-${Date.now()}`
    // the founder brings its own key (a restart with kept storage would); the newcomer gets a fresh one
    const identity = await createMemberKey()
    const a = await joinMeshFromNode({ room, signaling: server.url, wrtc, bootstrap: true, identity })
    opened.push(a)
    expect(a.id).toBe(identity.id)
    await until('the founder to lead', () => a.isLeader && a.state === 'connected')
    const b = await joinMeshFromNode({ room, signaling: server.url, wrtc })
    opened.push(b)
    await until('the newcomer to be a connected member', () => b.state === 'connected' && a.members().some((m) => m.id === b.id))
    expect(b.leader).toBe(a.id)
    expect(b.members().map((m) => m.id).sort()).toEqual([a.id, b.id].sort())
    // each is a device of its own
    expect(new Set(a.members().map((m) => m.browser)).size).toBe(2)

    const seenInA: string[] = []
    a.watch('/from-b', (e: WatchEvent) => seenInA.push(`${e.type} ${e.path}`))
    await b.create('/from-b', 'hi')
    await until('the watch in A', () => seenInA.length > 0)
    expect(seenInA).toEqual(['created /from-b'])
    await a.set('/from-b', 'hello back')
    expect((await b.get('/from-b', { linearizable: true })).text()).toBe('hello back')
  })
})
