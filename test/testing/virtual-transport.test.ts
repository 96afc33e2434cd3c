import { describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'
import { VirtualHub } from '../../src/testing/virtual-transport'
import { SimDisk } from '../../src/testing/sim-disk'
import { MemoryStorageProvider } from '../../src/storage/memory'
import type { Link } from '../../src/transport/types'

function world() {
  const clock = new VirtualClock()
  const network = new VirtualNetwork<Uint8Array>(clock, prng.create(1), { minDelay: 1, maxDelay: 5 })
  return { clock, network, hub: new VirtualHub(network) }
}

describe('virtual transport', () => {
  it('links every online member to every other, both ways, and carries bytes with network delay', () => {
    const { clock, hub } = world()
    const a = hub.connect({ member: 'a', tab: 't', browser: 'x' })
    const seenByA: string[] = []
    a.onLink((link, hello) => seenByA.push(`${link.peer}/${hello.browser}`))
    const b = hub.connect({ member: 'b', tab: 't', browser: 'y' })
    expect(seenByA).toEqual(['b/y'])
    expect([...b.links().keys()]).toEqual(['a'])
    const got: number[][] = []
    b.links().get('a')!.onMessage((bytes) => got.push([...bytes]))
    const buf = new Uint8Array([1, 2, 3])
    a.links().get('b')!.send(buf)
    buf[0] = 9 // the sender reusing its buffer must not change what is delivered
    expect(got).toEqual([])
    clock.advance(10)
    expect(got).toEqual([[1, 2, 3]])
  })

  it('closes the links on both sides when a member goes offline, and refuses sends after', () => {
    const { hub } = world()
    const a = hub.connect({ member: 'a', tab: 't', browser: 'x' })
    hub.connect({ member: 'b', tab: 't', browser: 'y' })
    const toB: Link = a.links().get('b')!
    const reasons: string[] = []
    toB.onClose((r) => reasons.push(r))
    hub.disconnect('b')
    expect(reasons).toEqual(['offline'])
    expect(toB.open).toBe(false)
    expect(() => toB.send(new Uint8Array([1]))).toThrowError(/closed/)
    expect(hub.online()).toEqual(['a'])
  })

  it('drops what a partition separates', () => {
    const { clock, network, hub } = world()
    const a = hub.connect({ member: 'a', tab: 't', browser: 'x' })
    const b = hub.connect({ member: 'b', tab: 't', browser: 'y' })
    let got = 0
    b.links().get('a')!.onMessage(() => got++)
    network.partition(['a'], ['b'])
    a.links().get('b')!.send(new Uint8Array([1]))
    clock.advance(50)
    expect(got).toBe(0)
    network.heal()
    a.links().get('b')!.send(new Uint8Array([1]))
    clock.advance(50)
    expect(got).toBe(1)
  })
})

describe('simulated disk', () => {
  it('makes a save durable only after its latency; a crash loses what was not', async () => {
    const clock = new VirtualClock()
    const provider = new MemoryStorageProvider()
    const disk = new SimDisk(clock, prng.create(3), [5, 5], provider, 'room', 'm1')
    const s1 = disk.open()
    const meta = { member: 'm1', clusterId: 'c', createdAt: 0 }
    const first = s1.save({ meta, hardState: { term: 1, vote: 'm1', commit: 0 } })
    clock.advance(5)
    await first
    void s1.save({ hardState: { term: 2, vote: null, commit: 0 } })
    clock.advance(2)
    disk.crash()
    clock.advance(100)
    await expect(s1.save({})).rejects.toMatchObject({ code: 'STORAGE' })
    const record = await disk.open().load()
    expect(record?.durable.hardState).toEqual({ term: 1, vote: 'm1', commit: 0 })
  })
})
