// Tab pipes (src/transport/tab-pipe.ts): tabs of one browser link through a
// BroadcastChannel instead of WebRTC. Node has BroadcastChannel (one process
// stands for one browser); Web Locks are the fake browser's
// (test/browser/fake-browser.ts), whose tabs can die. The WebRTC peer each
// attempt also makes is a stand-in that connects only when told to.
import { afterEach, describe, expect, it } from 'vitest'
import { FakeBrowserLocks, settle } from './fake-browser'
import type { FakeTab } from './fake-browser'
import type { FramePort } from '../../src/transport/link'
import { parseSignal } from '../../src/transport/signal-parse'
import type { PeerFactory, PeerLike } from '../../src/transport/simple-peer-port'
import { simplePeerPort } from '../../src/transport/simple-peer-port'
import { PIPE_HEAD_START_MS, withTabPipes } from '../../src/browser/piped-peer'
import { PIPE_LOST_FRAMES } from '../../src/browser/tab-pipe'
import { CLOSED_BY_PEER } from '../../src/transport/types'
import { FakePeerNet } from '../transport/fake-peers'
import { id, MeshRig } from '../transport/mesh-rig'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { nextLink } from '../transport/links'

type Handler = (...args: never[]) => void

/** a WebRTC peer that never connects unless `connectNow()` */
class StandInPeer implements PeerLike {
  destroyed = false
  readonly signals: unknown[] = []
  private readonly handlers = new Map<string, Handler[]>()
  on(event: string, fn: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn])
    return this
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) (fn as (...a: unknown[]) => void)(...args)
  }
  signal(data: unknown): void {
    this.signals.push(data)
  }
  write(): boolean {
    return true
  }
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    queueMicrotask(() => this.emit('close'))
  }
  connectNow(): void {
    this.emit('connect')
  }
}

interface End {
  peer: PeerLike
  inner: StandInPeer
  events: string[]
  signals: unknown[]
  /** what happened, in order: 'webrtc' when the factory made the WebRTC peer, 'signal:<type>' for each signal out */
  order: string[]
}

/** a WebRTC offer as simple-peer signals it (the stand-in takes anything) */
const OFFER = { type: 'offer', sdp: 'v=0' }

function makeEnd(tab: FakeTab, initiator: boolean, sameBrowser = false): End {
  const inner = new StandInPeer()
  const order: string[] = []
  const factory: PeerFactory = () => {
    order.push('webrtc')
    return inner
  }
  const peer = withTabPipes(factory, tab.locks)({ initiator, ...(sameBrowser ? { sameBrowser } : {}) })
  const end: End = { peer, inner, events: [], signals: [], order }
  peer.on('connect', () => end.events.push('connect'))
  peer.on('close', () => end.events.push('close'))
  peer.on('signal', (data: unknown) => {
    end.signals.push(data)
    order.push(`signal:${String((data as { type?: unknown }).type)}`)
  })
  return end
}

/** hand every signal each side made so far to the other */
function exchange(a: End, b: End): void {
  for (const s of a.signals.splice(0)) b.peer.signal(s)
  for (const s of b.signals.splice(0)) a.peer.signal(s)
}

function recorder(port: FramePort) {
  const got: { frames: number[][]; closed: string[] } = { frames: [], closed: [] }
  port.attach({ frame: (f) => got.frames.push([...f]), drain: () => undefined, close: (r) => got.closed.push(r) })
  return got
}

/** turns of the event loop: BroadcastChannel messages arrive on later tasks */
async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setTimeout(r, 0))
  await settle()
}

async function pipedPair(browser = new FakeBrowserLocks()) {
  const ta = browser.tab()
  const tb = browser.tab()
  const a = makeEnd(ta, true)
  const b = makeEnd(tb, false)
  await settle()
  exchange(a, b)
  await turns()
  exchange(a, b)
  await turns()
  return { browser, ta, tb, a, b }
}

const opened: PeerLike[] = []
afterEach(() => {
  for (const p of opened.splice(0)) p.destroy()
})

describe('tab pipe: two tabs of one browser', () => {
  it('connects both ends through the pipe, drops the WebRTC peers, and carries frames both ways in order (held until attached)', async () => {
    const { a, b } = await pipedPair()
    opened.push(a.peer, b.peer)
    expect(a.events).toEqual(['connect'])
    expect(b.events).toEqual(['connect'])
    // the initiator's pipe name went out before it made its WebRTC peer (the
    // first RTCPeerConnection of a page costs tens of ms: the other tab opens
    // its end meanwhile), which it dropped for the pipe; the answerer, whose
    // WebRTC peer only an offer would need, never made one
    expect(a.order).toEqual(['signal:pipe', 'webrtc'])
    expect(a.inner.destroyed).toBe(true)
    expect(b.order).toEqual([])
    // an offer that comes after the pipe won is not needed: no WebRTC peer for it
    b.peer.signal(OFFER)
    expect(b.order).toEqual([])
    expect(b.inner.signals).toEqual([])
    const pa = simplePeerPort(a.peer)
    const pb = simplePeerPort(b.peer)
    // written before the other end attached: held for it
    pa.write(new Uint8Array([1]))
    pa.write(new Uint8Array([2, 3]))
    await turns()
    const gotB = recorder(pb)
    const gotA = recorder(pa)
    pb.write(new Uint8Array([9]))
    pa.write(new Uint8Array([4]))
    await turns()
    expect(gotB.frames).toEqual([[1], [2, 3], [4]])
    expect(gotA.frames).toEqual([[9]])
    // a close at one end reaches the other as the peer's close; the closer hears nothing
    pa.close()
    await turns()
    expect(gotB.closed).toEqual([CLOSED_BY_PEER])
    expect(gotA.closed).toEqual([])
    expect(b.events).toEqual(['connect', 'close'])
  })

  it('a page about to be frozen (Chromium drops what a frozen page is sent) has the other end hold its frames until it resumes', async () => {
    const { a, b } = await pipedPair()
    opened.push(a.peer, b.peer)
    const pa = simplePeerPort(a.peer)
    const gotB = recorder(simplePeerPort(b.peer))
    recorder(pa)
    // b's page fires 'freeze' (Page Lifecycle): it says so on the pipe
    const name = (pa as unknown as { name: string }).name
    const channel = new BroadcastChannel(name)
    channel.postMessage({ from: 'a', t: 'pause' })
    await turns()
    pa.write(new Uint8Array([1]))
    pa.write(new Uint8Array([2]))
    await turns()
    expect(gotB.frames).toEqual([])
    channel.postMessage({ from: 'a', t: 'resume' })
    await turns()
    pa.write(new Uint8Array([3]))
    await turns()
    expect(gotB.frames).toEqual([[1], [2], [3]])
    channel.close()
  })

  it('a gap in the frame numbers (frames lost) closes both ends as lost frames, not as the peer\'s close', async () => {
    const { a, b } = await pipedPair()
    opened.push(a.peer, b.peer)
    const pa = simplePeerPort(a.peer)
    const gotA = recorder(pa)
    const gotB = recorder(simplePeerPort(b.peer))
    pa.write(new Uint8Array([1]))
    await turns()
    // a frame numbered past the next one: what b sees after frames were dropped
    const channel = new BroadcastChannel((pa as unknown as { name: string }).name)
    channel.postMessage({ from: 'i', t: 'f', f: new Uint8Array([9]), n: 5 })
    await turns()
    channel.close()
    expect(gotB.frames).toEqual([[1]])
    expect(gotB.closed).toEqual([PIPE_LOST_FRAMES])
    expect(gotA.closed).toEqual([PIPE_LOST_FRAMES])
  })

  it("closes when the other tab dies without a word (its Web Lock frees)", async () => {
    const { ta, a, b } = await pipedPair()
    opened.push(b.peer)
    const gotB = recorder(simplePeerPort(b.peer))
    ta.die()
    // the freed lock waits a moment (CLOSE_WORD_MS) for a closing word that a dead tab never sends
    await new Promise((r) => setTimeout(r, 80))
    await turns()
    expect(gotB.closed).toEqual([CLOSED_BY_PEER])
    expect(a.events).toEqual(['connect'])
  })

  it('leaves the link to WebRTC when the pipe reaches nobody (another browser), and closes the pipe then', async () => {
    const browser = new FakeBrowserLocks()
    const a = makeEnd(browser.tab(), true)
    opened.push(a.peer)
    await settle()
    // the pipe's name went out, but no tab of this browser answers it
    expect(a.signals).toEqual([{ type: 'pipe', pipe: expect.stringMatching(/^meshkeeper-pipe:[0-9a-f]{24}$/) }])
    a.inner.connectNow()
    expect(a.events).toEqual(['connect'])
    expect(a.inner.destroyed).toBe(false)
    // its FramePort is the WebRTC peer's
    const port = simplePeerPort(a.peer)
    expect(port).not.toHaveProperty('name')
    // and the pipe's own lock is let go
    await turns()
    expect(browser.held().filter((n) => n.startsWith('meshkeeper-pipe:'))).toEqual([])
  })

  it('to a tab of this browser (a same-browser channel announced it) the pipe goes alone: no WebRTC peer is made while it connects', async () => {
    const browser = new FakeBrowserLocks()
    const a = makeEnd(browser.tab(), true, true)
    const b = makeEnd(browser.tab(), false, true)
    opened.push(a.peer, b.peer)
    await settle()
    exchange(a, b)
    await turns()
    exchange(a, b)
    await turns()
    expect(a.events).toEqual(['connect'])
    expect(b.events).toEqual(['connect'])
    // neither end ever made a WebRTC peer (a page's first costs its main thread tens of ms)
    expect(a.order).toEqual(['signal:pipe'])
    expect(b.order).toEqual([])
    // nor does one come after the head start
    await new Promise((r) => setTimeout(r, PIPE_HEAD_START_MS + 20))
    expect(a.order).toEqual(['signal:pipe'])
  })

  it('to a tab of this browser whose pipe never answers (a tab without pipes), WebRTC is tried after the head start', async () => {
    const browser = new FakeBrowserLocks()
    const a = makeEnd(browser.tab(), true, true)
    opened.push(a.peer)
    await turns()
    expect(a.order).toEqual(['signal:pipe'])
    await new Promise((r) => setTimeout(r, PIPE_HEAD_START_MS + 20))
    expect(a.order).toEqual(['signal:pipe', 'webrtc'])
    a.inner.connectNow()
    expect(a.events).toEqual(['connect'])
    expect(simplePeerPort(a.peer)).not.toHaveProperty('name')
  })

  it('a peer destroyed during the head start makes no WebRTC peer', async () => {
    const a = makeEnd(new FakeBrowserLocks().tab(), true, true)
    await turns()
    a.peer.destroy()
    await new Promise((r) => setTimeout(r, PIPE_HEAD_START_MS + 20))
    expect(a.order).toEqual(['signal:pipe'])
  })

  it("the initiator decides: an answerer whose WebRTC connects first still takes the pipe the initiator took", async () => {
    const browser = new FakeBrowserLocks()
    const a = makeEnd(browser.tab(), true)
    const b = makeEnd(browser.tab(), false)
    opened.push(a.peer, b.peer)
    await settle()
    exchange(a, b) // b opens the pipe and says 'ready'
    b.peer.signal(OFFER) // a's offer makes b's WebRTC peer
    expect(b.order).toEqual(['webrtc'])
    b.inner.connectNow() // b's WebRTC connects before the initiator's 'ack' arrives
    expect(b.events).toEqual([])
    await turns()
    exchange(a, b)
    await turns()
    expect(a.events).toEqual(['connect'])
    expect(b.events).toEqual(['connect'])
    expect(simplePeerPort(a.peer)).toHaveProperty('name')
    expect(simplePeerPort(b.peer)).toHaveProperty('name')
    expect(b.inner.destroyed).toBe(true)
  })

  it("the initiator decides: when its WebRTC connects first, the answerer (pipe open, its own WebRTC connected) follows it to WebRTC", async () => {
    const browser = new FakeBrowserLocks()
    const a = makeEnd(browser.tab(), true)
    const b = makeEnd(browser.tab(), false)
    opened.push(a.peer, b.peer)
    await settle()
    // b hears of the pipe and a's offer, but a's WebRTC connects before b's 'ready' is read
    for (const sig of a.signals.splice(0)) b.peer.signal(sig)
    b.peer.signal(OFFER)
    b.inner.connectNow()
    a.inner.connectNow()
    expect(a.events).toEqual(['connect'])
    expect(a.signals).toContainEqual({ type: 'pipe', off: true })
    expect(b.events).toEqual([])
    // the initiator's word reaches b (its signal; in one browser its close of the pipe too)
    exchange(a, b)
    await turns()
    expect(b.events).toEqual(['connect'])
    expect(simplePeerPort(a.peer)).not.toHaveProperty('name')
    expect(simplePeerPort(b.peer)).not.toHaveProperty('name')
    expect(a.inner.destroyed || b.inner.destroyed).toBe(false)
    expect(parseSignal({ a: 'x1', k: 'sdp', s: { type: 'pipe', off: true } })).not.toBeNull()
  })

  it('ignores a pipe signal with a malformed name, and the transport refuses to pass one on', async () => {
    const browser = new FakeBrowserLocks()
    const b = makeEnd(browser.tab(), false)
    opened.push(b.peer)
    b.peer.signal({ type: 'pipe', pipe: 'meshkeeper-pipe:../../etc' })
    await turns()
    expect(browser.held()).toEqual([])
    expect(b.events).toEqual([])
    expect(parseSignal({ a: 'x1', k: 'sdp', s: { type: 'pipe', pipe: 'meshkeeper-pipe:0123456789abcdef01234567' } })).not.toBeNull()
    expect(parseSignal({ a: 'x1', k: 'sdp', s: { type: 'pipe', pipe: 'elsewhere' } })).toBeNull()
    expect(parseSignal({ a: 'x1', k: 'sdp', s: { type: 'pipe', pipe: 42 } })).toBeNull()
  })
})

describe('tab pipe: under a MeshTransport', () => {
  it('a member without pipes (a Node member) never gets a pipe signal, and links over WebRTC with one that has them', async () => {
    const net = new FakePeerNet()
    const browser = new FakeBrowserLocks()
    const rig = new MeshRig(new MemorySignalingHub(), net)
    const heard: unknown[] = []
    // b: plain WebRTC peers that record what they are signalled
    const plain: PeerFactory = (opts) => {
      const peer = net.factory(opts)
      const signal = peer.signal.bind(peer)
      peer.signal = (data: unknown) => {
        heard.push(data)
        signal(data)
      }
      return peer
    }
    const a = rig.start('a', { peerFactory: withTabPipes((opts) => net.factory(opts), browser.tab().locks) })
    const b = rig.start('b', { peerFactory: plain })
    try {
      await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
      expect(heard.filter((d) => (d as { type?: unknown }).type === 'pipe')).toEqual([])
      expect(net.written.length).toBeGreaterThan(0)
    } finally {
      await rig.closeAll()
    }
  })

  it('two transports of one browser link over the pipe: the hello is verified and messages flow; no byte goes over WebRTC', async () => {
    const net = new FakePeerNet()
    const browser = new FakeBrowserLocks()
    const rig = new MeshRig(new MemorySignalingHub(), net)
    // stand-in WebRTC peers that never connect: only the pipe can link them
    const never: PeerFactory = () => new StandInPeer()
    const a = rig.start('a', { peerFactory: withTabPipes(never, browser.tab().locks) })
    const b = rig.start('b', { peerFactory: withTabPipes(never, browser.tab().locks) })
    try {
      const [{ link: ab, hello }, { link: ba }] = await Promise.all([nextLink(a.t, id('b')), nextLink(b.t, id('a'))])
      expect(hello.member).toBe(id('b'))
      const got: number[][] = []
      ba.onMessage((m) => got.push([...m]))
      ab.send(new Uint8Array([7, 7]))
      ab.send(new Uint8Array(40_000).fill(1)) // more than one frame
      await expect.poll(() => got.length).toBe(2)
      expect(got[0]).toEqual([7, 7])
      expect(got[1]!.length).toBe(40_000)
      expect(net.written).toEqual([])
    } finally {
      await rig.closeAll()
    }
  })

  it('an attempt tells its peer factory whether a same-browser channel announced the peer', async () => {
    const hub = new MemorySignalingHub()
    const rig = new MeshRig(hub, new FakePeerNet())
    const asked: boolean[] = []
    const recording: PeerFactory = (opts) => {
      asked.push(opts.sameBrowser === true)
      return new StandInPeer()
    }
    // a channel that says it reaches only pages of this browser (as BroadcastChannelSignaling does)
    const local = () => Object.assign(hub.channel(), { sameBrowser: true as const })
    rig.start('a', { peerFactory: recording, signaling: [local()] })
    rig.start('b', { peerFactory: recording, signaling: [local()] })
    try {
      await expect.poll(() => asked.length).toBeGreaterThan(0)
      expect(asked.every((x) => x)).toBe(true)
    } finally {
      await rig.closeAll()
    }
    // through a server's channel alone: not known to be this browser
    const rig2 = new MeshRig(new MemorySignalingHub(), new FakePeerNet())
    const asked2: boolean[] = []
    const recording2: PeerFactory = (opts) => {
      asked2.push(opts.sameBrowser === true)
      return new StandInPeer()
    }
    rig2.start('a', { peerFactory: recording2 })
    rig2.start('b', { peerFactory: recording2 })
    try {
      await expect.poll(() => asked2.length).toBeGreaterThan(0)
      expect(asked2.every((x) => !x)).toBe(true)
    } finally {
      await rig2.closeAll()
    }
  })
})
