// The one Mesh assembler (client/assemble.ts): every recipe of the registry
// (src/recipes/index.ts) becomes a method of every Mesh it builds, and a
// recipe times its waits on the clock the Mesh was given — handed to it
// explicitly, not looked up on the Mesh. (The simulated cluster's recipes on
// virtual time: test/recipes/locks.test.ts.)
import { afterEach, describe, expect, it } from 'vitest'
import { startMesh } from '../../src/client/assemble'
import { RECIPES } from '../../src/recipes/index'
import { realClock } from '../../src/shared/clock'
import type { Clock } from '../../src/shared/clock'
import type { Mesh } from '../../src/shared/types'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { MemoryHub } from '../../src/transport/memory-transport'

const timing = { tickMs: 10, electionTicks: 10 }
let meshes: Mesh[] = []
afterEach(async () => {
  await Promise.all(meshes.map((m) => m.close().catch(() => {})))
  meshes = []
})

/** The platform's clock, noting every delay it is asked to wait. */
function notingClock(): Clock & { delays: number[] } {
  const delays: number[] = []
  return {
    delays,
    now: () => realClock.now(),
    setTimeout: (fn, ms) => {
      delays.push(ms)
      return realClock.setTimeout(fn, ms)
    },
    clearTimeout: (h) => realClock.clearTimeout(h),
  }
}

async function start(scheduler?: Clock): Promise<Mesh> {
  const hello = { member: 'a1', tab: 'tab1', browser: 'browser-a' }
  const storage = await new MemoryStorageProvider().open('room', hello.member)
  const mesh = await startMesh({ hello, storage, transport: new MemoryHub().connect(hello), bootstrap: true, seed: 1, timing, ...(scheduler ? { scheduler } : {}) })
  meshes.push(mesh)
  return mesh
}

describe('the Mesh assembler', () => {
  it("attaches exactly the registry's recipes, the recipe methods of shared/api.md, as methods (not enumerable, as a class's are)", async () => {
    const mesh = await start()
    expect(Object.keys(RECIPES).sort()).toEqual(['barrier', 'counter', 'doubleBarrier', 'election', 'lock', 'queue', 'readWriteLock', 'semaphore'])
    for (const name of Object.keys(RECIPES)) {
      expect(typeof (mesh as unknown as Record<string, unknown>)[name], name).toBe('function')
      expect(Object.keys(mesh), name).not.toContain(name)
    }
    // and they work on the Mesh they were attached to
    await expect(mesh.counter('/n').add(2)).resolves.toBe(2)
    expect((await mesh.get('/n')).text()).toBe('2')
  })

  it("a recipe's deadline runs on the clock the Mesh was given", async () => {
    const clock = notingClock()
    const mesh = await start(clock)
    const lease = await mesh.lock('/l').acquire({ timeoutMs: 123_457 })
    expect(clock.delays).toContain(123_457)
    await lease.release()
  })
})
