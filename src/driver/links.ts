// The member's links, by peer. A Transport may replace a link to a peer with a
// newer one; only the current link of a peer is used, and the close of an old
// one does not forget the new. Incoming frames are decoded here (untrusted:
// a frame that does not decode is reported and dropped, never thrown).
import type { ConfState } from '../raft/types'
import type { Link, PeerHello, Transport } from '../transport/types'
import { decodeNodeMessage, encodeNodeMessage } from '../wire/node-messages'
import type { NodeMessage } from '../wire/node-messages'
import { inConfiguration } from './consensus-gate'
import { keepPolicyKey, keepsLink } from './link-policy'
import type { LinkView } from './link-policy'

export interface LinkEvents {
  message(peer: string, msg: NodeMessage): void
  badFrame(peer: string, err: unknown): void
  linkUp(peer: string, hello: PeerHello): void
  /** `reason`: the link's close reason (CLOSED_BY_PEER when the peer closed it) */
  linkDown(peer: string, reason: string): void
  /** the transport's signaling: `member` left every channel, or is present again (Transport.onPresence) */
  presence(member: string, present: boolean): void
}

/** what the commit timeline stamps around each frame (commit-timeline.ts): its arrival before decoding, and the end of its handling */
export interface ArrivalStamps {
  arrived(): void
  handled(): void
}

export class LinkTable {
  private readonly links = new Map<string, Link>()
  private readonly unsubscribe: (() => void)[] = []
  private closed = false
  /** the link policy the transport was last given (link-policy.ts), by key */
  private policyKey = '*'
  private conf: ConfState | null = null
  private leader: string | null = null
  private view: LinkView = { linked: [], weighing: [] }

  constructor(
    private readonly self: string,
    private readonly transport: Transport,
    private readonly events: LinkEvents,
    /** the commit timeline's, or null (nothing stamped) */
    private readonly stamps: ArrivalStamps | null = null,
  ) {
    this.unsubscribe.push(transport.onLink((link, hello) => this.adopt(link, hello)))
    for (const [peer, link] of transport.links()) this.adopt(link, { member: peer, tab: '', browser: '' })
    const offPresence = transport.onPresence?.((member, present) => {
      if (!this.closed && member !== this.self) this.events.presence(member, present)
    })
    if (offPresence !== undefined) this.unsubscribe.push(offPresence)
  }

  peers(): string[] {
    return [...this.links.keys()]
  }

  has(peer: string): boolean {
    return this.links.get(peer)?.open === true
  }

  /** false when there is no open link to the peer (the caller retries later) */
  send(peer: string, msg: NodeMessage): boolean {
    const link = this.links.get(peer)
    if (link === undefined || !link.open || this.closed) return false
    try {
      link.send(encodeNodeMessage(msg))
      return true
    } catch {
      return false
    }
  }

  broadcast(msg: NodeMessage): void {
    if (this.closed) return
    let bytes: Uint8Array
    try {
      bytes = encodeNodeMessage(msg)
    } catch {
      return // a value the wire refuses (e.g. a malformed id) is never sent
    }
    for (const link of this.links.values()) {
      if (!link.open) continue
      try {
        link.send(bytes)
      } catch {
        // a link closing under us: its onClose reports it
      }
    }
  }

  /**
   * Tell the transport which peers we need links to under `conf` (our view
   * of the configuration) and `leader` (the leader we follow, or the one
   * our cluster's claims name; link-policy.ts), when that changed: a
   * learner drops its links to other learners, a newcomer that knows the
   * leader drops the rest, a member promoted to voter links to everyone;
   * but never the links that may be our only path to the peers we want, nor
   * those a newcomer still weighs (`weighs`: no claim heard from the peer,
   * or it claims another cluster; link-policy.ts, Reach).
   */
  follow(conf: ConfState, leader: string | null, weighs: (peer: string) => boolean = () => false): void {
    this.conf = conf
    this.leader = leader
    // links that may be our only path to the peers we want, or that a newcomer still weighs, stay (link-policy.ts, Reach)
    const linked = this.peers().filter((peer) => this.has(peer))
    this.view = { linked, weighing: inConfiguration(conf, this.self) ? [] : linked.filter(weighs) }
    const key = keepPolicyKey(this.self, conf, leader, this.view)
    if (key === this.policyKey || this.closed) return
    this.policyKey = key
    this.transport.setLinkPolicy?.((peer) => this.conf === null || keepsLink(this.self, peer, this.conf, this.leader, this.view))
  }

  /** stop listening; the links themselves belong to the transport */
  close(): void {
    this.closed = true
    for (const off of this.unsubscribe.splice(0)) off()
    this.links.clear()
  }

  /** a frame of `peer`: decoded (untrusted: a bad one is reported) and handed on */
  private receive(peer: string, bytes: Uint8Array): void {
    let msg: NodeMessage
    try {
      msg = decodeNodeMessage(bytes)
    } catch (err) {
      this.events.badFrame(peer, err)
      return
    }
    this.events.message(peer, msg)
  }

  private adopt(link: Link, hello: PeerHello): void {
    if (this.closed || link.peer === this.self) return
    const peer = link.peer
    this.links.set(peer, link)
    const offMessage = link.onMessage((bytes) => {
      if (this.closed || this.links.get(peer) !== link) return
      const stamps = this.stamps
      if (stamps === null) {
        this.receive(peer, bytes)
        return
      }
      stamps.arrived()
      try {
        this.receive(peer, bytes)
      } finally {
        stamps.handled()
      }
    })
    const offClose = link.onClose((reason) => {
      offMessage()
      offClose()
      if (this.links.get(peer) !== link) return
      this.links.delete(peer)
      if (!this.closed) this.events.linkDown(peer, reason)
    })
    this.unsubscribe.push(offMessage, offClose)
    this.events.linkUp(peer, hello)
  }
}
