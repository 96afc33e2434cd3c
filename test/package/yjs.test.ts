// meshkeeper/yjs: bindDoc keeps Y.Docs bound to one name equal across the
// mesh, on a simulated cluster (virtual time: `cluster.settle` and
// `cluster.advance` drive the background sync).
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MeshError } from '../../src/shared/errors'
import type { Mesh } from '../../src/shared/types'
import { createSimulatedCluster, type SimulatedCluster } from '../../src/testing/index'
import { bindDoc, UPDATE_PREFIX, YJS_ROOT, type DocBinding } from '../../src/yjs/index'

const text = (doc: Y.Doc): string => doc.getText('t').toString()
const items = (doc: Y.Doc): string[] => doc.getArray<string>('list').toArray().slice().sort()

async function updateNodes(mesh: Mesh, name: string): Promise<string[]> {
  await mesh.sync()
  return (await mesh.children(`${YJS_ROOT}/${name}`)).filter((n) => n.startsWith(UPDATE_PREFIX))
}

async function bindAll(cluster: SimulatedCluster, name: string, meshes: Mesh[] = cluster.meshes) {
  const docs = meshes.map(() => new Y.Doc())
  const bindings = meshes.map((m, i) => bindDoc(m, name, docs[i]!))
  for (const b of bindings) await cluster.settle(b.synced)
  return { docs, bindings }
}

async function flushAll(cluster: SimulatedCluster, bindings: DocBinding[]): Promise<void> {
  for (const b of bindings) await cluster.settle(b.flush())
  await cluster.advance(1_000)
}

/** Three members with a known leader and open sessions. */
async function stableCluster(seed: number): Promise<SimulatedCluster> {
  const cluster = createSimulatedCluster({ members: 3, seed })
  await cluster.stable()
  return cluster
}

describe('bindDoc', () => {
  it('edits on two meshes converge to the same document on both', async () => {
    const cluster = await stableCluster(11)
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    const { docs, bindings } = await bindAll(cluster, 'notes', [a, b])
    const [docA, docB] = docs as [Y.Doc, Y.Doc]
    docA.getText('t').insert(0, 'hello')
    docB.getArray<string>('list').push(['from b'])
    await flushAll(cluster, bindings)
    docB.getText('t').insert(5, ' world')
    docA.getArray<string>('list').push(['from a'])
    await flushAll(cluster, bindings)

    expect(text(docA)).toBe('hello world')
    expect(text(docB)).toBe('hello world')
    expect(items(docA)).toEqual(['from a', 'from b'])
    expect(Y.encodeStateVector(docA)).toEqual(Y.encodeStateVector(docB))
    await cluster.close()
  })

  it("a bound doc receives others' edits by its directory watch, doing nothing itself", async () => {
    const cluster = await stableCluster(10)
    const { docs, bindings } = await bindAll(cluster, 'passive')
    for (let i = 0; i < 3; i++) {
      docs[0]!.getArray<string>('list').push([`edit ${i}`])
      await cluster.settle(bindings[0]!.flush())
      await cluster.advance(1_000)
      for (const doc of docs.slice(1)) expect(items(doc)).toEqual(Array.from({ length: i + 1 }, (_, k) => `edit ${k}`))
    }
    await cluster.close()
  })

  it('writes each local update once: a doc does not write back what it applied from the mesh', async () => {
    const cluster = await stableCluster(12)
    const { docs, bindings } = await bindAll(cluster, 'echo')
    docs[0]!.getText('t').insert(0, 'one edit')
    await flushAll(cluster, bindings)
    await cluster.advance(2_000)
    for (const doc of docs) expect(text(doc)).toBe('one edit')
    // one edit, one znode: the two docs that applied it wrote nothing
    expect(await updateNodes(cluster.meshes[0]!, 'echo')).toHaveLength(1)
    await cluster.close()
  })

  // a short partition, and one longer than the session timeout (the minority's
  // session expires; it comes back with a new one and no watches)
  it.each([
    { seed: 13, partitionMs: 3_000 },
    { seed: 21, partitionMs: 3_000 },
    { seed: 34, partitionMs: 30_000 },
    { seed: 55, partitionMs: 30_000 },
  ])('edits made on both sides of a partition merge after the heal (seed $seed, $partitionMs ms apart)', async ({ seed, partitionMs }) => {
    const cluster = await stableCluster(seed)
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const { docs, bindings } = await bindAll(cluster, 'split')
    const [docA, docB, docC] = docs as [Y.Doc, Y.Doc, Y.Doc]
    docA.getArray<string>('list').push(['before'])
    await flushAll(cluster, bindings)

    cluster.partition([a], [b, c])
    docA.getArray<string>('list').push(['a alone'])
    docB.getArray<string>('list').push(['b with c'])
    await cluster.settle(bindings[1]!.flush())
    await cluster.advance(partitionMs)
    // the majority went on; the minority's edit is still only its own
    expect(items(docC)).toEqual(['b with c', 'before'])
    expect(items(docA)).toEqual(['a alone', 'before'])

    // nobody calls anything after the heal: the stuck write and the watches carry it
    cluster.heal()
    await cluster.advance(20_000)
    for (const doc of [docA, docB, docC]) expect(items(doc)).toEqual(['a alone', 'b with c', 'before'])
    await cluster.close()
  })

  it('a member that crashed and restarted (a new session, its watches gone) catches up and keeps syncing', async () => {
    const cluster = await stableCluster(19)
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    const { docs, bindings } = await bindAll(cluster, 'restart', [a, b])
    const [docA, docB] = docs as [Y.Doc, Y.Doc]
    docA.getArray<string>('list').push(['before crash'])
    await flushAll(cluster, bindings)
    cluster.crash(b)
    docA.getArray<string>('list').push(['while b was down'])
    await cluster.settle(bindings[0]!.flush())
    await cluster.restart(b)
    await cluster.stable()
    await cluster.advance(3_000)
    expect(items(docB)).toEqual(['before crash', 'while b was down'])
    // and the re-registered watch delivers what comes next (b does nothing itself)
    docA.getArray<string>('list').push(['after restart'])
    await cluster.settle(bindings[0]!.flush())
    await cluster.advance(2_000)
    expect(items(docB)).toEqual(['after restart', 'before crash', 'while b was down'])
    await cluster.close()
  })

  it('sends what the doc held before it was bound, and a doc bound later receives everything', async () => {
    const cluster = await stableCluster(14)
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    const offline = new Y.Doc()
    offline.getText('t').insert(0, 'written offline')
    const bindingA = bindDoc(a, 'late', offline)
    await cluster.settle(bindingA.flush())
    await cluster.advance(1_000)
    const late = new Y.Doc()
    const bindingB = bindDoc(b, 'late', late)
    await cluster.settle(bindingB.synced)
    expect(text(late)).toBe('written offline')
    await cluster.close()
  })

  it('compacts many update nodes into one without losing an edit', async () => {
    const cluster = await stableCluster(15)
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const bindings = [bindDoc(a, 'busy', docA, { compactAfter: 4 }), bindDoc(b, 'busy', docB, { compactAfter: 4 })]
    const written: string[] = []
    for (let i = 0; i < 12; i++) {
      const doc = i % 2 === 0 ? docA : docB
      doc.getArray<string>('list').push([`edit ${i}`])
      written.push(`edit ${i}`)
      await flushAll(cluster, bindings)
    }
    await cluster.advance(3_000)
    const nodes = await updateNodes(a, 'busy')
    expect(nodes.length).toBeLessThanOrEqual(5)
    expect(items(docA)).toEqual(written.slice().sort())
    expect(items(docB)).toEqual(written.slice().sort())
    // a newcomer rebuilds the whole document from the compacted nodes
    const docC = new Y.Doc()
    await cluster.settle(bindDoc(c, 'busy', docC).synced)
    expect(items(docC)).toEqual(written.slice().sort())
    await cluster.close()
  })

  it('skips and reports a malformed update node written by a peer, and keeps syncing', async () => {
    const cluster = await stableCluster(16)
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const errors: MeshError[] = []
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const bindingA = bindDoc(a, 'hostile', docA, { onError: (e) => errors.push(e) })
    const bindingB = bindDoc(b, 'hostile', docB)
    await cluster.settle(bindingA.synced)
    await cluster.settle(bindingB.synced)
    await c.create(`${YJS_ROOT}/hostile/${UPDATE_PREFIX}`, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x07]), { mode: 'persistent-sequential' })
    docB.getText('t').insert(0, 'still fine')
    await flushAll(cluster, [bindingA, bindingB])
    expect(text(docA)).toBe('still fine')
    expect(errors.map((e) => e.code)).toContain('BAD_MESSAGE')
    await cluster.close()
  })

  it('compaction drops a malformed node instead of getting stuck on it', async () => {
    const cluster = await stableCluster(20)
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    await cluster.settle(bindDoc(a, 'junk', new Y.Doc()).synced)
    await c.create(`${YJS_ROOT}/junk/${UPDATE_PREFIX}`, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x07]), { mode: 'persistent-sequential' })
    const errors: MeshError[] = []
    const doc = new Y.Doc()
    const binding = bindDoc(b, 'junk', doc, { compactAfter: 2, onError: (e) => errors.push(e) })
    for (let i = 0; i < 4; i++) {
      doc.getArray<string>('list').push([`edit ${i}`])
      await cluster.settle(binding.flush())
      await cluster.advance(1_000)
    }
    const nodes = await updateNodes(b, 'junk')
    expect(nodes.length).toBeLessThanOrEqual(2)
    const fresh = new Y.Doc()
    await cluster.settle(bindDoc(c, 'junk', fresh, { onError: (e) => errors.push(e) }).synced)
    expect(items(fresh)).toEqual(['edit 0', 'edit 1', 'edit 2', 'edit 3'])
    // reported once, by the binding that met it; the newcomer never sees it
    expect(errors.filter((e) => e.code === 'BAD_MESSAGE')).toHaveLength(1)
    await cluster.close()
  })

  it('makes the directory again when an app deleted it, and goes on syncing', async () => {
    const cluster = await stableCluster(22)
    const { docs, bindings } = await bindAll(cluster, 'wiped', cluster.meshes.slice(0, 2))
    docs[0]!.getText('t').insert(0, 'first')
    await flushAll(cluster, bindings)
    const dir = `${YJS_ROOT}/wiped`
    await cluster.meshes[2]!.multi([
      ...(await updateNodes(cluster.meshes[2]!, 'wiped')).map((n) => ({ op: 'delete' as const, path: `${dir}/${n}` })),
      { op: 'delete', path: dir },
    ])
    await cluster.advance(1_000)
    docs[1]!.getText('t').insert(0, 'again ')
    await cluster.settle(bindings[1]!.flush().catch(() => bindings[1]!.flush()))
    await cluster.advance(2_000)
    expect(text(docs[0]!)).toBe('again first')
    expect(await updateNodes(cluster.meshes[0]!, 'wiped')).toHaveLength(1)
    await cluster.close()
  })

  it('stops syncing on destroy', async () => {
    const cluster = await stableCluster(17)
    const { docs, bindings } = await bindAll(cluster, 'gone', cluster.meshes.slice(0, 2))
    bindings[1]!.destroy()
    docs[0]!.getText('t').insert(0, 'after destroy')
    docs[1]!.getText('t').insert(0, 'local only ')
    await flushAll(cluster, bindings)
    expect(text(docs[1]!)).toBe('local only ')
    expect(text(docs[0]!)).toBe('after destroy')
    expect(await updateNodes(cluster.meshes[0]!, 'gone')).toHaveLength(1)
    await cluster.close()
  })

  it.each([50, 5])('figures: typing 300 characters, a keystroke every %i ms (printed, not asserted beyond convergence)', async (keystrokeMs) => {
    const cluster = await stableCluster(40)
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    const { docs, bindings } = await bindAll(cluster, 'typing', [a, b])
    const [docA, docB] = docs as [Y.Doc, Y.Doc]
    const typed = 'the quick brown fox jumps over the lazy dog; '.repeat(7).slice(0, 300)
    const start = cluster.clock.now()
    let writes = 0
    let bytes = 0
    const counted = new Set<string>()
    for (let i = 0; i < typed.length; i++) {
      docA.getText('t').insert(i, typed[i]!)
      await cluster.advance(keystrokeMs)
      for (const n of await a.children(`${YJS_ROOT}/typing`)) {
        if (counted.has(n)) continue
        counted.add(n)
        writes++
        bytes += (await a.get(`${YJS_ROOT}/typing/${n}`).catch(() => ({ data: new Uint8Array() }))).data.length
      }
    }
    await cluster.settle(bindings[0]!.flush())
    const typedAt = cluster.clock.now()
    while (text(docB) !== typed && cluster.clock.now() - typedAt < 10_000) await cluster.advance(10)
    expect(text(docB)).toBe(typed)
    console.log(
      `bindDoc typing every ${keystrokeMs} ms: ${typed.length} keystrokes → ${writes} update znodes seen while typing (${bytes} bytes; edits made while a write is in flight go out merged), ` +
        `${(await updateNodes(a, 'typing')).length} in the directory at the end (compaction above 64); last keystroke reached the other doc ` +
        `${cluster.clock.now() - typedAt} ms (virtual) after its flush; ${cluster.clock.now() - start} ms virtual in all`,
    )
    await cluster.close()
  })

  it('refuses a name that is not one znode name', () => {
    const cluster = createSimulatedCluster({ members: 1, seed: 18 })
    for (const name of ['', 'a/b', '..']) {
      expect(() => bindDoc(cluster.meshes[0]!, name, new Y.Doc())).toThrow(MeshError)
    }
  })
})
