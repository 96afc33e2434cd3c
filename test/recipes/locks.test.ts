import { describe, expect, it } from 'vitest'
import { createSimulatedCluster } from '../../src/testing/index'
import { MeshError } from '../../src/shared/errors'
import type { Lease, Mesh } from '../../src/shared/types'

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('mesh.lock: a fair FIFO mutex with fencing tokens', () => {
  it('grants the lock to one holder at a time, in arrival order, with increasing tokens', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 11 })
    await cluster.stable()
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const first = await a.lock('/locks/x').acquire()
    expect(first.state).toBe('held')
    const order: string[] = []
    const pb = b.lock('/locks/x').acquire().then((l: Lease) => (order.push('b'), l))
    await cluster.advance(200)
    const pc = c.lock('/locks/x').acquire().then((l: Lease) => (order.push('c'), l))
    await cluster.advance(500)
    expect(order).toEqual([]) // nobody else gets in while a holds
    expect(await b.lock('/locks/x').tryAcquire()).toBeNull()
    await first.release()
    const second = await cluster.settle(pb)
    expect(order).toEqual(['b'])
    expect(second.token).toBeGreaterThan(first.token)
    await second.release()
    const third = await cluster.settle(pc)
    expect(order).toEqual(['b', 'c'])
    expect(third.token).toBeGreaterThan(second.token)
    await third.release()
    // no orphan: every lock node is gone, and the container parents with them
    await cluster.advance(5_000)
    await a.sync()
    expect(await a.exists('/locks/x')).toBeNull()
  })

  it('rejects a stale holder\'s fenced write with FENCED once the lock moved on', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 12 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    await a.create('/guarded', 'v0')
    const lease = await a.lock('/locks/g').acquire()
    await a.set('/guarded', 'by-a', { fence: lease })
    await lease.release()
    const next = await b.lock('/locks/g').acquire()
    await b.set('/guarded', 'by-b', { fence: next })
    const err = await caught(a.set('/guarded', 'stale', { fence: lease }))
    expect(err).toBeInstanceOf(MeshError)
    expect((err as MeshError).code).toBe('FENCED')
    await expect(a.delete('/guarded', { fence: lease })).rejects.toMatchObject({ code: 'FENCED' })
    expect((await b.get('/guarded', { linearizable: true })).text()).toBe('by-b')
    await next.release()
  })

  it('times out and aborts without leaving a lock node behind', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 13 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    const held = await a.lock('/locks/t').acquire()
    const err = await caught(b.lock('/locks/t').acquire({ timeoutMs: 1_000 }))
    expect((err as MeshError).code).toBe('TIMEOUT')
    const ac = new AbortController()
    const pending = b.lock('/locks/t').acquire({ signal: ac.signal })
    await cluster.advance(300)
    ac.abort(new Error('stop'))
    expect(((await caught(pending)) as Error).message).toBe('stop')
    await cluster.advance(1_000)
    await b.sync()
    expect(await b.children('/locks/t')).toHaveLength(1) // only a's node
    await held.release()
  })

  it('a lease is lost when its holder crashes; the waiter takes over after the session expires', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 14, sessionTimeoutMs: 3_000 })
    await cluster.stable()
    const [a, b] = cluster.meshes as [Mesh, Mesh]
    const held = await a.lock('/locks/c').acquire()
    const waiting = b.lock('/locks/c').acquire()
    await cluster.advance(500)
    cluster.crash(a)
    const next = await cluster.settle(waiting)
    expect(next.token).toBeGreaterThan(held.token)
    await expect(b.set('/locks/c', 'x', { fence: held })).rejects.toMatchObject({ code: 'FENCED' })
    await next.release()
  })

  it('await using releases the lease', async () => {
    const cluster = createSimulatedCluster({ members: 1, seed: 15 })
    const [a] = cluster.meshes as [Mesh]
    {
      await using lease = await a.lock('/locks/u').acquire()
      expect(lease.state).toBe('held')
    }
    expect(await a.lock('/locks/u').tryAcquire()).not.toBeNull()
  })
})

describe('readWriteLock and semaphore', () => {
  it('readers share, a writer excludes, and a waiting writer holds back later readers', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 21 })
    await cluster.stable()
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const r1 = await a.readWriteLock('/rw').read.acquire()
    const r2 = await b.readWriteLock('/rw').read.acquire() // readers share
    let writer: Lease | null = null
    const w = c.readWriteLock('/rw').write.acquire().then((l: Lease) => (writer = l))
    await cluster.advance(300)
    expect(writer).toBeNull()
    expect(await a.readWriteLock('/rw').read.tryAcquire()).toBeNull() // behind the waiting writer
    await r1.release()
    await r2.release()
    await cluster.settle(w)
    expect(writer).not.toBeNull()
    expect(await b.readWriteLock('/rw').read.tryAcquire()).toBeNull()
    await writer!.release()
    expect(await b.readWriteLock('/rw').read.tryAcquire()).not.toBeNull()
  })

  it('a semaphore admits exactly `permits` holders', async () => {
    const cluster = createSimulatedCluster({ members: 3, seed: 22 })
    await cluster.stable()
    const [a, b, c] = cluster.meshes as [Mesh, Mesh, Mesh]
    const l1 = await a.semaphore('/sem', 2).acquire()
    const l2 = await b.semaphore('/sem', 2).acquire()
    expect(await c.semaphore('/sem', 2).tryAcquire()).toBeNull()
    let third: Lease | null = null
    const p = c.semaphore('/sem', 2).acquire().then((l: Lease) => (third = l))
    await cluster.advance(300)
    expect(third).toBeNull()
    await l2.release() // the later holder leaves first: the waiter still gets in
    await cluster.settle(p)
    expect(third).not.toBeNull()
    await l1.release()
    await third!.release()
    expect(() => a.semaphore('/sem', 0)).toThrow(MeshError)
  })
})
