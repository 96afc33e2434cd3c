// MeshTransport: the Transport (src/transport/types) of a real mesh. Peers of
// the room are found through every signaling channel given (BroadcastChannel,
// WebSocket servers) and through peers we already have links to; a WebRTC
// data channel is made to each with simple-peer; after a verified HELLO on
// the new channel the link is handed to the node.
//
// This file wires the parts, one concern each:
//  - discovery.ts: presence and signals in, who initiates, knocks, and the
//    bounds on introductions (issue 13);
//  - attempts.ts: one WebRTC peer per try, timeouts, backoff, giving up,
//    attempt slots;
//  - link-opening.ts: the hello/proof handshake on a connected channel, one
//    link per member, what a closed link means;
//  - relay.ts: signaling over links, and the routes a signal takes;
//  - signal-envelope.ts: signals sealed and fresh under a room key;
//  - peer-table.ts: the table of peers, links and routes they all share.
// What stays here is the public face: the options checked, the signaling
// rooms joined (under a room key the room's name on signaling is derived
// from the key, room-sealer.ts, and a lobby on the plain name tells a holder
// of another secret, lobby.ts), the error event, refuse() and close().
//
// A member that breaks the protocol on a verified link (the link's bad frame,
// a control message we do not speak, or what the node reports through
// refuse()) is refused for a while (penalties.ts): its links close and nothing
// is made with it until the penalty ends, so it cannot make us churn
// connections.
//
// Time and chance are injected (invariant 7): the clock (`clock`), backoff
// jitter (`random`) and the bytes of ids and nonces (`randomBytes`) default
// to the platform's, and a simulator passes its own.
import { WireError } from '../wire/errors'
import { MEMBER_ID_PATTERN } from '../wire/limits'
import { BOOT_ID_BYTES, ReplayGuard, SealCounter } from '../wire/replay'
import type { RoomKey } from '../wire/room-key'
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'
import { Attempts } from './attempts'
import { parseSignalingId, signalingId } from './control'
import { Discovery } from './discovery'
import { TransportError } from './errors'
import { Introductions } from './introductions'
import { LinkOpening, UNWANTED } from './link-opening'
import type { RoomSealing } from './link-opening'
import { Lobby } from './lobby'
import type { MeshContext } from './mesh-context'
import type { MeshTransportOptions } from './mesh-options'
import { PenaltyBox } from './penalties'
import { PeerTable } from './peer-table'
import { platformRandom, platformRandomBytes } from './randomness'
import type { RandomBytes } from './randomness'
import { Relay } from './relay'
import { ReportThrottle } from './report-throttle'
import { lobbyCheck, roomKeySealer, signalingRoom } from './room-sealer'
import { SignalEnvelope } from './signal-envelope'
import { SignalFreshness } from './signal-freshness'
import { Listeners } from './signaling'
import type { SignalingChannel } from './signaling'
import type { Link, PeerHello, Transport } from './types'

export type { MeshTransportOptions, PeerBounds } from './mesh-options'

export class MeshTransport implements Transport {
  readonly self: PeerHello
  readonly selfId: string
  private readonly table = new PeerTable()
  private readonly linkListeners = new Listeners<[Link, PeerHello]>()
  private readonly errorListeners = new Listeners<[TransportError]>()
  private readonly presenceListeners = new Listeners<[string, boolean]>()
  private readonly unsubscribe: (() => void)[] = []
  private closed = false
  private readonly penalties: PenaltyBox
  private readonly reports: ReportThrottle
  private readonly clock: Clock
  private readonly randomBytes: RandomBytes
  private readonly attempts: Attempts
  private readonly discovery: Discovery
  private lobby: Lobby | null = null
  /** the node's link policy (setLinkPolicy); every peer until it says otherwise */
  private wants: (member: string) => boolean = () => true

  constructor(private readonly opts: MeshTransportOptions) {
    this.self = opts.self
    this.selfId = signalingId(opts.self)
    if (parseSignalingId(this.selfId) === null || !MEMBER_ID_PATTERN.test(opts.self.browser)) {
      throw new TransportError('BAD_ARGUMENTS', `member, tab and browser ids must match ${MEMBER_ID_PATTERN}`)
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- options may come from untyped JavaScript
    if (opts.identity?.id !== opts.self.member) throw new TransportError('BAD_ARGUMENTS', 'the member id must be the id of its key (identity.id)')
    this.clock = opts.clock ?? realClock
    const now = () => this.clock.now()
    const bounds = opts.bounds ?? {}
    this.randomBytes = opts.randomBytes ?? platformRandomBytes
    this.penalties = new PenaltyBox(opts.penalty, now)
    this.reports = new ReportThrottle(now, { windowMs: bounds.reportWindowMs ?? opts.penalty?.baseMs })
    const ctx = this.context()
    const sealing: RoomSealing | undefined = opts.roomKey === undefined ? undefined : { sealer: roomKeySealer(opts.roomKey), key: opts.roomKey, counter: new SealCounter(this.randomBytes(BOOT_ID_BYTES)), guard: new ReplayGuard() }
    const envelope = sealing === undefined ? undefined : new SignalEnvelope(ctx, sealing.sealer, new SignalFreshness(now, { windowMs: bounds.signalWindowMs }, this.randomBytes))
    // the parts call each other through these hooks (the files import one way)
    this.attempts = new Attempts(
      ctx,
      {
        connect: (r) => this.discovery.connect(r),
        settle: (r, outcome) => this.discovery.settle(r, outcome),
        signal: (r, payload) => this.discovery.signal(r, payload),
        connected: (r, attempt) => opening.open(r, attempt),
      },
      opts.random ?? platformRandom,
      this.randomBytes,
    )
    const relay = new Relay(ctx, {
      introduce: (id, via) => this.discovery.introduce(id, via),
      unnamed: (via, peers) => this.discovery.routeLost(via, peers),
      receive: (from, data, route) => this.discovery.onSignal(from, data, route),
    })
    const opening = new LinkOpening(
      ctx,
      this.attempts,
      sealing,
      {
        established: (link, hello) => this.linkListeners.emit(link, hello),
        announce: () => relay.announce(),
        control: (r, msg) => relay.onControl(r, msg),
        closed: (r) => this.discovery.routeLost(r.id, null),
      },
      this.randomBytes,
    )
    const introductions = new Introductions({ perIntroducer: bounds.peersPerIntroducer, junkToRefuse: bounds.junkToRefuse })
    this.discovery = new Discovery(ctx, this.attempts, relay, introductions, envelope)
    for (const channel of opts.signaling) {
      this.unsubscribe.push(
        channel.onPeer((peer, present) => {
          this.discovery.onPresence(channel, peer, present)
          this.reportPresence(peer, present)
        }),
      )
      this.unsubscribe.push(channel.onSignal((from, data) => void this.discovery.onSignal(from, data, channel)))
    }
    if (opts.roomKey === undefined) this.joinSignaling(opts.room)
    else void this.joinSealed(opts.roomKey)
  }

  /** what the parts share: this transport's state, seen live (closed) */
  private context(): MeshContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context's getters read this transport's live state
    const transport = this
    return {
      opts: this.opts,
      self: this.self,
      selfId: this.selfId,
      clock: this.clock,
      table: this.table,
      penalties: this.penalties,
      get closed() {
        return transport.closed
      },
      report: (err, peer) => this.report(err, peer),
      reportSignaling: (from, err) => this.reportSignaling(from, err),
      refuse: (member, reason) => this.refuse(member, reason),
      wants: (member) => this.wants(member),
    }
  }

  /** under a room key: the members' room, named after the key, and the lobby
   *  on the plain name, where a holder of another secret is told (lobby.ts) */
  private async joinSealed(key: RoomKey): Promise<void> {
    let names: [string, string]
    try {
      names = await Promise.all([signalingRoom(key, this.opts.room), lobbyCheck(key, this.opts.room)])
    } catch (err) {
      this.report(err, this.self.member)
      return
    }
    this.joinSignaling(names[0])
    if (this.closed) return
    const channels: SignalingChannel[] = []
    try {
      for (const c of this.opts.signaling) if (c.sibling !== undefined) channels.push(c.sibling())
      this.lobby = new Lobby({
        room: this.opts.room,
        check: names[1],
        channels,
        now: () => this.clock.now(),
        randomBytes: this.randomBytes,
        windowMs: this.opts.bounds?.reportWindowMs ?? this.opts.penalty?.baseMs,
        // one sender for the whole lobby: a wrong secret is said once a window, however many say it
        mismatch: (err) => void this.reportSignaling('lobby', err),
      })
    } catch (err) {
      // an app's own channel that cannot make or join a sibling: no lobby, and the app is told
      for (const c of channels) closeQuietly(c)
      this.report(err, this.self.member)
    }
  }

  private joinSignaling(room: string): void {
    if (this.closed) return
    for (const channel of this.opts.signaling) channel.join(room, this.selfId)
  }

  onLink(fn: (link: Link, hello: PeerHello) => void): () => void {
    return this.linkListeners.add(fn)
  }

  onPresence(fn: (member: string, present: boolean) => void): () => void {
    return this.presenceListeners.add(fn)
  }

  /** a member is present while any tab of it is on any channel; it left when the last one left */
  private reportPresence(peer: string, present: boolean): void {
    const id = parseSignalingId(peer)
    if (id === null || id.member === this.opts.self.member) return
    if (!present) for (const r of this.table.values()) if (r.member === id.member && r.channels.size > 0) return
    this.presenceListeners.emit(id.member, present)
  }

  /** a peer was refused (UNAUTHORIZED) or sent what we do not accept */
  onError(fn: (err: TransportError) => void): () => void {
    return this.errorListeners.add(fn)
  }

  links(): Map<string, Link> {
    return new Map(this.table.current)
  }

  /**
   * Refuse a member that broke the protocol (the node calls this for a
   * message that does not decode or is out of protocol): close its links,
   * answer none of its signals and make no attempt to it until its penalty
   * (penalties.ts) ends; then it is linked again like any peer.
   */
  refuse(member: string, reason: string): void {
    if (this.closed || member === this.self.member) return
    this.penalties.strike(member)
    const why = `refused: ${reason}`
    for (const r of [...this.table.values()]) {
      if (r.member !== member) continue
      if (r.attempt !== null) this.attempts.fail(r, r.attempt, why)
      r.link?.close(why)
    }
    this.table.current.get(member)?.close(why)
  }

  /**
   * The node's link policy (src/driver/link-policy.ts), applied at once: a
   * link to a peer it no longer wants is closed ('unwanted': not made again
   * from our side; the peer makes it again if it wants it), a peer it wants
   * and we have no link to is tried. Offers and knocks are answered whatever
   * the policy says, so a pair is linked when either side wants it.
   */
  setLinkPolicy(wants: (member: string) => boolean): void {
    this.wants = wants
    if (this.closed) return
    for (const r of [...this.table.values()]) {
      if (wants(r.member)) {
        if (r.link === null && r.attempt === null) {
          this.attempts.cancelRetry(r)
          this.discovery.connect(r)
        }
      } else if (r.link?.open === true) {
        r.link.close(UNWANTED)
      } else if (r.attempt?.initiator === true) {
        // our own try at a link nobody on our side needs: its slot goes to one we need
        this.attempts.fail(r, r.attempt, UNWANTED)
      }
    }
  }

  /** ms the member is still refused for (0: it is not); for diagnostics and tests */
  refusedFor(member: string): number {
    return this.penalties.remaining(member)
  }

  /** signaling ids of the peers this transport knows of (linked or being tried); for diagnostics */
  knownPeers(): string[] {
    return this.table.ids().sort()
  }

  // async although nothing is awaited: Transport.close is a promise, and a
  // throw must reject it rather than escape the caller
  // eslint-disable-next-line @typescript-eslint/require-await
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const u of this.unsubscribe) u()
    // the lobby first: its channels may ride on the signaling channels' connections
    this.lobby?.close()
    for (const channel of this.opts.signaling) channel.close()
    for (const r of this.table.values()) this.attempts.drop(r, 'transport closed')
    for (const link of this.table.current.values()) link.close('transport closed')
    this.table.current.clear()
    this.linkListeners.clear()
    this.presenceListeners.clear()
  }

  /** bad signaling is dropped; the app hears of it at most once per sender per window */
  private reportSignaling(from: string, err: TransportError): null {
    if (this.reports.allow(from)) this.report(err, err.peer ?? from)
    return null
  }

  private report(err: unknown, peer: string): void {
    const e =
      err instanceof TransportError
        ? err
        : new TransportError(err instanceof WireError && (err.code === 'TOO_LARGE' || err.code === 'UNAUTHORIZED') ? err.code : 'BAD_MESSAGE', err instanceof WireError ? err.reason : err instanceof Error ? err.message : String(err), peer)
    this.errorListeners.emit(e)
  }
}

function closeQuietly(channel: SignalingChannel): void {
  try {
    channel.close()
  } catch {
    // a channel that cannot even close: nothing more to do with it
  }
}
