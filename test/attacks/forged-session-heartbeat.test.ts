// Attack (issue 13): a crashed member's session id is public (it is every
// one of its ephemeral nodes' ephemeralOwner); a peer that sends the leader
// `session-heartbeat`s naming it kept the session — and its ephemerals and
// locks — alive for as long as it kept forging. Now a heartbeat counts only
// for the sessions of the member that sends it (member ids are proven on
// every link). Members on real time over the in-process transport.
import { afterEach, describe, expect, it } from 'vitest'
import { startMesh } from '../../src/client/start'
import type { Mesh } from '../../src/client/types'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { MemoryHub } from '../../src/transport/memory-transport'
import type { MemoryTransport } from '../../src/transport/memory-transport'
import { encodeNodeMessage } from '../../src/wire/node-messages'

const timing = { tickMs: 10, electionTicks: 10 }
const SESSION_TIMEOUT_MS = 1_000
const cleanup: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

describe('attack: forged session heartbeats for a crashed member’s session', () => {
  it('the crashed member’s session expires and its ephemeral goes, however long another peer forges heartbeats for it', async () => {
    const hub = new MemoryHub()
    const storage = new MemoryStorageProvider()
    const transports = new Map<string, MemoryTransport>()
    const start = async (id: string, bootstrap: boolean): Promise<Mesh> => {
      const hello = { member: id, tab: 'tab1', browser: `browser-${id}` }
      const transport = hub.connect(hello)
      transports.set(id, transport)
      const mesh = await startMesh({ hello, storage: await storage.open('room', id), transport, bootstrap, seed: id.charCodeAt(0), timing, sessionTimeoutMs: SESSION_TIMEOUT_MS })
      cleanup.push(() => mesh.close().catch(() => {}))
      return mesh
    }
    // three members, so that the two left after the crash keep a quorum
    const leader = await start('a1', true)
    await start('b1', false)
    const victim = await start('v1', false)
    await expect.poll(() => leader.members().filter((m) => m.voter).length, { timeout: 20_000 }).toBe(3)
    await victim.create('/held', 'lock', { mode: 'ephemeral' })
    const owner = (await leader.exists('/held', { linearizable: true }))?.ephemeralOwner
    expect(owner).toBe(victim.sessionId)

    // the forger: a peer on the mesh with a link to the leader
    const forger = hub.connect({ member: 'm1', tab: 'tab1', browser: 'browser-m' })
    cleanup.push(() => forger.close())
    await expect.poll(() => forger.links().get('a1')?.open).toBe(true)
    const forged = encodeNodeMessage({ type: 'session-heartbeat', sessions: [owner!] })
    const forging = setInterval(() => forger.links().get('a1')?.send(forged), 50)
    cleanup.push(() => clearInterval(forging))

    // the victim crashes: its links go without a goodbye, its session is not closed
    await transports.get('v1')!.close()
    // while the forger keeps at it, the session still expires
    await expect.poll(() => leader.exists('/held'), { timeout: 20 * SESSION_TIMEOUT_MS, interval: 100 }).toBeNull()
    expect(forger.links().get('a1')?.open).toBe(true) // the forging went on all along
  })
})
