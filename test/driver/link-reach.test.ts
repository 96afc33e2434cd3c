// The link policy never cuts a member's only path to the peers it wants
// (src/driver/link-policy.ts, Reach; LinkTable.follow). A newcomer that
// shares a signaling server with one neighbour only reaches the leader
// through signals that neighbour relays: told by the neighbour's claim who
// leads, it used to close that link at once (the leader only was wanted),
// linked to nobody it wanted everyone and linked the neighbour again, and
// so on: it never joined (devices.spec's relay test, meet.spec's lone device).
// The fake transport applies a policy as MeshTransport does: an open link
// the policy does not want is closed when the policy is set.
import { describe, expect, it } from 'vitest'
import { LinkTable } from '../../src/driver/links'
import type { LinkEvents } from '../../src/driver/links'
import { keepPolicyKey, keepsLink, reachOf } from '../../src/driver/link-policy'
import type { ConfState } from '../../src/raft/types'
import type { Link, PeerHello, Transport } from '../../src/transport/types'

const conf = (voters: string[], learners: string[]): ConfState => ({ voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false })
const c = conf(['v1', 'v2', 'v3'], ['l1', 'l2'])

class FakeLink implements Link {
  open = true
  private readonly closes = new Set<(reason: string) => void>()
  constructor(readonly peer: string) {}
  send(): void {}
  onMessage(): () => void {
    return () => undefined
  }
  onClose(fn: (reason: string) => void): () => void {
    this.closes.add(fn)
    return () => this.closes.delete(fn)
  }
  close(reason = 'closed'): void {
    if (!this.open) return
    this.open = false
    for (const fn of [...this.closes]) fn(reason)
  }
}

class PolicyTransport implements Transport {
  readonly self: PeerHello = { member: 'n', tab: 't', browser: 'b' }
  readonly linkMap = new Map<string, FakeLink>()
  private readonly fns = new Set<(link: Link, hello: PeerHello) => void>()
  wants: (peer: string) => boolean = () => true
  onLink(fn: (link: Link, hello: PeerHello) => void): () => void {
    this.fns.add(fn)
    return () => this.fns.delete(fn)
  }
  links(): Map<string, Link> {
    return new Map([...this.linkMap].filter(([, l]) => l.open))
  }
  async close(): Promise<void> {}
  setLinkPolicy(wants: (peer: string) => boolean): void {
    this.wants = wants
    for (const link of this.linkMap.values()) if (link.open && !wants(link.peer)) link.close('unwanted')
  }
  link(peer: string): FakeLink {
    const l = new FakeLink(peer)
    this.linkMap.set(peer, l)
    for (const fn of [...this.fns]) fn(l, { member: peer, tab: 't', browser: 'x' })
    return l
  }
  linked(): string[] {
    return [...this.links().keys()].sort()
  }
}

const events: LinkEvents = { message() {}, badFrame() {}, linkUp() {}, linkDown() {}, presence() {} }

function table(self: string): { t: PolicyTransport; links: LinkTable } {
  const t = new PolicyTransport()
  return { t, links: new LinkTable(self, t, events) }
}

describe('LinkTable.follow keeps the path to the peers it wants', () => {
  it('a newcomer linked only to a neighbour that is not the leader keeps that link until the leader is linked, then drops it', () => {
    const { t, links } = table('n')
    t.link('l1') // its one neighbour on its signaling server (a learner)
    links.follow(c, 'v2') // the neighbour's claim names v2 as the leader
    expect(t.linked()).toEqual(['l1']) // before the fix: [] (the relay path to v2 closed)
    expect(t.wants('v2')).toBe(true)
    expect(t.wants('v1')).toBe(false) // no other unwanted link is made
    t.link('v2') // made through the signals l1 relays
    links.follow(c, 'v2')
    expect(t.linked()).toEqual(['v2'])
    expect(t.wants('l1')).toBe(false)
  })

  it('a learner linked to no voter keeps the links it has; once a voter is linked, the other learners go', () => {
    const { t, links } = table('l1')
    t.link('l2')
    links.follow(c, 'v1')
    expect(t.linked()).toEqual(['l2'])
    t.link('v3')
    links.follow(c, 'v1')
    expect(t.linked()).toEqual(['v3'])
  })

  it('a newcomer keeps its links to peers it still weighs (no claim heard, or another cluster) beside the leader it knows', () => {
    // a new tab linked to the lone device's leader (its claim heard first) and to a tab of its own browser (claim not in yet)
    const { t, links } = table('n')
    t.link('lone')
    t.link('a1')
    let weighed = new Set(['a1'])
    links.follow(conf([], []), 'lone', (p) => weighed.has(p))
    expect(t.linked()).toEqual(['a1', 'lone']) // before the fix: ['lone'], and it joined the lone device
    expect(t.wants('v1')).toBe(false)
    // a1's claim came: the same cluster as the one it means to join, not its leader: dropped
    weighed = new Set()
    links.follow(conf([], []), 'lone', (p) => weighed.has(p))
    expect(t.linked()).toEqual(['lone'])
  })

  it('linked to nobody, a member wants every peer (as before any policy), and narrows again once it is linked', () => {
    const { t, links } = table('n')
    t.link('v2')
    links.follow(c, 'v2')
    expect(t.wants('v1')).toBe(false)
    t.linkMap.get('v2')!.close('gone')
    links.follow(c, 'v2')
    for (const peer of ['v1', 'v2', 'l1']) expect(t.wants(peer)).toBe(true)
    t.link('v2')
    links.follow(c, 'v2')
    expect(t.wants('v1')).toBe(false)
  })
})

describe('keepsLink, keepPolicyKey', () => {
  const view = (linked: string[], weighing: string[] = []) => ({ linked, weighing })

  it('reached, a newcomer keeps the leader and the peers it still weighs; stranded, whatever is linked; alone, everyone', () => {
    expect(reachOf('n', c, 'v2', view([]))).toBe('alone')
    expect(reachOf('n', c, 'v2', view(['l1']))).toBe('stranded')
    expect(reachOf('n', c, 'v2', view(['l1', 'v2']))).toBe('reached')
    expect(keepsLink('n', 'l1', c, 'v2', view(['l1']))).toBe(true)
    expect(keepsLink('n', 'l2', c, 'v2', view(['l1']))).toBe(false)
    expect(keepsLink('n', 'l1', c, 'v2', view(['l1', 'v2']))).toBe(false)
    expect(keepsLink('n', 'l1', c, 'v2', view(['l1', 'v2'], ['l1']))).toBe(true)
    expect(keepsLink('n', 'l2', c, 'v2', view(['l1', 'v2'], ['l2']))).toBe(false) // weighed only while linked: no new link
    expect(keepsLink('n', 'l2', c, 'v2', view([]))).toBe(true)
    expect(keepsLink('n', 'n', c, 'v2', view([]))).toBe(false)
  })

  it('the key changes where the answers do: a voter wants everyone whatever it is linked to', () => {
    expect(keepPolicyKey('v1', c, null, view([]))).toBe(keepPolicyKey('v1', c, null, view(['l1'])))
    expect(keepPolicyKey('n', c, 'v2', view(['l1']))).not.toBe(keepPolicyKey('n', c, 'v2', view(['v2'])))
    expect(keepPolicyKey('n', c, 'v2', view(['l1']))).toBe(keepPolicyKey('n', c, 'v2', view(['l1', 'l2'])))
    expect(keepPolicyKey('n', c, 'v2', view(['v2', 'l1'], ['l1']))).not.toBe(keepPolicyKey('n', c, 'v2', view(['v2', 'l1'])))
    expect(keepPolicyKey('n', c, 'v2', view([]))).toBe('*')
    expect(keepPolicyKey('l1', c, null, view(['l2']))).not.toBe(keepPolicyKey('l1', c, null, view(['v1'])))
  })
})
