// Discovery: who is in the room and how we reach them. Peers are announced by
// the signaling channels (BroadcastChannel, WebSocket servers) and by linked
// neighbours (relay.ts); their signals arrive on either. Rules that keep one
// link per pair:
//  - the peer with the lower signaling id (`member/tab`) initiates; the other
//    sends a 'knock' asking it to, in case it has not seen us yet, and knocks
//    again after a backoff if no offer came;
//  - a peer that left every channel and no neighbour reaches is not chased.
//
// Bounds against made-up peers (issue 13). Every peer in the table was
// introduced by a channel or by a neighbour (its 'peers' message, or the
// origin of a signal it relays); an introducer may bring in a bounded number
// of peers nothing else vouched for (introductions.ts), the table is bounded
// (peer-table.ts), and a neighbour whose peers turn out mostly junk (never
// answered) is refused like a protocol breaker. A member that is refused
// (penalties.ts) gets no answer to its offers and knocks, and no attempt.
import type { Attempts, SignalPayload } from './attempts'
import { parseSignalingId } from './control'
import { TransportError } from './errors'
import type { Introductions, Outcome } from './introductions'
import type { MeshContext } from './mesh-context'
import { CHANNEL } from './peer-table'
import type { Attempt, Remote, Route } from './peer-table'
import type { Relay } from './relay'
import type { SignalEnvelope } from './signal-envelope'
import { parseSignal } from './signal-parse'
import type { SignalData, SignalingChannel } from './signaling'

export class Discovery {
  constructor(
    private readonly ctx: MeshContext,
    private readonly attempts: Attempts,
    private readonly relay: Relay,
    private readonly introductions: Introductions,
    /** under a room key: signals are sealed and must open fresh */
    private readonly envelope: SignalEnvelope | undefined,
  ) {}

  /** a channel says peer `id` is in the room (present) or left it */
  onPresence(channel: SignalingChannel, id: string, present: boolean): void {
    const { ctx } = this
    if (ctx.closed || id === ctx.selfId) return
    if (!present) {
      const r = ctx.table.get(id)
      if (r === undefined) return
      r.channels.delete(channel)
      // a peer that left every channel is not chased any more; its link, if
      // any, lives on until the data channel itself closes
      if (r.channels.size === 0 && r.link === null && !ctx.table.reachableByRelay(id)) this.attempts.drop(r, 'left')
      return
    }
    const r = this.remote(id, this.channelKey(channel))
    if (r === null) return
    r.channels.add(channel)
    // a channel vouches for it now: it no longer counts against a neighbour's share
    if (r.introducer !== null && !r.introducer.startsWith(CHANNEL)) this.settle(r, 'neutral')
    this.connect(r)
  }

  /** a neighbour (signaling id `via`) names peer `id` */
  introduce(id: string, via: string): void {
    const r = this.remote(id, via)
    if (r !== null) this.connect(r)
  }

  /** a signal from `from`, by a channel or relayed by a neighbour */
  async onSignal(from: string, raw: SignalData, route: Route): Promise<void> {
    const { ctx } = this
    if (ctx.closed) return
    const sender = parseSignalingId(from)
    if (sender === null || sender.member === ctx.self.member) return
    // a refused member's offers and knocks go unanswered (nothing to open, parse or report)
    if (ctx.penalties.remaining(sender.member) > 0) return
    // under a room key, only what opens, fresh, takes a table entry or a report's attention
    const data = this.envelope === undefined ? raw : await this.envelope.open(from, sender.member, raw)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- closed can turn true while open() awaited
    if (data === null || ctx.closed) return
    const signal = parseSignal(data)
    if (signal === null) {
      ctx.reportSignaling(from, new TransportError('BAD_MESSAGE', `malformed signal from ${from}`, sender.member))
      return
    }
    // a relayed signal's origin is the relaying neighbour's word: it counts against its share
    const r = this.remote(from, 'relayVia' in route ? route.relayVia : this.channelKey(route))
    if (r === null) return
    // the way a signal came is a way back (the peer's presence may never
    // have reached us on it)
    if ('relayVia' in route) r.relayVia = route.relayVia
    else r.channels.add(route)
    if (signal.k === 'knock') {
      if (ctx.selfId > r.id || r.link?.open === true) return
      // they want a link and we initiate: start one unless one is under way
      if (r.attempt === null) {
        this.attempts.cancelRetry(r)
        this.attempts.initiate(r)
        return
      }
      // a peer knocks only while it has no attempt with us. One knock may
      // have crossed our offer (both heard of each other at once: common, and
      // our offer is on its way); a second means our attempt never reached
      // it (its offer was lost, say on a server that dropped it): made again
      // now, not at its connect timeout; so is one we know lost signals
      if (restartable(r.attempt) && ++r.attempt.knocks >= 2) r.attempt.lost = true
      this.reroute(r)
      return
    }
    // the peer answered our attempt: it has it, whatever of ours was lost on the way
    if (r.attempt?.id === signal.a) r.attempt.lost = false
    let attempt = r.attempt
    if (attempt?.id !== signal.a) {
      if (ctx.selfId < r.id) return // a stale answer to an attempt we gave up
      // the initiator started (over): answer this attempt, drop ours
      attempt = this.attempts.answer(r, signal.a)
      if (attempt === null) return
    }
    // a tab pipe's signal means nothing to a peer without pipes (a Node member's
    // simple-peer would take it for bad signal data and drop the attempt)
    if (signal.s.type === 'pipe' && attempt.peer.pipes !== true) return
    try {
      attempt.peer.signal(signal.s)
    } catch (err) {
      ctx.report(new TransportError('BAD_MESSAGE', `signal from ${from} rejected: ${String(err)}`, r.member), r.member)
    }
  }

  /** pass a signal to r (sealed under a room key); what route it took is
   *  noted on its attempt, so an attempt whose signals were lost goes again */
  async signal(r: Remote, payload: SignalPayload): Promise<void> {
    let data: SignalData = payload
    if (this.envelope !== undefined) {
      try {
        data = await this.envelope.seal(payload, r.id)
      } catch (err) {
        this.ctx.report(err, r.member)
        return
      }
    }
    const route = this.relay.send(r, data)
    const attempt = r.attempt
    if (attempt?.id !== payload.a) return
    if (route === null) attempt.lost = true
    else if ('via' in route) attempt.relays.add(route.via)
  }

  /**
   * A neighbour that relayed signals of our attempts no longer reaches their
   * peers (`peers`; all of them, null, when our link to it closed): what it
   * had not passed on is gone. Newcomers close their links to everyone but
   * the leader as soon as they learn who leads (link-policy.ts), and tabs
   * whose signaling server is not connected yet reach other browsers only
   * through them: an offer or answer lost that way cost the attempt its
   * connect timeout (20 s), with a tab left outside the mesh (issue 17).
   * Only the initiator can start over; the relay's path to the answerer is
   * the one it used both ways (the answerer answers the way the offer came).
   */
  routeLost(via: string, peers: ReadonlySet<string> | null): void {
    for (const r of [...this.ctx.table.values()]) {
      const attempt = r.attempt
      if (attempt === null || !restartable(attempt) || !attempt.relays.has(via)) continue
      if (peers !== null && !peers.has(r.id)) continue
      attempt.lost = true
      this.reroute(r)
    }
  }

  /** our attempt to r, still connecting, whose signals may be lost, goes again once a route to r is live */
  private reroute(r: Remote): void {
    const attempt = r.attempt
    if (attempt === null || !attempt.lost || !restartable(attempt) || this.relay.route(r) === null) return
    this.attempts.restart(r, 'signals lost')
  }

  /** try to reach r: initiate (lower id), or knock and knock again later */
  connect(r: Remote): void {
    const { ctx, attempts } = this
    // called when r is announced (a route to it, maybe a new one)
    if (!ctx.closed) this.reroute(r)
    if (ctx.closed || r.link !== null || r.attempt !== null || r.retry !== null) return
    const refused = ctx.penalties.remaining(r.member)
    // come back when the penalty ends (the peer may be gone by then)
    if (refused > 0) {
      attempts.retryIn(r, refused)
      return
    }
    // a peer the node needs no link to: we neither start nor ask for one
    // (it is answered if it wants one, onSignal)
    if (!ctx.wants(r.member)) return
    if (ctx.selfId < r.id) {
      attempts.initiate(r)
      return
    }
    // the other side initiates; ask it to, and ask again later if no offer
    // came (a knock may be lost on a channel that is still connecting)
    void this.signal(r, { a: 'knock', k: 'knock' })
    r.failures++
    attempts.scheduleRetry(r)
  }

  /** an introduced peer proved real, junk, or neither: an introducer of mostly junk is refused */
  settle(r: Remote, outcome: Outcome): void {
    const { ctx } = this
    const introducer = r.introducer
    if (introducer === null) return
    r.introducer = null
    if (!this.introductions.settle(introducer, outcome) || introducer.startsWith(CHANNEL)) return
    const member = parseSignalingId(introducer)?.member
    if (member === undefined) return
    ctx.report(new TransportError('BAD_MESSAGE', `${introducer} announced peers that never answered`, member), member)
    ctx.refuse(member, 'announced peers that never answered')
    // its other introductions are as good as its word: forget those not linked
    for (const other of [...ctx.table.values()]) if (other.introducer === introducer && other.link === null) this.attempts.drop(other, 'introducer refused')
  }

  private channelKey(channel: SignalingChannel): string {
    return `${CHANNEL}${this.ctx.opts.signaling.indexOf(channel)}`
  }

  /** the peer `id`, known or new; null when it names none, is us, or its
   *  introducer's share (or the table) is full */
  private remote(id: string, introducer: string): Remote | null {
    const { table, self } = this.ctx
    const known = table.get(id)
    if (known !== undefined) return known
    const parsed = parseSignalingId(id)
    if (parsed === null || parsed.member === self.member) return null
    // peers announce peers: a hostile one could name thousands
    if (table.full && !(introducer.startsWith(CHANNEL) && this.evictIdleUnvouched())) return null
    if (!this.introductions.admit(introducer)) return null
    return table.add(id, parsed.member, parsed.tab, introducer)
  }

  /** make room for a peer a channel announces: forget an idle one only a neighbour vouches for */
  private evictIdleUnvouched(): boolean {
    const idle = this.ctx.table.idleUnvouched()
    if (idle === undefined) return false
    this.attempts.drop(idle, 'table full')
    return true
  }
}

/** an attempt of ours still connecting: the only kind made again when its signals were lost */
function restartable(attempt: Attempt): boolean {
  return attempt.initiator && attempt.link === null
}
