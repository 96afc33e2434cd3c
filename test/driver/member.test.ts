import { describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'
import { VirtualHub } from '../../src/testing/virtual-transport'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { Member } from '../../src/driver/member'
import type { Clock } from '../../src/shared/clock'
import { MeshError as MeshErrorClass } from '../../src/shared/errors'
import type { MeshError } from '../../src/shared/errors'
import type { SaveBatch, Storage } from '../../src/storage/types'

/** Two static voters on a virtual world; m1's saves are held until released. */
async function world() {
  const clock = new VirtualClock()
  const network = new VirtualNetwork<Uint8Array>(clock, prng.create(5), { minDelay: 1, maxDelay: 2 })
  const hub = new VirtualHub(network)
  const scheduler: Clock = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h as number) }
  const held: Array<{ batch: SaveBatch; release: () => void; fail: (e: unknown) => void }> = []
  const provider = new MemoryStorageProvider()
  const inner = await provider.open('room', 'm1')
  const control = { hold: false }
  const heldStorage: Storage = {
    load: () => inner.load(),
    save: (batch) =>
      !control.hold
        ? inner.save(batch)
        : new Promise<void>((resolve, reject) => {
        held.push({ batch, release: () => void inner.save(batch).then(resolve, reject), fail: reject })
      }),
    destroy: () => inner.destroy(),
    close: () => inner.close(),
  }
  // raft frames sent, per member (node frame: version 1, tag 0 = raft)
  const sentBy = new Map<string, number>()
  network.observer = (e) => {
    if (e.kind === 'send' && e.msg[1] === 0) sentBy.set(e.from, (sentBy.get(e.from) ?? 0) + 1)
  }
  const mk = async (id: string, storage: Storage): Promise<Member> =>
    new Member({
      hello: { member: id, tab: 't1', browser: `b-${id}` },
      storage,
      transport: hub.connect({ member: id, tab: 't1', browser: `b-${id}` }),
      scheduler,
      random: (() => {
        const g = prng.create(id.charCodeAt(1))
        return () => prng.real53(g)
      })(),
      bootstrap: true,
      bootstrapVoters: ['m1', 'm2'],
    })
  const m1 = await mk('m1', heldStorage)
  const m2 = await mk('m2', await provider.open('room', 'm2'))
  return { clock, held, sentBy, m1, m2, control }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

describe('member: the Ready loop', () => {
  it('sends nothing while the batch that vouches for it is not yet saved (persist before send)', async () => {
    const w = await world()
    await w.m1.start()
    await w.m2.start()
    w.control.hold = true
    let checked = 0
    for (let round = 0; round < 20_000 && checked < 30; round++) {
      if (w.held.length === 0) {
        // keep the log moving: a quiet cluster has little to persist
        if (round % 50 === 0) void w.m2.write([{ op: 'check', path: '/', version: -1 }], false).catch(() => {})
        w.clock.runNext()
        await flush()
        continue
      }
      const before = w.sentBy.get('m1') ?? 0
      // while a save is held, m1's clock keeps ticking and messages keep arriving — yet no raft message leaves
      for (let i = 0; i < 30; i++) {
        w.clock.runNext()
        await flush()
      }
      expect(w.sentBy.get('m1') ?? 0).toBe(before)
      expect(w.held).toHaveLength(1) // one Ready in flight at a time
      w.held.shift()!.release()
      checked++
      await flush()
    }
    expect(checked).toBe(30)
    expect(w.sentBy.get('m1') ?? 0).toBeGreaterThan(0)
    w.m1.stop(new MeshErrorClass('CLOSED'))
    w.m2.stop(new MeshErrorClass('CLOSED'))
  })

  it('a failed save raises an error with code STORAGE and the member stops for good', async () => {
    const w = await world()
    const errors: MeshError[] = []
    w.m1.on('error', (e) => errors.push(e))
    await w.m1.start()
    await w.m2.start()
    w.control.hold = true
    for (let i = 0; i < 5_000 && w.held.length === 0; i++) {
      w.clock.runNext()
      await flush()
    }
    w.held.shift()!.fail(Object.assign(new Error('disk full'), { code: 'STORAGE' }))
    await flush()
    expect(errors.map((e) => e.code)).toEqual(['STORAGE'])
    expect(w.m1.isStopped).toBe(true)
    expect(w.m1.state).toBe('closed')
    const sent = w.sentBy.get('m1') ?? 0
    for (let i = 0; i < 500; i++) {
      w.clock.runNext()
      await flush()
    }
    expect(w.sentBy.get('m1') ?? 0).toBe(sent)
    await expect(w.m1.write([{ op: 'check', path: '/', version: -1 }], false)).rejects.toMatchObject({ code: 'CLOSED' })
    w.m2.stop(errors[0]!)
  })
})
