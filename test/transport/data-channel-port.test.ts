// The mesh channel's FramePort (src/transport/data-channel-port.ts) and the
// simple-peer port over it, on a fake RTCDataChannel that the test opens,
// fills and drains by hand: held frames both ways, backpressure on
// bufferedAmount, close from either side, binary conversion.
import { describe, expect, it } from 'vitest'
import { DataChannelPort, MAX_HELD_INBOUND_BYTES, SEND_HIGH_WATER_BYTES, SEND_LOW_WATER_BYTES } from '../../src/transport/data-channel-port'
import type { FrameChannel } from '../../src/transport/data-channel-port'
import { FramedLink } from '../../src/transport/link'
import type { PeerLike } from '../../src/transport/simple-peer-port'
import { simplePeerPort, withMeshChannel } from '../../src/transport/simple-peer-port'
import { patterned, sameBytes } from './bytes'

type Listener = (ev: { data?: unknown; error?: unknown }) => void

/** An RTCDataChannel as the port sees it: the test says when it opens, what
 *  arrives, how much the network has taken (bufferedAmount) and when it closes. */
class FakeChannel implements FrameChannel {
  readyState: RTCDataChannelState = 'connecting'
  bufferedAmount = 0
  bufferedAmountLowThreshold: number | undefined = 0
  binaryType = 'blob'
  readonly sent: Uint8Array[] = []
  closeCalls = 0
  private readonly listeners = new Map<string, Listener[]>()

  constructor(opts: { paced?: boolean } = {}) {
    if (opts.paced === false) this.bufferedAmountLowThreshold = undefined
  }

  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn])
  }

  /** what send() accepts in one message (Chromium: 256 KiB) */
  maxMessageSize = Infinity

  send(data: Uint8Array): void {
    if (this.readyState !== 'open') throw new Error(`InvalidStateError: send on a ${this.readyState} channel`)
    if (data.length > this.maxMessageSize) throw new TypeError(`message of ${data.length} bytes is too large`)
    this.sent.push(data.slice())
    this.bufferedAmount += data.length
  }

  close(): void {
    this.closeCalls++
    this.readyState = 'closed'
  }

  open(): void {
    this.readyState = 'open'
    this.emit('open')
  }

  /** the network took `bytes`: the buffer shrinks, and crossing the threshold fires the event (as a browser does) */
  take(bytes: number): void {
    const before = this.bufferedAmount
    this.bufferedAmount = Math.max(0, before - bytes)
    const threshold = this.bufferedAmountLowThreshold
    if (threshold !== undefined && before > threshold && this.bufferedAmount <= threshold) this.emit('bufferedamountlow')
  }

  arrive(data: unknown): void {
    this.emit('message', { data })
  }

  /** the other side (or the connection) closed it */
  closedRemotely(error?: Error): void {
    if (error !== undefined) this.emit('error', { error })
    this.readyState = 'closed'
    this.emit('close')
  }

  emit(type: string, ev: { data?: unknown; error?: unknown } = {}): void {
    for (const fn of this.listeners.get(type) ?? []) fn(ev)
  }
}

function recorder() {
  const frames: Uint8Array[] = []
  const closes: string[] = []
  let drains = 0
  return {
    frames,
    closes,
    get drains() {
      return drains
    },
    events: { frame: (f: Uint8Array) => frames.push(f), drain: () => drains++, close: (r: string) => closes.push(r) },
  }
}

const buf = (...bytes: number[]): ArrayBuffer => Uint8Array.from(bytes).buffer

describe('DataChannelPort', () => {
  it('takes binary as ArrayBuffer and paces at the low-water mark', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    expect(ch.binaryType).toBe('arraybuffer')
    expect(ch.bufferedAmountLowThreshold).toBe(SEND_LOW_WATER_BYTES)
    expect(port.paced).toBe(true)
    expect(new DataChannelPort(new FakeChannel({ paced: false })).paced).toBe(false)
  })

  it('holds frames written before the channel opens and sends them, in order, on open', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    const rec = recorder()
    port.attach(rec.events)
    expect(port.write(Uint8Array.of(1))).toBe(true)
    expect(port.write(Uint8Array.of(2, 2))).toBe(true)
    expect(ch.sent).toEqual([])
    ch.open()
    expect(ch.sent).toEqual([Uint8Array.of(1), Uint8Array.of(2, 2)])
    expect(port.write(Uint8Array.of(3))).toBe(true)
    expect(ch.sent.at(-1)).toEqual(Uint8Array.of(3))
  })

  it('asks the link to wait while too much is held before open, and says go on once open and drained', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    const rec = recorder()
    port.attach(rec.events)
    const frame = new Uint8Array(16 * 1024)
    let n = 0
    while (port.write(frame)) n++
    expect((n + 1) * frame.length).toBeGreaterThan(SEND_HIGH_WATER_BYTES)
    ch.open()
    expect(ch.sent.length).toBe(n + 1)
    expect(rec.drains).toBe(0) // the held bytes are now in the channel's buffer
    ch.take(ch.bufferedAmount)
    expect(rec.drains).toBe(1)
  })

  it('says wait once bufferedAmount passes the high-water mark, and go on at bufferedamountlow', () => {
    const ch = new FakeChannel()
    ch.readyState = 'open'
    const port = new DataChannelPort(ch)
    const rec = recorder()
    port.attach(rec.events)
    const frame = new Uint8Array(16 * 1024)
    let written = 0
    while (port.write(frame)) written++
    expect(ch.bufferedAmount).toBeGreaterThan(SEND_HIGH_WATER_BYTES)
    expect(ch.sent.length).toBe(written + 1)
    ch.take(ch.bufferedAmount - SEND_LOW_WATER_BYTES - 1) // still above the low mark
    expect(rec.drains).toBe(0)
    ch.take(1)
    expect(rec.drains).toBe(1)
    // an event while nobody waits is not a drain
    expect(port.write(frame)).toBe(true)
    ch.take(ch.bufferedAmount)
    expect(rec.drains).toBe(1)
  })

  it('holds frames that arrive before attach (the peer may connect first) and hands them over on attach', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    ch.open()
    ch.arrive(buf(1, 2, 3))
    ch.arrive(buf(4))
    const rec = recorder()
    port.attach(rec.events)
    expect(rec.frames).toEqual([Uint8Array.of(1, 2, 3), Uint8Array.of(4)])
    ch.arrive(buf(5))
    expect(rec.frames.at(-1)).toEqual(Uint8Array.of(5))
  })

  it('closes when more than it may hold arrives before attach', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    ch.open()
    ch.arrive(new ArrayBuffer(MAX_HELD_INBOUND_BYTES))
    expect(ch.closeCalls).toBe(0)
    ch.arrive(new ArrayBuffer(1))
    expect(ch.closeCalls).toBe(1)
    const rec = recorder()
    port.attach(rec.events)
    expect(rec.frames).toEqual([])
    expect(rec.closes).toEqual(['inbox overflow before connect'])
  })

  it('makes every message a Uint8Array: ArrayBuffer, a view (its own bytes only), and text as an empty frame', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    const rec = recorder()
    port.attach(rec.events)
    ch.open()
    ch.arrive(buf(7, 8))
    ch.arrive(Uint8Array.of(0, 1, 2, 3).subarray(1, 3))
    ch.arrive(new DataView(buf(9, 9, 9), 1, 1))
    ch.arrive('text is no frame')
    expect(rec.frames).toEqual([Uint8Array.of(7, 8), Uint8Array.of(1, 2), Uint8Array.of(9), new Uint8Array(0)])
    for (const f of rec.frames) expect(f).toBeInstanceOf(Uint8Array)
  })

  it('closes once when the channel closes, with the error that closed it, after what arrived before', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    const rec = recorder()
    port.attach(rec.events)
    ch.open()
    ch.arrive(buf(1))
    ch.closedRemotely(new Error('SCTP failure'))
    ch.emit('close')
    expect(rec.frames).toEqual([Uint8Array.of(1)])
    expect(rec.closes).toEqual(['failed: SCTP failure'])
    expect(port.write(Uint8Array.of(2))).toBe(true) // dropped: the link is closing
    expect(ch.sent).toEqual([])
  })

  it('a close before attach is told on attach, after the frames that came first', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    ch.open()
    ch.arrive(buf(1))
    ch.closedRemotely()
    const rec = recorder()
    port.attach(rec.events)
    expect(rec.frames).toEqual([Uint8Array.of(1)])
    expect(rec.closes).toEqual(['closed by peer'])
  })

  it('a held frame the channel refuses on open closes the port (nothing throws out of the open event)', () => {
    const ch = new FakeChannel()
    ch.maxMessageSize = 4
    const port = new DataChannelPort(ch)
    const rec = recorder()
    port.attach(rec.events)
    port.write(Uint8Array.of(1))
    port.write(new Uint8Array(5))
    port.write(Uint8Array.of(3))
    expect(() => ch.open()).not.toThrow()
    expect(ch.sent).toEqual([Uint8Array.of(1)])
    expect(rec.closes).toEqual(['send failed: message of 5 bytes is too large'])
    expect(ch.closeCalls).toBe(1)
  })

  it('close() closes the channel, drops what is held and reports nothing back', () => {
    const ch = new FakeChannel()
    const port = new DataChannelPort(ch)
    const rec = recorder()
    port.attach(rec.events)
    port.write(Uint8Array.of(1))
    port.close()
    port.close()
    expect(ch.closeCalls).toBe(1)
    ch.emit('open')
    ch.arrive(buf(2))
    ch.emit('close')
    expect(ch.sent).toEqual([])
    expect(rec.frames).toEqual([])
    expect(rec.closes).toEqual([])
  })
})

/** a simple-peer stand-in: a stream that records writes, events the test fires */
class FakePeer implements PeerLike {
  declare readonly meshChannel?: DataChannelPort
  readonly writes: Uint8Array[] = []
  destroyed = 0
  writeReturns = true
  private readonly listeners = new Map<string, ((...args: never[]) => void)[]>()

  constructor(readonly _pc?: { createDataChannel(label: string, init: RTCDataChannelInit): FrameChannel }) {}

  signal(): void {}
  write(chunk: Uint8Array): boolean {
    this.writes.push(chunk)
    return this.writeReturns
  }
  destroy(): void {
    this.destroyed++
  }
  on(event: string, fn: (...args: never[]) => void): unknown {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn])
    return this
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (...a: unknown[]) => void)(...args)
  }
}

function peerWithChannel(opts: { paced?: boolean } = {}) {
  const ch = new FakeChannel(opts)
  const made: Array<{ label: string; init: RTCDataChannelInit }> = []
  const peer = withMeshChannel(
    new FakePeer({
      createDataChannel: (label, init) => {
        made.push({ label, init })
        return ch
      },
    }),
  )
  return { ch, peer, made }
}

/** A peer whose mesh channel is open, and its port attached to a recorder. */
function attachedPort(opts: { paced?: boolean } = {}) {
  const { ch, peer } = peerWithChannel(opts)
  ch.open()
  const port = simplePeerPort(peer)
  const rec = recorder()
  port.attach(rec.events)
  return { ch, peer, port, rec }
}

describe('simplePeerPort over the mesh channel', () => {
  it('opens the mesh channel (negotiated, id 2, ordered) on the peer connection; no connection, no channel', () => {
    const { peer, made } = peerWithChannel()
    expect(made).toEqual([{ label: 'meshkeeper', init: { negotiated: true, id: 2, ordered: true } }])
    expect(peer.meshChannel).toBeInstanceOf(DataChannelPort)
    expect(withMeshChannel(new FakePeer()).meshChannel).toBeUndefined()
    const throwing = new FakePeer({
      createDataChannel: () => {
        throw new Error('no SCTP')
      },
    })
    expect(withMeshChannel(throwing).meshChannel).toBeUndefined()
  })

  it('sends on the channel where it paces, never on the stream, and reads both', () => {
    const { ch, peer, port, rec } = attachedPort()
    port.write(Uint8Array.of(1))
    expect(ch.sent).toEqual([Uint8Array.of(1)])
    expect(peer.writes).toEqual([])
    ch.arrive(buf(2))
    peer.emit('data', Uint8Array.of(3))
    expect(rec.frames).toEqual([Uint8Array.of(2), Uint8Array.of(3)])
  })

  it('sends on the stream where the channel cannot pace (wrtc), and still reads the channel', () => {
    const { ch, peer, port, rec } = attachedPort({ paced: false })
    peer.writeReturns = false
    expect(port.write(Uint8Array.of(1))).toBe(false)
    expect(peer.writes).toEqual([Uint8Array.of(1)])
    expect(ch.sent).toEqual([])
    peer.emit('drain')
    expect(rec.drains).toBe(1)
    ch.arrive(buf(2))
    expect(rec.frames).toEqual([Uint8Array.of(2)])
  })

  it('closes once when the mesh channel closes, and takes the connection down with it', () => {
    const { ch, peer, port, rec } = attachedPort()
    ch.closedRemotely()
    peer.emit('close')
    expect(rec.closes).toEqual(['closed by peer'])
    expect(peer.destroyed).toBe(1)
  })

  it('closes once when simple-peer closes (its channel or the connection), and closes the mesh channel', () => {
    const { ch, peer, port, rec } = attachedPort()
    peer.emit('error', new Error('Connection failed.'))
    peer.emit('close')
    ch.closedRemotely()
    expect(rec.closes).toEqual(['failed: Connection failed.'])
    expect(ch.closeCalls).toBe(1)
    peer.emit('data', Uint8Array.of(1))
    expect(rec.frames).toEqual([])
  })

  it('close() closes both and reports nothing back', () => {
    const { ch, peer, port, rec } = attachedPort()
    port.close()
    port.close()
    peer.emit('close')
    expect(ch.closeCalls).toBe(1)
    expect(peer.destroyed).toBe(1)
    expect(rec.closes).toEqual([])
  })

  it('carries a FramedLink: large messages whole and in order through held frames and backpressure', () => {
    const a = peerWithChannel()
    const b = peerWithChannel()
    const got: Uint8Array[] = []
    const linkA = new FramedLink('b', simplePeerPort(a.peer))
    const linkB = new FramedLink('a', simplePeerPort(b.peer))
    linkB.onMessage((m) => got.push(m))
    const sizes = [3, 1024 * 1024, 0, 70_000]
    sizes.forEach((n, i) => linkA.send(patterned(n, i)))
    // the network: move what a's channel sent into b's, a slice at a time
    a.ch.open()
    b.ch.open()
    let delivered = 0
    for (let round = 0; round < 10_000 && got.length < sizes.length; round++) {
      const next = a.ch.sent.slice(delivered)
      delivered = a.ch.sent.length
      for (const f of next) {
        b.ch.arrive(f.slice().buffer)
        a.ch.take(f.length)
      }
    }
    expect(got.map((m) => m.length)).toEqual(sizes)
    got.forEach((m, i) => expect(sameBytes(m, patterned(sizes[i]!, i))).toBe(true))
    expect(a.peer.writes).toEqual([])
  })
})
