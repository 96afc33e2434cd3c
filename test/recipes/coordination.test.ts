import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import type { ElectionLeader, Lease, Mesh } from '../../src/shared/types'
import { MeshError } from '../../src/shared/errors'
import { election } from '../../src/recipes/election'

function three(seed: number) {
  const cluster = createSimulatedCluster({ members: 3, seed })
  return { cluster, meshes: cluster.meshes as [Mesh, Mesh, Mesh] }
}

describe('election', () => {
  it('elects exactly one leader, reports it with its value, and re-elects when it resigns', async () => {
    const { cluster, meshes: [a, b, c] } = three(31)
    await cluster.stable()
    const seen: (ElectionLeader | null)[] = []
    const stop = c.election('/election/app').observe((l) => seen.push(l))
    const la = await a.election('/election/app').campaign({ value: 'http://a' })
    let lb: Lease | null = null
    const pb = b.election('/election/app').campaign({ value: 'http://b' }).then((l) => (lb = l))
    await cluster.advance(500)
    expect(lb).toBeNull()
    expect(await c.election('/election/app').leader()).toEqual({ id: a.id, value: 'http://a' })
    await la.release() // resign
    await cluster.settle(pb)
    expect(await c.election('/election/app').leader()).toEqual({ id: b.id, value: 'http://b' })
    await cluster.advance(500)
    expect(seen.filter((l) => l !== null).map((l) => l!.id)).toEqual([a.id, b.id])
    stop()
    await lb!.release()
    expect(await c.election('/election/app').leader()).toBeNull()
  })

  it('re-elects when the leader tab closes', async () => {
    const { cluster, meshes: [a, b, c] } = three(32)
    await cluster.stable()
    await a.election('/e').campaign()
    const pb = b.election('/e').campaign()
    await cluster.advance(300)
    await a.close() // ephemerals go at once
    await cluster.settle(pb)
    expect((await c.election('/e').leader())?.id).toBe(b.id)
  })

  it('observe reads again after a failed read: a change seen during a moment without quorum still reaches the app', async () => {
    const { cluster, meshes: [a, b, c] } = three(33)
    await cluster.stable()
    // c's reads fail once, as a tab's do while a crashed tab's voters are taken over
    let failNext = false
    const flaky = new Proxy(c, {
      get(target, key, receiver) {
        if (key === 'children') {
          return (path: string) => {
            if (!failNext) return target.children(path)
            failNext = false
            return Promise.reject(new MeshError('NO_QUORUM', 'no quorum for a moment'))
          }
        }
        return Reflect.get(target, key, receiver) as unknown
      },
    })
    const seen: (string | null)[] = []
    const stop = election(flaky, '/e', cluster.clock).observe((l) => seen.push(l?.id ?? null))
    const la = await a.election('/e').campaign()
    const pb = b.election('/e').campaign()
    await cluster.advance(500)
    expect(seen.at(-1)).toBe(a.id)
    failNext = true
    await la.release()
    await cluster.settle(pb)
    await cluster.advance(3_000)
    expect(failNext).toBe(false) // the failure happened
    expect(seen.at(-1)).toBe(b.id)
    stop()
  })
})

describe('barriers', () => {
  it('a barrier holds waiters until it is removed', async () => {
    const { cluster, meshes: [a, b] } = three(41)
    await cluster.stable()
    await a.barrier('/b/one').set()
    let passed = false
    const waiting = b.barrier('/b/one').wait().then(() => (passed = true))
    await cluster.advance(1_000)
    expect(passed).toBe(false)
    await a.barrier('/b/one').remove()
    await cluster.settle(waiting)
    expect(passed).toBe(true)
  })

  it('a double barrier lets `count` participants enter together and leave together', async () => {
    const { cluster, meshes } = three(42)
    await cluster.stable()
    const entered: string[] = []
    const bars = meshes.map((m) => m.doubleBarrier('/b/double', 3))
    const e0 = bars[0]!.enter().then(() => entered.push('a'))
    const e1 = bars[1]!.enter().then(() => entered.push('b'))
    await cluster.advance(1_000)
    expect(entered).toEqual([]) // two of three: nobody enters
    const e2 = bars[2]!.enter().then(() => entered.push('c'))
    await cluster.settle(Promise.all([e0, e1, e2]))
    expect(entered.sort()).toEqual(['a', 'b', 'c'])
    const left: string[] = []
    const l0 = bars[0]!.leave().then(() => left.push('a'))
    const l1 = bars[1]!.leave().then(() => left.push('b'))
    await cluster.advance(1_000)
    expect(left).toEqual([]) // c is still inside
    const l2 = bars[2]!.leave().then(() => left.push('c'))
    await cluster.settle(Promise.all([l0, l1, l2]))
    expect(left.sort()).toEqual(['a', 'b', 'c'])
    await meshes[0].sync()
    // the barrier's node is a container (createWithParents): once empty, the
    // leader may already have reaped it
    const inside = await meshes[0].children('/b/double').catch((err: unknown) => {
      if ((err as MeshError).code === 'NO_NODE') return []
      throw err
    })
    expect(inside).toEqual([])
  })
})

describe('queue and counter', () => {
  it('the queue is FIFO, take waits for an item, and each item goes to exactly one taker', async () => {
    const { cluster, meshes: [a, b, c] } = three(51)
    await cluster.stable()
    const q = (m: Mesh) => m.queue('/q/jobs')
    const waiting = b.queue('/q/jobs').take()
    await cluster.advance(500)
    await q(a).put('one')
    expect((await cluster.settle(waiting)).text()).toBe('one')
    for (const item of ['two', 'three', 'four', 'five']) await q(a).put(item)
    expect(await q(c).size()).toBe(4) // size() catches up with the leader first
    const taken = await cluster.settle(Promise.all([q(b).take(), q(c).take(), q(b).take(), q(c).take()]))
    expect(taken.map((n) => n.text()).sort()).toEqual(['five', 'four', 'three', 'two'])
    expect(await q(a).size()).toBe(0)
  })

  it('the counter adds atomically under contention', async () => {
    const { cluster, meshes } = three(52)
    await cluster.stable()
    const adds: Promise<number>[] = []
    for (let i = 0; i < 10; i++) for (const m of meshes) adds.push(m.counter('/counters/hits').add(1))
    const results = await cluster.settle(Promise.all(adds))
    expect(new Set(results).size).toBe(30) // every add saw a distinct value
    expect(Math.max(...results)).toBe(30)
    expect(await meshes[2].counter('/counters/hits').get()).toBe(30)
    expect(await meshes[0].counter('/counters/hits').add(-5)).toBe(25)
  })
})
