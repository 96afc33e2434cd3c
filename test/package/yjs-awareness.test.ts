// meshkeeper/yjs awareness: presence states travel through ephemeral znodes,
// vanish with the session that wrote them, and cannot be forged by name.
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import type { MeshError } from '../../src/shared/errors'
import type { Mesh } from '../../src/shared/types'
import { createSimulatedCluster, type SimulatedCluster } from '../../src/testing/index'
import { AWARENESS_ROOT, bindDoc } from '../../src/yjs/index'

const awarenesses: Awareness[] = []
/** an Awareness on a fresh doc (its renewal interval is cleared after each test) */
function newAwareness(): { doc: Y.Doc; awareness: Awareness } {
  const doc = new Y.Doc()
  const awareness = new Awareness(doc)
  awarenesses.push(awareness)
  return { doc, awareness }
}
afterEach(() => {
  for (const a of awarenesses.splice(0)) a.destroy()
})

async function stableCluster(seed: number): Promise<SimulatedCluster> {
  const cluster = createSimulatedCluster({ members: 3, seed, sessionTimeoutMs: 5_000 })
  await cluster.stable()
  return cluster
}

function bindWithAwareness(mesh: Mesh, name: string, errors: MeshError[] = []) {
  const { doc, awareness } = newAwareness()
  const binding = bindDoc(mesh, name, doc, { awareness, onError: (e) => errors.push(e) })
  return { doc, awareness, binding }
}

describe('bindDoc with awareness', () => {
  it("each binding sees the others' states, and their changes", async () => {
    const cluster = await stableCluster(31)
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    const one = bindWithAwareness(a, 'room')
    const two = bindWithAwareness(b, 'room')
    one.awareness.setLocalStateField('user', 'ada')
    two.awareness.setLocalStateField('user', 'bob')
    await cluster.advance(2_000)
    expect(two.awareness.getStates().get(one.awareness.clientID)).toEqual({ user: 'ada' })
    expect(one.awareness.getStates().get(two.awareness.clientID)).toEqual({ user: 'bob' })
    one.awareness.setLocalStateField('cursor', 7)
    await cluster.advance(2_000)
    expect(two.awareness.getStates().get(one.awareness.clientID)).toEqual({ user: 'ada', cursor: 7 })
    await cluster.close()
  })

  it('a state goes away with its session: on destroy, and when the member crashes and its session expires', async () => {
    const cluster = await stableCluster(32)
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const one = bindWithAwareness(a, 'room')
    const two = bindWithAwareness(b, 'room')
    const three = bindWithAwareness(c, 'room')
    for (const [i, x] of [one, two, three].entries()) x.awareness.setLocalStateField('n', i)
    await cluster.advance(2_000)
    expect([...one.awareness.getStates().keys()].sort()).toEqual([one, two, three].map((x) => x.awareness.clientID).sort())

    two.binding.destroy()
    await cluster.advance(2_000)
    expect(one.awareness.getStates().has(two.awareness.clientID)).toBe(false)

    cluster.crash(c)
    await cluster.advance(15_000)
    expect(one.awareness.getStates().has(three.awareness.clientID)).toBe(false)
    expect(await a.children(`${AWARENESS_ROOT}/room`)).toEqual([String(one.awareness.clientID)])
    await cluster.close()
  })

  it('a node that claims another client, or is not an awareness update, is reported and ignored', async () => {
    const cluster = await stableCluster(33)
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const errors: MeshError[] = []
    const victim = bindWithAwareness(a, 'room')
    const watcher = bindWithAwareness(b, 'room', errors)
    victim.awareness.setLocalStateField('user', 'ada')
    await cluster.advance(2_000)
    // c writes, under its own name, an update that sets the victim's state
    const forger = newAwareness()
    forger.awareness.setLocalStateField('user', 'mallory')
    const forged = encodeAwarenessUpdate(forger.awareness, [forger.awareness.clientID])
    const spoof = new Uint8Array(forged)
    await c.create(`${AWARENESS_ROOT}/room/${victim.awareness.clientID + 1}`, spoof, { mode: 'ephemeral' })
    await c.create(`${AWARENESS_ROOT}/room/12345`, new Uint8Array([9, 9, 9]), { mode: 'ephemeral' })
    await cluster.advance(2_000)
    expect(watcher.awareness.getStates().get(victim.awareness.clientID)).toEqual({ user: 'ada' })
    expect(watcher.awareness.getStates().has(forger.awareness.clientID)).toBe(false)
    expect(watcher.awareness.getStates().has(12345)).toBe(false)
    expect(errors.filter((e) => e.code === 'BAD_MESSAGE')).toHaveLength(2)
    await cluster.close()
  })
})
