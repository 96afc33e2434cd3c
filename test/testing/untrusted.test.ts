import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { encodeNodeMessage } from '../../src/wire/node-messages'
import { encodeRaftMessage } from '../../src/wire/raft-codec'
import { encodeCommand } from '../../src/tree/command'
import type { MeshError } from '../../src/shared/errors'
import type { Message } from '../../src/raft/types'
import { msg } from '../wire/helpers'
import { expectConverged } from './helpers'

/** a heartbeat from an outsider with a huge term, unless told otherwise */
const raftMsg = (over: Partial<Message>): Message => msg({ type: 'MsgHeartbeat', from: 'evil', term: 999, ...over })

describe('every byte from a peer is untrusted (invariant 6)', () => {
  it('garbage, spoofed and forbidden messages raise BAD_MESSAGE errors and change nothing', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 41 })
    await cluster.stable()
    const [a] = cluster.meshes as [typeof cluster.meshes[0]]
    await a.create('/x', 'before')
    const errors: MeshError[] = []
    for (const m of cluster.meshes) m.on('error', (e) => errors.push(e))
    const termBefore = a.term
    const leaderBefore = a.leader
    const digestBefore = cluster.digests().get(a.id)

    const evil = await cluster.connectPeer({ member: 'evil', tab: 't', browser: 'evil' })
    const links = evil.links
    const closedWith: string[] = []
    for (const link of links) link.onClose((reason) => closedWith.push(reason))
    for (const link of links) {
      link.send(new Uint8Array([0xff, 0xff, 0xff])) // not a frame
      link.send(encodeNodeMessage({ type: 'raft', bytes: new Uint8Array([1, 2, 3]) })) // not a raft message
      // a raft message claiming to come from a member it is not
      link.send(encodeNodeMessage({ type: 'raft', bytes: encodeRaftMessage(raftMsg({ from: 'm2', to: link.peer })) }))
      // the leader's own duty, forwarded: refused
      link.send(encodeNodeMessage({ type: 'forward', command: encodeCommand({ type: 'expire-sessions', sessions: cluster.meshes.map((m) => m.sessionId), time: 0 }) }))
      link.send(encodeNodeMessage({ type: 'forward', command: new Uint8Array([9, 9, 9]) }))
    }
    await cluster.advance(2_000)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((e) => e.code === 'BAD_MESSAGE')).toBe(true)
    // and every member dropped the peer that sent it: no link of evil's is
    // left open, and none is made again (it is refused for a while)
    expect(links.every((l) => !l.open)).toBe(true)
    expect(closedWith).toHaveLength(links.length)
    expect([...evil.transport.links().values()].filter((l) => l.open)).toEqual([])
    cluster.disconnectPeer('evil')
    // an outsider (not in our cluster, never introduced) cannot move terms; a
    // well-formed message it may not send is ignored, not a reason to drop it
    const outsiderLinks = (await cluster.connectPeer({ member: 'outsider', tab: 't', browser: 'outsider' })).links
    for (const link of outsiderLinks) link.send(encodeNodeMessage({ type: 'raft', bytes: encodeRaftMessage(raftMsg({ from: 'outsider', to: link.peer })) }))
    await cluster.advance(2_000)
    expect(outsiderLinks.every((l) => l.open)).toBe(true)
    expect(a.term).toBe(termBefore)
    expect(a.leader).toBe(leaderBefore)
    expect(cluster.digests().get(a.id)).toBe(digestBefore)
    expect((await a.get('/x', { linearizable: true })).text()).toBe('before')
    for (const m of cluster.meshes) expect(m.state).toBe('connected')
    cluster.disconnectPeer('outsider')
    await expectConverged(cluster)
  })
})
