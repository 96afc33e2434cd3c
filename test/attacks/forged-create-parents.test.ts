// Attack: a create that makes its parents (op tag 5, a parents-mode byte) with
// a forged mode: 'ephemeral' (an ephemeral parent could never hold the child),
// an index past the known modes, or the byte missing. Our encoder refuses
// them, so the attacker writes the bytes by hand and forwards them to the
// leader; an app passes a bad mode through the public API. Each is refused
// with a typed error (BAD_MESSAGE for the peer, BAD_ARGUMENTS for the app)
// and changes nothing on any replica.
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { COMMAND_FORMAT_VERSION, encodeCommand } from '../../src/tree/command'
import { MeshError } from '../../src/shared/errors'
import type { CreateOpts, Op } from '../../src/shared/types'
import { expectConverged } from '../testing/helpers'
import { connectAttacker } from './attacker'

/** a one-op create txn of `session` with op tag 5 and the given bytes after the mode (the parents byte, if any) */
function forgedCreate(session: string, path: string, afterMode: number[]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, COMMAND_FORMAT_VERSION)
  encoding.writeUint8(e, 3) // txn
  encoding.writeVarString(e, session)
  encoding.writeVarUint(e, 0) // seq
  encoding.writeVarUint(e, 0) // ackedBelow
  encoding.writeUint8(e, 0) // not a multi
  encoding.writeVarUint(e, 1) // one op
  encoding.writeUint8(e, 5) // create with parents
  encoding.writeVarString(e, path)
  encoding.writeVarUint8Array(e, new Uint8Array(0))
  encoding.writeUint8(e, 0) // mode: persistent
  for (const b of afterMode) encoding.writeUint8(e, b)
  encoding.writeVarUint(e, 0) // time
  return encoding.toUint8Array(e)
}

describe('attack: a create with a forged parents mode', () => {
  it('a peer forwarding one is refused (BAD_MESSAGE) and no replica makes a node', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 81 })
    await cluster.stable()
    const errors: MeshError[] = []
    for (const m of cluster.meshes) m.on('error', (e) => errors.push(e))
    // one attacker per forgery: a peer that breaks the protocol is shut out after its first offence
    const forgeries = [[2], [0xff], []] // 2 and 0xff name no parents mode; without the byte the time is read as the mode
    const attackers = await Promise.all(forgeries.map((_, i) => connectAttacker(cluster, `evil${i}`)))
    await cluster.advance(200)
    attackers.forEach((evil, i) => evil.sendAll({ type: 'forward', command: encodeCommand({ type: 'open-session', session: `evil${i}.t.1`, timeoutMs: 10_000, time: 0 }) }))
    await cluster.advance(500)
    const leader = cluster.meshes.find((m) => m.isLeader)!
    // their sessions are real: only the mode is forged
    for (let i = 0; i < attackers.length; i++) expect(cluster.memberOf(leader).tree.session(`evil${i}.t.1`)).not.toBeNull()
    await leader.sync()
    const appliedBefore = leader.appliedIndex
    attackers.forEach((evil, i) => evil.sendAll({ type: 'forward', command: forgedCreate(`evil${i}.t.1`, '/forged/a/b', forgeries[i]!) }))
    await cluster.advance(2_000)
    expect(errors.filter((e) => e.code === 'BAD_MESSAGE').length).toBeGreaterThanOrEqual(forgeries.length)
    for (const m of cluster.meshes) expect(await m.exists('/forged')).toBeNull()
    expect(leader.appliedIndex).toBe(appliedBefore) // nothing was proposed
    // the cluster still takes a good create with parents, in one entry
    await leader.create('/still/here', 'x', { parents: 'persistent' })
    expect(leader.appliedIndex).toBe(appliedBefore + 1)
    await expectConverged(cluster)
  })

  it("an app's bad parents mode is BAD_ARGUMENTS, on create and in a multi, and nothing is written", async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 82 })
    await cluster.stable()
    const [a] = cluster.meshes
    await a!.sync()
    const appliedBefore = a!.appliedIndex
    for (const parents of ['ephemeral', 'ephemeral-sequential', 'ttl', 'Container', 0, null]) {
      const opts = { mode: 'persistent', parents } as unknown as CreateOpts
      await expect(a!.create('/bad/x', 'x', opts)).rejects.toMatchObject({ code: 'BAD_ARGUMENTS', path: '/bad/x' })
      const op = { op: 'create', path: '/bad/y', parents } as unknown as Op
      await expect(a!.multi([{ op: 'create', path: '/fine' }, op])).rejects.toMatchObject({ code: 'BAD_ARGUMENTS', opIndex: 1 })
    }
    expect(a!.appliedIndex).toBe(appliedBefore)
    expect(await a!.exists('/bad')).toBeNull()
    expect(await a!.exists('/fine')).toBeNull()
  })
})
