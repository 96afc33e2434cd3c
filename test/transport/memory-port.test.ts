// The in-memory frame pipe (src/transport/memory-port.ts): ordered, never
// inside write(), and on a microtask rather than a timer per frame (a
// zero-delay timer is clamped to ~1 ms in Node and was the floor of every
// in-process commit).
import { describe, expect, it } from 'vitest'
import { memoryPortPair } from '../../src/transport/memory-port'

function listen(port: ReturnType<typeof memoryPortPair>[number]): { frames: number[]; closed: string[]; drains: number } {
  const seen = { frames: [] as number[], closed: [] as string[], drains: 0 }
  port.attach({ frame: (f) => seen.frames.push(f[0]!), close: (r) => seen.closed.push(r), drain: () => seen.drains++ })
  return seen
}

describe('memory port pair', () => {
  it('delivers the frames of one turn in order on a microtask, not inside write()', async () => {
    const [a, b] = memoryPortPair()
    const got = listen(b)
    listen(a)
    for (let i = 0; i < 10; i++) a.write(Uint8Array.of(i))
    expect(got.frames).toEqual([])
    await Promise.resolve()
    expect(got.frames).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('a close reaches the far end after the frames written before it; write() pushes back at capacity', async () => {
    const [a, b] = memoryPortPair({ capacityFrames: 4 })
    const got = listen(b)
    const mine = listen(a)
    const ok = [1, 2, 3, 4].map((i) => a.write(Uint8Array.of(i)))
    expect(ok).toEqual([true, true, true, false])
    a.close()
    await Promise.resolve()
    expect(got.frames).toEqual([1, 2, 3, 4])
    expect(got.closed).toEqual(['closed by peer'])
    expect(mine.closed).toEqual(['closed'])
  })

  it('a reply written during delivery keeps its order behind frames already queued', async () => {
    const [a, b] = memoryPortPair()
    const atA = listen(a)
    b.attach({ frame: (f) => b.write(Uint8Array.of(f[0]! + 100)), close: () => undefined, drain: () => undefined })
    a.write(Uint8Array.of(1))
    a.write(Uint8Array.of(2))
    b.write(Uint8Array.of(0))
    await new Promise((r) => setTimeout(r, 0))
    expect(atA.frames).toEqual([0, 101, 102])
  })
})
