// Attack: a peer abuses `forwards` (wire tag 7), the batch of writes a
// follower hands the leader in one frame. A batch is attacker-written like
// every frame: it is refused whole when it breaks the wire's bounds (more
// than maxBatchCommands commands, more than maxBatchBytes together) or when
// ONE of its commands is bad input (a command that cannot be forwarded, a
// write under another member's session): nothing of it enters the log, the
// app hears a typed MeshError BAD_MESSAGE. A well-formed batch of the peer's
// own writes is proposed (the control that shows the attacks could succeed).
import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/shared/errors'
import { createSimulatedCluster } from '../../src/testing/index'
import { encodeCommand } from '../../src/tree/command'
import { NODE_MESSAGE_LIMITS } from '../../src/wire/node-messages'
import { connectAttacker, type Attacker } from './attacker'
import { rawForwards } from '../wire/helpers'

const create = (session: string, seq: number, path: string, bytes = 1): Uint8Array =>
  encodeCommand({ type: 'txn', session, seq, ackedBelow: 0, multi: false, ops: [{ op: 'create', path, data: new Uint8Array(bytes), mode: 'persistent' }], time: 0 })


const sendRaw = (evil: Attacker, bytes: Uint8Array): void => {
  for (const link of evil.links) if (link.open) link.send(bytes)
}

describe('attack: forged and oversized forwards batches', () => {
  it('each attack is refused whole with a typed BAD_MESSAGE and changes nothing; an honest batch commits', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 23 })
    await cluster.stable()
    const leader = cluster.meshes.find((m) => m.isLeader)!
    const member = cluster.memberOf(leader)
    const tree = member.tree
    const errors: unknown[] = []
    for (const m of cluster.meshes) m.on('error', (e) => errors.push(e))

    // each attacker (its own link, as the transport refuses a peer after bad input) opens its own session first
    const attackers: Attacker[] = []
    for (const id of ['evil0', 'evil1', 'evil2', 'evil3', 'evil4']) {
      const evil = await connectAttacker(cluster, id)
      attackers.push(evil)
      evil.sendAll({ type: 'forward', command: encodeCommand({ type: 'open-session', session: `${id}.s`, timeoutMs: 600_000, time: 0 }) })
    }
    await cluster.advance(500)
    for (const a of attackers) expect(tree.session(`${a.id}.s`)).not.toBeNull()
    expect(errors).toEqual([])

    // the control: a well-formed batch of evil0's own writes is proposed together and applied
    const [honest, oversized, badInside, overCount, forged] = attackers as [Attacker, Attacker, Attacker, Attacker, Attacker]
    honest.sendAll({ type: 'forwards', commands: [create('evil0.s', 1, '/ok0'), create('evil0.s', 2, '/ok1'), create('evil0.s', 3, '/ok2')] })
    await cluster.advance(500)
    expect(['/ok0', '/ok1', '/ok2'].map((p) => tree.stat(p) !== null)).toEqual([true, true, true])

    const attack = async (send: () => void): Promise<MeshError[]> => {
      const commit = member.commitIndex
      const heard = errors.length
      send()
      await cluster.advance(1_000)
      // nothing of the batch entered the log (the cluster is idle otherwise)
      expect(member.commitIndex).toBe(commit)
      for (const m of cluster.meshes) expect((cluster.memberOf(m).tree.children('/') ?? []).filter((c) => c.startsWith('bad'))).toEqual([])
      const now = errors.slice(heard)
      expect(now.length).toBeGreaterThan(0)
      for (const e of now) {
        expect(e).toBeInstanceOf(MeshError)
        expect((e as MeshError).code).toBe('BAD_MESSAGE')
      }
      return now as MeshError[]
    }

    // 1. more than maxBatchBytes together (two 4 MiB commands and one more byte), each command within its own bound
    const big = NODE_MESSAGE_LIMITS.maxCommandBytes - 200
    await attack(() => sendRaw(oversized, rawForwards([create('evil1.s', 1, '/bad1a', big), create('evil1.s', 2, '/bad1b', big), create('evil1.s', 3, '/bad1c', 1024)])))

    // 2. one bad command inside a batch of good ones: a command that cannot be forwarded (a reap), between honest creates
    const reap = encodeCommand({ type: 'reap', nodes: [{ path: '/ok0', czxid: 1 }], time: 0 })
    await attack(() => badInside.sendAll({ type: 'forwards', commands: [create('evil2.s', 1, '/bad2a'), reap, create('evil2.s', 2, '/bad2b')] }))
    expect(tree.stat('/ok0')).not.toBeNull()

    // 3. a count over maxBatchCommands, each command small and honest
    const many = Array.from({ length: NODE_MESSAGE_LIMITS.maxBatchCommands + 1 }, (_, i) => create('evil3.s', i + 1, `/bad3-${i}`))
    await attack(() => sendRaw(overCount, rawForwards(many)))

    // 4. a forged sender: the batch writes under a real member's session, next to the peer's own writes
    const victim = cluster.meshes.find((m) => m !== leader)!
    const heard = await attack(() => forged.sendAll({ type: 'forwards', commands: [create('evil4.s', 1, '/bad4a'), create(`${victim.id}.t.1`, 1, '/bad4b')] }))
    expect(heard.some((e) => e.message.includes('another member'))).toBe(true)

    // the cluster still works
    await leader.create('/still', 'x')
    expect(tree.stat('/still')).not.toBeNull()
  })
})
