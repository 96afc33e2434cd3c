// Figures for the simulated cluster (run: npx tsx test/testing/bench-cluster.ts).
// Real time is this machine's CPU cost of the whole stack (raft core, tree,
// codecs, driver, virtual network) per write; virtual time is the commit
// latency the protocol needs with the default 1–10 ms one-way network delay.
import { createSimulatedCluster } from '../../src/testing/index'
import { startMesh } from '../../src/client/assemble'
import { MemoryHub } from '../../src/transport/memory-transport'
import { MemoryStorageProvider } from '../../src/storage/memory'
import type { Mesh } from '../../src/shared/types'

async function main(): Promise<void> {
  const cluster = createSimulatedCluster({ members: 3, seed: 1 })
  await cluster.stable()
  const follower = cluster.meshes.find((m) => !m.isLeader)!
  const leader = cluster.meshes.find((m) => m.isLeader)!
  await leader.create('/bench', '')

  const n = 1_000
  let t0 = performance.now()
  let v0 = cluster.clock.now()
  for (let i = 0; i < n; i++) await follower.set('/bench', `v${i}`)
  let real = performance.now() - t0
  let virt = cluster.clock.now() - v0
  console.log(`sequential writes from a follower: ${n} in ${real.toFixed(0)} ms real (${((n / real) * 1000).toFixed(0)} writes/s), ${(virt / n).toFixed(1)} ms virtual commit latency each`)

  const batch = 100
  t0 = performance.now()
  v0 = cluster.clock.now()
  for (let b = 0; b < n / batch; b++) {
    await Promise.all(Array.from({ length: batch }, (_, i) => cluster.meshes[i % 3]!.create(`/bench/c-${b}-${i}`, 'x')))
  }
  real = performance.now() - t0
  virt = cluster.clock.now() - v0
  console.log(`concurrent creates (${batch} in flight, all members): ${n} in ${real.toFixed(0)} ms real (${((n / real) * 1000).toFixed(0)} writes/s), ${virt} ms virtual (${((n / virt) * 1000).toFixed(0)} writes per virtual s)`)

  t0 = performance.now()
  v0 = cluster.clock.now()
  for (let i = 0; i < n; i++) await follower.get('/bench', { linearizable: true })
  real = performance.now() - t0
  virt = cluster.clock.now() - v0
  console.log(`linearizable reads on a follower: ${n} in ${real.toFixed(0)} ms real, ${(virt / n).toFixed(1)} ms virtual each`)

  t0 = performance.now()
  for (let i = 0; i < n * 10; i++) await follower.get('/bench')
  real = performance.now() - t0
  console.log(`local reads: ${n * 10} in ${real.toFixed(0)} ms real (${((n * 10 * 1000) / real).toFixed(0)} reads/s)`)
  const digests = new Set(cluster.digests().values())
  console.log(`replicas agree: ${digests.size === 1}`)
}

/** The same stack on real timers over the in-process transport (framed links, async delivery). */
async function realTime(): Promise<void> {
  const hub = new MemoryHub()
  const storage = new MemoryStorageProvider()
  const meshes: Mesh[] = []
  for (const [i, id] of ['a1', 'b1', 'c1'].entries()) {
    const hello = { member: id, tab: 't', browser: `browser-${id}` }
    meshes.push(await startMesh({ hello, storage: await storage.open('bench', id), transport: hub.connect(hello), bootstrap: i === 0, seed: i + 1, timing: { tickMs: 20 } }))
  }
  const [a, b] = meshes as [Mesh, Mesh]
  await a.create('/rt', '')
  while (a.members().filter((m) => m.voter).length < 3) await new Promise((r) => setTimeout(r, 20))
  const n = 500
  let t0 = performance.now()
  for (let i = 0; i < n; i++) await b.set('/rt', `v${i}`)
  let real = performance.now() - t0
  console.log(`real time, in-process transport: ${n} sequential writes from a follower in ${real.toFixed(0)} ms (${(real / n).toFixed(2)} ms each)`)
  t0 = performance.now()
  await Promise.all(Array.from({ length: 2_000 }, (_, i) => meshes[i % 3]!.create(`/rt/c-${i}`, 'x')))
  real = performance.now() - t0
  console.log(`real time, in-process transport: 2000 concurrent creates in ${real.toFixed(0)} ms (${((2_000 / real) * 1000).toFixed(0)} writes/s)`)
  await Promise.all(meshes.map((m) => m.close()))
}

void main().then(realTime)
