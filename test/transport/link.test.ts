import { describe, expect, it } from 'vitest'
import { dataFrames, frameCount } from '../../src/transport/framing'
import { FramedLink } from '../../src/transport/link'
import { memoryPortPair } from '../../src/transport/memory-port'
import { patterned, sameBytes } from './bytes'

function linkedPair(opts: { capacityFrames?: number; frameBytes?: number; maxMessageBytes?: number; maxQueuedBytes?: number } = {}) {
  const [pa, pb] = memoryPortPair({ capacityFrames: opts.capacityFrames ?? 64, record: true })
  const errors: unknown[] = []
  const a = new FramedLink('b', pa, { ...opts, onError: (e) => errors.push(e) })
  const b = new FramedLink('a', pb, { ...opts, onError: (e) => errors.push(e) })
  return { a, b, pa, pb, errors }
}

const collect = (link: FramedLink, n: number): Promise<Uint8Array[]> =>
  new Promise((resolve) => {
    const got: Uint8Array[] = []
    link.onMessage((m) => {
      got.push(m)
      if (got.length === n) resolve(got)
    })
  })

const closeReason = (link: FramedLink): Promise<string> => new Promise((resolve) => link.onClose(resolve))

describe('FramedLink: whole messages, in order, at the pace of the channel', () => {
  it('delivers small and large messages whole and in order', async () => {
    const { a, b } = linkedPair({ frameBytes: 1024 })
    const sizes = [5, 0, 70_000, 1, 1024, 3 * 1024 * 1024]
    const got = collect(b, sizes.length)
    sizes.forEach((n, i) => a.send(patterned(n, i)))
    const msgs = await got
    expect(msgs.map((m) => m.length)).toEqual(sizes)
    msgs.forEach((m, i) => expect(sameBytes(m, patterned(sizes[i]!, i))).toBe(true))
  })

  it('never has more frames in flight than the channel takes (backpressure)', async () => {
    const { a, b, pa } = linkedPair({ capacityFrames: 4, frameBytes: 512 })
    const got = collect(b, 1)
    a.send(patterned(200_000))
    // right after send only the frames the pipe accepted have been written
    expect(pa.written.length).toBe(4)
    expect(a.queuedBytes).toBe(200_000)
    expect(sameBytes((await got)[0], patterned(200_000))).toBe(true)
    expect(pa.written.length).toBe(frameCount(200_000, 512))
    expect(a.queuedBytes).toBe(0)
  })

  it('the sender may reuse its buffer as soon as send returns', async () => {
    const { a, b } = linkedPair()
    const got = collect(b, 1)
    const buf = patterned(100)
    a.send(buf)
    buf.fill(0)
    expect((await got)[0]).toEqual(patterned(100))
  })

  it('keeps messages that arrive before anyone listens, for the first listener', async () => {
    const { a, b } = linkedPair()
    a.send(Uint8Array.of(1))
    a.send(Uint8Array.of(2))
    await new Promise((r) => setTimeout(r, 20))
    const got = await collect(b, 2)
    expect(got).toEqual([Uint8Array.of(1), Uint8Array.of(2)])
  })

  it('control messages overtake queued data', async () => {
    const { a, b } = linkedPair({ capacityFrames: 2, frameBytes: 512 })
    const order: string[] = []
    const data = new Promise<void>((resolve) =>
      b.onMessage(() => {
        order.push('data')
        resolve()
      }),
    )
    const control = new Promise<void>((resolve) =>
      b.onControl((m) => {
        order.push(`control ${m[0]}`)
        resolve()
      }),
    )
    a.send(patterned(50_000))
    a.sendControl(Uint8Array.of(9))
    // (the pipe may deliver the rest of the data in the same run of microtasks:
    // what matters is the order of arrival, not when this test resumes)
    await Promise.all([control, data])
    expect(order).toEqual(['control 9', 'data'])
  })

  it('a listener that throws neither desyncs the link nor starves other listeners', async () => {
    const { a, b, errors } = linkedPair()
    b.onMessage(() => {
      throw new Error('app bug')
    })
    const got = collect(b, 2)
    a.send(Uint8Array.of(1))
    a.send(Uint8Array.of(2))
    expect(await got).toEqual([Uint8Array.of(1), Uint8Array.of(2)])
    expect(errors.length).toBe(2)
    expect(b.open).toBe(true)
  })
})

describe('FramedLink: bounds and hostile peers', () => {
  it('refuses to send a message above the bound (TOO_LARGE) and stays open', () => {
    const { a } = linkedPair({ maxMessageBytes: 1000 })
    expect(() => a.send(new Uint8Array(1001))).toThrow(/TOO_LARGE/)
    expect(a.open).toBe(true)
  })

  it('drops a peer whose frames break the rules, and reports it', async () => {
    const [pa, pb] = memoryPortPair()
    const errors: unknown[] = []
    const b = new FramedLink('a', pb, { onError: (e) => errors.push(e) })
    const closed = closeReason(b)
    const delivered: Uint8Array[] = []
    b.onMessage((m) => delivered.push(m))
    // a well-formed first chunk, then a chunk of another message
    const [first] = [...dataFrames(0, patterned(1000), 256)]
    const [foreign] = [...dataFrames(1, patterned(10), 256)]
    pa.attach({ frame: () => {}, drain: () => {}, close: () => {} })
    pa.write(first!)
    pa.write(foreign!)
    expect(await closed).toMatch(/^bad frame/)
    expect(delivered).toEqual([])
    expect(errors.length).toBe(1)
  })

  it('gives up on a peer that does not read once the send queue overflows', async () => {
    const { a } = linkedPair({ capacityFrames: 2, frameBytes: 512, maxQueuedBytes: 10_000 })
    const closed = closeReason(a)
    a.send(new Uint8Array(6000))
    a.send(new Uint8Array(6000))
    expect(await closed).toBe('send queue overflow')
  })
})

describe('FramedLink: unheard messages are bounded', () => {
  it('closes a link whose peer floods it before anyone listens', async () => {
    const { a, b } = linkedPair({ maxQueuedBytes: 10_000 })
    const closed = closeReason(b)
    for (let i = 0; i < 4; i++) a.send(new Uint8Array(4000))
    expect(await closed).toBe('inbox overflow')
  })
})

describe('FramedLink: close', () => {
  it('onClose fires exactly once on each side, and send then throws CLOSED', async () => {
    const { a, b } = linkedPair()
    let aCloses = 0
    let bCloses = 0
    a.onClose(() => aCloses++)
    const bClosed = new Promise<string>((resolve) =>
      b.onClose((r) => {
        bCloses++
        resolve(r)
      }),
    )
    a.close('bye')
    a.close('again')
    expect(await bClosed).toBe('closed by peer')
    b.close()
    expect([aCloses, bCloses]).toEqual([1, 1])
    expect(a.closeReason).toBe('bye')
    expect(() => a.send(Uint8Array.of(1))).toThrow(/CLOSED/)
    expect(() => b.send(Uint8Array.of(1))).toThrow(/CLOSED/)
  })

  it('a listener added after close still hears it, once', async () => {
    const { a } = linkedPair()
    a.close('done')
    expect(await closeReason(a)).toBe('done')
  })

  it('a link that fails (no goodbye) closes on both sides', async () => {
    const { a, b, pa } = linkedPair()
    const both = Promise.all([closeReason(a), closeReason(b)])
    pa.fail('network gone')
    expect(await both).toEqual(['network gone', 'network gone'])
  })
})
