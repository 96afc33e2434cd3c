// Who founds when the first tabs of several browsers open together
// (src/browser/founding.ts): a peer's claim of a cluster means join it; with
// none, the listening peer of the lowest id founds and everyone else joins.
import { describe, expect, it } from 'vitest'
import { listenBeforeFounding, shouldFound } from '../../src/browser/founding'
import { VirtualClock } from '../../src/testing/virtual-time'
import type { Link, PeerHello, Transport } from '../../src/transport/types'
import { encodeNodeMessage } from '../../src/wire/node-messages'

describe('shouldFound', () => {
  it('no peer at all: found', () => {
    expect(shouldFound({ self: 'm', clusterSeen: false, linked: [], claimed: new Set() })).toBe(true)
  })

  it('a peer claimed a cluster: join it', () => {
    expect(shouldFound({ self: 'a', clusterSeen: true, linked: ['b'], claimed: new Set(['b']) })).toBe(false)
  })

  it('listening peers (no claim): only the lowest id founds', () => {
    expect(shouldFound({ self: 'a', clusterSeen: false, linked: ['b', 'c'], claimed: new Set() })).toBe(true)
    expect(shouldFound({ self: 'b', clusterSeen: false, linked: ['a', 'c'], claimed: new Set() })).toBe(false)
    expect(shouldFound({ self: 'c', clusterSeen: false, linked: ['a', 'b'], claimed: new Set() })).toBe(false)
  })

  it('running members without a cluster never found, so they do not hold back the lowest listener', () => {
    expect(shouldFound({ self: 'b', clusterSeen: false, linked: ['a', 'c'], claimed: new Set(['a']) })).toBe(true)
  })
})

class FakeLink implements Link {
  open = true
  private readonly fns = new Set<(bytes: Uint8Array) => void>()
  constructor(readonly peer: string) {}
  send(): void {}
  onMessage(fn: (bytes: Uint8Array) => void): () => void {
    this.fns.add(fn)
    return () => this.fns.delete(fn)
  }
  onClose(): () => void {
    return () => undefined
  }
  close(): void {}
  deliver(bytes: Uint8Array): void {
    for (const fn of [...this.fns]) fn(bytes)
  }
}

class FakeTransport implements Transport {
  readonly self: PeerHello = { member: 'self', tab: 't', browser: 'b' }
  private readonly linkMap = new Map<string, FakeLink>()
  private readonly fns = new Set<(link: Link, hello: PeerHello) => void>()
  onLink(fn: (link: Link, hello: PeerHello) => void): () => void {
    this.fns.add(fn)
    return () => this.fns.delete(fn)
  }
  links(): Map<string, Link> {
    return new Map(this.linkMap)
  }
  async close(): Promise<void> {}
  link(peer: string): FakeLink {
    const l = new FakeLink(peer)
    this.linkMap.set(peer, l)
    for (const fn of [...this.fns]) fn(l, { member: peer, tab: 't', browser: 'x' })
    return l
  }
}

const claim = (clusterId: string): Uint8Array => encodeNodeMessage({ type: 'cluster', clusterId, browser: 'x', commit: 0, yieldTo: '' })

async function run(clock: VirtualClock, p: Promise<boolean>): Promise<boolean> {
  let out: boolean | null = null
  void p.then((v) => (out = v))
  for (let i = 0; i < 100 && out === null; i++) {
    clock.runNext()
    await Promise.resolve()
  }
  return p
}

describe('listenBeforeFounding', () => {
  it('two first tabs linked to each other: the lower id founds, the other does not (both used to wait forever)', async () => {
    for (const [self, peer, founds] of [['ka', 'kb', true], ['kb', 'ka', false]] as const) {
      const clock = new VirtualClock()
      const t = new FakeTransport()
      const p = listenBeforeFounding(t, self, 2_000, clock)
      clock.setTimeout(() => t.link(peer), 100)
      expect(await run(clock, p)).toBe(founds)
    }
  })

  it('a claim naming a cluster: join at once', async () => {
    const clock = new VirtualClock()
    const t = new FakeTransport()
    const p = listenBeforeFounding(t, 'ka', 2_000, clock)
    clock.setTimeout(() => t.link('kz').deliver(claim('c1')), 100)
    expect(await run(clock, p)).toBe(false)
    expect(clock.now()).toBeLessThan(2_000)
  })

  it('a lower-id peer that runs without a cluster does not hold us back', async () => {
    const clock = new VirtualClock()
    const t = new FakeTransport()
    const p = listenBeforeFounding(t, 'kb', 2_000, clock)
    clock.setTimeout(() => t.link('ka').deliver(claim('')), 100)
    expect(await run(clock, p)).toBe(true)
  })

  it('no link: found after listening', async () => {
    const clock = new VirtualClock()
    expect(await run(clock, listenBeforeFounding(new FakeTransport(), 'kz', 2_000, clock))).toBe(true)
  })
})
