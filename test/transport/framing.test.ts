import { describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import { controlFrame, dataFrames, frameCount, FRAME_DATA, MAX_HEADER_BYTES, Reassembler } from '../../src/transport/framing'
import { WireError } from '../../src/wire/errors'
import { patterned, sameBytes } from './bytes'

const bytes = patterned

/** a DATA frame with any header, valid or not */
function rawData(seq: number, index: number, count: number, payload: Uint8Array, total?: number): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, FRAME_DATA)
  encoding.writeVarUint(enc, seq)
  encoding.writeVarUint(enc, index)
  encoding.writeVarUint(enc, count)
  if (total !== undefined) encoding.writeVarUint(enc, total)
  encoding.writeUint8Array(enc, payload)
  return encoding.toUint8Array(enc)
}

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof WireError) return err.code
    throw err
  }
  return 'no error'
}

describe('framing: a message is cut into frames and put back together', () => {
  it('round-trips messages of every size around the frame boundary, in order', () => {
    const frameBytes = 256
    const payload = frameBytes - MAX_HEADER_BYTES
    const sizes = [0, 1, payload - 1, payload, payload + 1, 3 * payload, 3 * payload + 7, 10_000]
    const r = new Reassembler({ frameBytes })
    sizes.forEach((size, seq) => {
      const message = bytes(size, seq)
      const frames = [...dataFrames(seq, message, frameBytes)]
      expect(frames.length).toBe(frameCount(size, frameBytes))
      for (const f of frames) expect(f.length).toBeLessThanOrEqual(frameBytes)
      const outs = frames.map((f) => r.push(f))
      expect(outs.slice(0, -1).every((o) => o.kind === 'partial')).toBe(true)
      const last = outs[outs.length - 1]
      expect(last).toEqual({ kind: 'data', message })
    })
  })

  it('delivers a 3 MiB message whole after its last 16 KiB frame', () => {
    const message = bytes(3 * 1024 * 1024)
    const r = new Reassembler()
    let got: Uint8Array | null = null
    let frames = 0
    for (const f of dataFrames(0, message)) {
      frames++
      expect(f.length).toBeLessThanOrEqual(16 * 1024)
      const out = r.push(f)
      if (out.kind === 'data') got = out.message
    }
    expect(frames).toBe(frameCount(message.length))
    expect(sameBytes(got, message)).toBe(true)
    expect(r.pendingBytes).toBe(0)
  })

  it('lets control frames pass between the chunks of a message', () => {
    const r = new Reassembler({ frameBytes: 256 })
    const [a, b] = [...dataFrames(0, bytes(300), 256)]
    expect(r.push(a!).kind).toBe('partial')
    expect(r.push(controlFrame(bytes(5)))).toEqual({ kind: 'control', message: bytes(5) })
    expect(r.push(b!)).toEqual({ kind: 'data', message: bytes(300) })
  })
})

describe('framing: a peer that breaks the rules is refused', () => {
  it('refuses a message announced above the bound before allocating it', () => {
    const r = new Reassembler({ maxMessageBytes: 1000 })
    expect(codeOf(() => r.push(rawData(0, 0, 1, bytes(10), 1001)))).toBe('TOO_LARGE')
  })

  it('refuses a message longer or shorter than announced', () => {
    expect(codeOf(() => new Reassembler().push(rawData(0, 0, 1, bytes(11), 10)))).toBe('BAD_MESSAGE')
    expect(codeOf(() => new Reassembler().push(rawData(0, 0, 1, bytes(9), 10)))).toBe('BAD_MESSAGE')
    const r = new Reassembler()
    r.push(rawData(0, 0, 2, bytes(5), 20))
    expect(codeOf(() => r.push(rawData(0, 1, 2, bytes(5))))).toBe('BAD_MESSAGE')
  })

  it('refuses a skipped, repeated or foreign chunk', () => {
    const start = () => {
      const r = new Reassembler()
      r.push(rawData(0, 0, 3, bytes(5), 15))
      return r
    }
    expect(codeOf(() => start().push(rawData(0, 2, 3, bytes(5))))).toBe('BAD_MESSAGE') // skipped 1
    expect(codeOf(() => start().push(rawData(0, 0, 3, bytes(5), 15)))).toBe('BAD_MESSAGE') // restarted
    expect(codeOf(() => start().push(rawData(1, 1, 3, bytes(5))))).toBe('BAD_MESSAGE') // other message
    expect(codeOf(() => start().push(rawData(0, 1, 4, bytes(5))))).toBe('BAD_MESSAGE') // count changed
    expect(codeOf(() => new Reassembler().push(rawData(0, 1, 3, bytes(5))))).toBe('BAD_MESSAGE') // no start
  })

  it('refuses messages out of sequence (lost or replayed)', () => {
    const r = new Reassembler()
    expect(r.push(rawData(0, 0, 1, bytes(3), 3)).kind).toBe('data')
    expect(codeOf(() => r.push(rawData(0, 0, 1, bytes(3), 3)))).toBe('BAD_MESSAGE')
    expect(codeOf(() => new Reassembler().push(rawData(5, 0, 1, bytes(3), 3)))).toBe('BAD_MESSAGE')
  })

  it('refuses more chunks than bytes, a zero count, an index past the count, empty chunks', () => {
    expect(codeOf(() => new Reassembler().push(rawData(0, 0, 4, bytes(1), 3)))).toBe('BAD_MESSAGE')
    expect(codeOf(() => new Reassembler().push(rawData(0, 0, 0, bytes(1), 1)))).toBe('BAD_MESSAGE')
    const r = new Reassembler()
    r.push(rawData(0, 0, 2, bytes(1), 2))
    expect(codeOf(() => r.push(rawData(0, 1, 2, new Uint8Array(0))))).toBe('BAD_MESSAGE')
    expect(codeOf(() => new Reassembler().push(rawData(0, 3, 2, bytes(1))))).toBe('BAD_MESSAGE')
  })

  it('refuses an unknown tag, a truncated header, an oversized frame', () => {
    expect(codeOf(() => new Reassembler().push(Uint8Array.of(7, 0)))).toBe('BAD_MESSAGE')
    expect(codeOf(() => new Reassembler().push(Uint8Array.of(FRAME_DATA, 0x80)))).toBe('BAD_MESSAGE')
    expect(codeOf(() => new Reassembler().push(new Uint8Array(0)))).toBe('BAD_MESSAGE')
    expect(codeOf(() => new Reassembler().push(new Uint8Array(300 * 1024)))).toBe('TOO_LARGE')
  })

  it('never throws anything but a WireError on random frames', () => {
    let seed = 7
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff)
    for (let i = 0; i < 2000; i++) {
      const r = new Reassembler({ maxMessageBytes: 4096 })
      for (let j = 0; j < 4; j++) {
        const frame = Uint8Array.from({ length: rand() % 40 }, () => rand() & 0xff)
        if (frame.length > 0) frame[0] = rand() % 2
        try {
          r.push(frame)
        } catch (err) {
          expect(err).toBeInstanceOf(WireError)
          break
        }
      }
    }
  })
})
