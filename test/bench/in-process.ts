// The commit timeline of an in-process cluster (part of `npm run bench:core`):
// three whole members (driver, tree, codecs, framed links) in this Node
// process over memory storage and the in-process transport, on real timers,
// with `timeline: true`. Prints, for sequential writes from a follower and
// from the leader, the commit latency and the median instant of each stage
// after the write was submitted (`core.timeline.follower.<stage>.p50` …):
// what the driver itself costs when disk and network cost nothing.
import { startMesh } from '../../src/client/assemble'
import { JOINED_STAGES, joinCommitTimelines, stageGapMedians, stageMedians } from '../../src/driver/commit-timeline-join'
import type { JoinedCommit } from '../../src/driver/commit-timeline-join'
import { epochNow } from '../../src/shared/clock'
import { MemoryStorageProvider } from '../../src/storage/memory'
import type { Mesh } from '../../src/shared/types'
import { MemoryHub } from '../../src/transport/memory-transport'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** `n` sequential creates from `mesh`; the joined timelines of exactly those writes. */
async function timedWrites(meshes: Mesh[], mesh: Mesh, prefix: string, n: number): Promise<{ latencies: number[]; commits: JoinedCommit[] }> {
  const from = epochNow()
  const latencies: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await mesh.create(`${prefix}-${i}`, 'x'.repeat(32))
    latencies.push(performance.now() - t0)
  }
  const to = epochNow()
  const commits = joinCommitTimelines(meshes.map((m) => m.commitTimeline())).filter((c) => c.requester === mesh.id && c.stages.submitted !== undefined && c.stages.submitted >= from && c.stages.submitted <= to)
  return { latencies, commits }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN

function print(key: string, r: { latencies: number[]; commits: JoinedCommit[] }): void {
  console.log(`  ${key}.commit.p50: ${median(r.latencies).toFixed(3)} ms (n ${r.latencies.length}; ${r.commits.length} joined timelines)`)
  const medians = stageMedians(r.commits)
  const gaps = stageGapMedians(r.commits)
  for (const stage of JOINED_STAGES) {
    const t = medians[stage]
    if (t !== undefined) console.log(`  ${key}.timeline.${stage}.p50: ${t.toFixed(3)} ms   (gap after the stage before: ${gaps[stage]!.toFixed(3)} ms)`)
  }
}

export async function benchInProcessTimeline(n = 500): Promise<void> {
  const hub = new MemoryHub()
  const storage = new MemoryStorageProvider()
  const meshes: Mesh[] = []
  try {
    for (const [i, id] of ['a1', 'b1', 'c1'].entries()) {
      const hello = { member: id, tab: 't', browser: `browser-${id}` }
      meshes.push(await startMesh({ hello, storage: await storage.open('bench', id), transport: hub.connect(hello), bootstrap: i === 0, seed: i + 1, timing: { tickMs: 20 }, timeline: true }))
    }
    const first = meshes[0]!
    await first.create('/t', '')
    while (first.members().filter((m) => m.voter).length < 3 || meshes.some((m) => m.leader !== first.leader)) await sleep(20)
    const leader = meshes.find((m) => m.isLeader)!
    const follower = meshes.find((m) => !m.isLeader)!
    await timedWrites(meshes, follower, '/t/warm', 100)
    console.log('in-process cluster, 3 members, memory storage and transport, real timers, timeline on (ms after submitted):')
    print('core.follower', await timedWrites(meshes, follower, '/t/f', n))
    print('core.leader', await timedWrites(meshes, leader, '/t/l', n))
  } finally {
    await Promise.all(meshes.map((m) => m.close()))
  }
}
