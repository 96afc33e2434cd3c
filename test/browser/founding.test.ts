// Who founds when the first tabs of several browsers open together
// (src/browser/founding.ts): a peer's claim of a cluster means join it; with
// none, the listening peer of the lowest id founds and everyone else joins.
import { describe, expect, it } from 'vitest'
import { DEFER_LIMIT_MS, listenBeforeFounding, shouldFound } from '../../src/browser/founding'
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
  private readonly closeFns = new Set<(reason: string) => void>()
  constructor(readonly peer: string) {}
  send(): void {}
  onMessage(fn: (bytes: Uint8Array) => void): () => void {
    this.fns.add(fn)
    return () => this.fns.delete(fn)
  }
  onClose(fn: (reason: string) => void): () => void {
    this.closeFns.add(fn)
    return () => this.closeFns.delete(fn)
  }
  close(reason = 'closed by peer'): void {
    if (!this.open) return
    this.open = false
    for (const fn of [...this.closeFns]) fn(reason)
  }
  deliver(bytes: Uint8Array): void {
    for (const fn of [...this.fns]) fn(bytes)
  }
}

class FakeTransport implements Transport {
  readonly self: PeerHello = { member: 'self', tab: 't', browser: 'b' }
  private readonly linkMap = new Map<string, FakeLink>()
  private readonly fns = new Set<(link: Link, hello: PeerHello) => void>()
  private readonly presenceFns = new Set<(member: string, present: boolean) => void>()
  onLink(fn: (link: Link, hello: PeerHello) => void): () => void {
    this.fns.add(fn)
    return () => this.fns.delete(fn)
  }
  links(): Map<string, Link> {
    return new Map(this.linkMap)
  }
  async close(): Promise<void> {}
  onPresence(fn: (member: string, present: boolean) => void): () => void {
    this.presenceFns.add(fn)
    return () => this.presenceFns.delete(fn)
  }
  link(peer: string): FakeLink {
    const l = new FakeLink(peer)
    this.linkMap.set(peer, l)
    for (const fn of [...this.fns]) fn(l, { member: peer, tab: 't', browser: 'x' })
    return l
  }
  /** the peer's link closes (its tab crashed or closed, or the path broke) */
  unlink(peer: string): void {
    const l = this.linkMap.get(peer)
    this.linkMap.delete(peer)
    l?.close()
  }
  /** the signaling says `member` left every channel (false) or is back (true) */
  presence(member: string, present: boolean): void {
    for (const fn of [...this.presenceFns]) fn(member, present)
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
  if (out === null) throw new Error(`still listening at ${clock.now()} ms with nothing left to run`)
  return p
}

/** Run the clock's events up to `until` (virtual ms); what `p` resolved to by then, or null while it waits. */
async function runUntil(clock: VirtualClock, p: Promise<boolean>, until: number): Promise<boolean | null> {
  let out: boolean | null = null
  void p.then((v) => (out = v))
  while (out === null && clock.nextAt() !== null && clock.nextAt()! <= until) {
    clock.runNext()
    await Promise.resolve()
  }
  await Promise.resolve()
  return out
}

/** a tab `self` listening (join.ts's 2 s window) on a fake transport and a virtual clock */
function listening(self: string): { clock: VirtualClock; t: FakeTransport; p: Promise<boolean> } {
  const clock = new VirtualClock()
  const t = new FakeTransport()
  return { clock, t, p: listenBeforeFounding(t, self, 2_000, clock) }
}

/** `peer`'s member claims `clusterId` on its link to `t` */
const claimOn = (t: FakeTransport, peer: string, clusterId: string): void => (t.links().get(peer) as FakeLink).deliver(claim(clusterId))

describe('listenBeforeFounding', () => {
  it('two first tabs linked to each other: the lower id founds, the other joins its cluster (both used to wait forever)', async () => {
    const { clock, t, p } = listening('ka')
    clock.setTimeout(() => t.link('kb'), 100)
    expect(await run(clock, p)).toBe(true)

    // the higher one defers to ka while ka is linked and silent, and joins once ka's member claims its cluster
    const { clock: clock2, t: t2, p: q } = listening('kb')
    clock2.setTimeout(() => t2.link('ka'), 100)
    expect(await runUntil(clock2, q, 4_000)).toBeNull()
    claimOn(t2, 'ka', 'c-ka')
    expect(await run(clock2, q)).toBe(false)
  })

  it('a claim naming a cluster: join at once', async () => {
    const { clock, t, p } = listening('ka')
    clock.setTimeout(() => t.link('kz').deliver(claim('c1')), 100)
    expect(await run(clock, p)).toBe(false)
    expect(clock.now()).toBeLessThan(2_000)
  })

  it('a lower-id peer that runs without a cluster does not hold us back', async () => {
    const { clock, t, p } = listening('kb')
    clock.setTimeout(() => t.link('ka').deliver(claim('')), 100)
    expect(await run(clock, p)).toBe(true)
  })

  it('no link: found after listening', async () => {
    const clock = new VirtualClock()
    expect(await run(clock, listenBeforeFounding(new FakeTransport(), 'kz', 2_000, clock))).toBe(true)
  })

  // Issue 17: a tab that deferred to a lower-id listening peer waited for it
  // for good when that peer never founded (crashed, closed, lost its links):
  // nobody founded, every tab stayed leaderless.
  it('the lower listener we defer to goes away after our window (its link closes and stays closed): we found', async () => {
    const { clock, t, p } = listening('kb')
    clock.setTimeout(() => t.link('ka'), 100)
    clock.setTimeout(() => t.unlink('ka'), 2_600)
    expect(await runUntil(clock, p, 2_599)).toBeNull()
    expect(await run(clock, p)).toBe(true)
  })

  it('the lower listener went away during our window: we found when it ends', async () => {
    const { clock, t, p } = listening('kb')
    clock.setTimeout(() => t.link('ka'), 100)
    clock.setTimeout(() => t.unlink('ka'), 300)
    expect(await run(clock, p)).toBe(true)
  })

  it('a lower listener that left every signaling channel (a crashed page) is gone without waiting for its data channel to time out', async () => {
    const { clock, t, p } = listening('kb')
    clock.setTimeout(() => t.link('ka'), 100)
    clock.setTimeout(() => t.presence('ka', false), 2_500)
    expect(await runUntil(clock, p, 2_500)).toBeNull()
    expect(await run(clock, p)).toBe(true)
    expect(t.links().get('ka')?.open).toBe(true)
  })

  it('two tabs defer to a third that goes away: the lower of the two founds, the higher defers to it and joins its cluster', async () => {
    // each one's view: ka and the other linked, ka goes; kb (the lower) founds, kc waits for kb's
    // cluster: kb's member claims it once started
    for (const [self, other] of [['kb', 'kc'], ['kc', 'kb']] as const) {
      const { clock, t, p } = listening(self)
      clock.setTimeout(() => ['ka', other].forEach((peer) => t.link(peer)), 100)
      clock.setTimeout(() => t.unlink('ka'), 2_200)
      if (self === 'kb') {
        expect(await run(clock, p)).toBe(true)
        continue
      }
      expect(await runUntil(clock, p, 6_000)).toBeNull()
      claimOn(t, 'kb', 'c-kb')
      expect(await run(clock, p)).toBe(false)
    }
  })

  it('a link to the lower listener that closes and comes back at once (a replaced link) does not make us found', async () => {
    const { clock, t, p } = listening('kb')
    clock.setTimeout(() => t.link('ka'), 100)
    clock.setTimeout(() => {
      t.unlink('ka')
      clock.setTimeout(() => t.link('ka'), 200)
    }, 2_100)
    expect(await runUntil(clock, p, 6_000)).toBeNull()
    claimOn(t, 'ka', 'c-ka')
    expect(await run(clock, p)).toBe(false)
  })

  it('a lower listener that stays linked and silent for good: we found after the deferral limit (two founders merge)', async () => {
    const { clock, t, p } = listening('kb')
    clock.setTimeout(() => t.link('ka'), 100)
    expect(await run(clock, p)).toBe(true)
    expect(clock.now()).toBe(2_000 + DEFER_LIMIT_MS)
  })
})
