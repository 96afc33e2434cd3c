import { afterEach, describe, expect, it } from 'vitest'
import { startMesh } from '../../src/client/assemble'
import { MemoryHub } from '../../src/transport/memory-transport'
import { MemoryStorageProvider } from '../../src/storage/memory'
import type { Mesh, WatchEvent } from '../../src/shared/types'

// The same member on real timers, memory storage and the in-process transport
// (framed links, async delivery): invariant 7, one code path everywhere.
const timing = { tickMs: 10, electionTicks: 10 }
let meshes: Mesh[] = []

afterEach(async () => {
  await Promise.all(meshes.map((m) => m.close().catch(() => {})))
  meshes = []
})

async function until(pred: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('a mesh on real time', () => {
  it('the first member bootstraps alone and commits; two more join, are promoted, and see everything', async () => {
    const hub = new MemoryHub()
    const storage = new MemoryStorageProvider()
    const start = async (id: string, bootstrap: boolean): Promise<Mesh> => {
      const hello = { member: id, tab: 'tab1', browser: `browser-${id}` }
      const mesh = await startMesh({ hello, storage: await storage.open('room', id), transport: hub.connect(hello), bootstrap, seed: id.charCodeAt(1), timing })
      meshes.push(mesh)
      return mesh
    }
    const a = await start('a1', true)
    await a.create('/first', 'alone')
    expect(a.isLeader).toBe(true)
    const b = await start('b1', false)
    const c = await start('c1', false)
    await until(() => a.members().filter((m) => m.voter).length === 3)
    const seen: WatchEvent[] = []
    c.watch('/first', (e) => seen.push(e))
    await b.set('/first', 'from b')
    await c.sync()
    expect((await c.get('/first')).text()).toBe('from b')
    expect(seen.map((e) => e.type)).toEqual(['data'])
    expect(await c.children('/')).toEqual(['first'])
    expect(new Set(meshes.map((m) => m.leader)).size).toBe(1)
  })
})
