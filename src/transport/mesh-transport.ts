// MeshTransport: the Transport (src/transport/types) of a real mesh. Peers of
// the room are found through every signaling channel given (BroadcastChannel,
// WebSocket servers) and through peers we already have links to (relay); a
// WebRTC data channel is made to each with simple-peer; after a HELLO on the
// new channel the link is handed to the node.
//
// Rules that keep one link per pair and heal the mesh:
//  - the peer with the lower signaling id (`member/tab`) initiates; the other
//    sends a 'knock' asking it to, in case it has not seen us yet;
//  - every attempt has an id; signals of another attempt are ignored by the
//    initiator, and make the answering side start over (the initiator restarted);
//  - a new link to a member replaces the older one (closed as 'replaced'),
//    once the new one's hello is verified (below): an impostor replaces nothing;
//  - an attempt that does not connect in time, or a link that closes while
//    the peer is still present, is retried with exponential backoff.
// Signal payloads are validated here (channels are untrusted).
//
// Ids that cannot be borrowed (issue 13): a member id is derived from the
// member's key (src/wire/member-key.ts). On every new link, with or without a
// room secret, each side sends a HELLO with its public key and a fresh
// challenge, then a PROOF signing both challenges; the link is handed to the
// node only once the peer's id derives from its key and its signature
// verifies (hello-handshake.ts). A peer that fails is refused (UNAUTHORIZED)
// and, not being known to be who it claims, is held to account by its
// attempt only: it fails like an attempt that did not connect (backoff),
// never strikes the penalty of the id it claimed.
//
// With a room key (the room secret), three things, all under keys derived
// from secret and room (src/wire/room-key.ts):
//  - every signaling payload is sealed end to end (AES-GCM, bound to sender
//    and receiver), so a relay or a signaling server reads nothing and a
//    peer without the secret cannot even start a WebRTC connection;
//  - the HELLO is sealed (bound to both ends and the attempt); the PROOF also
//    answers the peer's challenge with a membership proof (membership-proof.ts),
//    checked before the signature. A peer that fails is refused: UNAUTHORIZED;
//  - every message on the link is sealed (link.ts + LinkSecurity): bound to
//    this link by both challenges, counted against replays.
// Without a key none of this runs and links rely on DTLS alone.
//
// Bounds against made-up peers (issue 13). Every peer in the table was
// introduced by a signaling channel or by a neighbour (its 'peers' message or
// the origin of a signal it relays); an introducer may bring in a bounded
// number of peers nothing else vouched for (introductions.ts), the table is
// bounded, WebRTC attempts in flight are bounded and peers a channel vouches
// for get a slot before a neighbour's word (attempt-slots.ts), a peer only a
// neighbour vouches for is given up after two failed tries, and a neighbour
// whose peers are mostly junk is refused like a protocol breaker.
//
// Under a room key, signaling is replay-proof and closed to outsiders: every
// sealed signal carries a time and a nonce, and one outside the time window
// or seen before is dropped (signal-freshness.ts); the room's name on
// signaling is derived from the key (room-sealer.ts), so an outsider never
// shares the signaling room; and what does reach us unsealed is dropped
// before it takes a table entry, reported at most once per sender per window
// (report-throttle.ts).
//
// A member that breaks the protocol on a verified link (the link's bad frame,
// a control message we do not speak, or what the node reports through
// refuse()) is refused for a while (penalties.ts): its links close and nothing
// is made with it until the penalty ends, so it cannot make us churn
// connections. Before its hello is verified the same faults only close the
// link and count as a failed attempt.
import { WireError } from '../wire/errors'
import { MEMBER_ID_PATTERN } from '../wire/limits'
import { LinkSecurity } from '../wire/link-security'
import type { MemberKey, MemberKeyScheme } from '../wire/member-key'
import { ReplayGuard, SealCounter } from '../wire/replay'
import type { RoomKey } from '../wire/room-key'
import { decodeControl, encodeControl, parseSignalingId, signalingId } from './control'
import type { ControlMessage } from './control'
import { TransportError } from './errors'
import { FramedLink } from './link'
import type { LinkOptions } from './link'
import { isPlainObject, Listeners } from './signaling'
import type { SignalData, SignalingChannel } from './signaling'
import { simplePeerPort } from './simple-peer-port'
import type { PeerFactory, PeerLike } from './simple-peer-port'
import type { Link, PeerHello, Transport } from './types'
import { lobbyCheck, roomKeySealer, signalingRoom } from './room-sealer'
import { Lobby } from './lobby'
import { HelloHandshake } from './hello-handshake'
import { PenaltyBox } from './penalties'
import type { PenaltyOptions } from './penalties'
import { AttemptSlots } from './attempt-slots'
import { realClock } from '../shared/clock'
import type { Clock, TimerHandle } from '../shared/clock'
import { Introductions } from './introductions'
import { ReportThrottle } from './report-throttle'
import { SignalFreshness } from './signal-freshness'
import type { SignalSealer } from './room-sealer'

export interface MeshTransportOptions {
  /** self.member must be identity.id */
  self: PeerHello
  /** the member's key (createMemberKey): its id is the member id, every hello is signed with it */
  identity: MemberKey
  room: string
  signaling: SignalingChannel[]
  peerFactory: PeerFactory
  iceServers?: RTCIceServer[]
  /** the room secret's key (deriveRoomKey): seals signaling, hellos and every link message */
  roomKey?: RoomKey
  link?: Omit<LinkOptions, 'security'>
  /** ms for an attempt to connect and exchange hellos (default 20 s) */
  connectTimeoutMs?: number
  /** retry backoff: base and cap in ms (default 250 ms, 10 s) */
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** consecutive failed attempts (or unanswered knocks) after which a peer
   *  is forgotten until it is announced again (default 10) */
  giveUpAfterFailures?: number
  /** how long a member that broke the protocol is refused (default 10 s, doubling to 10 min) */
  penalty?: PenaltyOptions
  /** bounds against made-up peers and replayed signals (defaults in PeerBounds) */
  bounds?: PeerBounds
  /** timers and time (default: real time); the node may pass its Clock */
  clock?: Clock
  /** uniform in [0, 1), for backoff jitter (default Math.random) */
  random?: () => number
  /** random bytes for attempt ids and handshake challenges (default
   *  crypto.getRandomValues); the simulator passes seeded ones */
  randomBytes?: (n: number) => Uint8Array
  /** how hellos are signed and checked (default webCryptoKeys, WebCrypto);
   *  the simulator passes synchronous seeded keys (src/testing) */
  keys?: MemberKeyScheme
}

/** Bounds against hostile announcements and replays (issue 13). */
export interface PeerBounds {
  /** WebRTC attempts in flight at once (default 8) */
  attemptsInFlight?: number
  /** of which for peers only a neighbour vouches for (default 4) */
  unvouchedAttemptsInFlight?: number
  /** peers one channel or neighbour may introduce that nothing else vouched for (default 64) */
  peersPerIntroducer?: number
  /** a neighbour whose introduced peers include this many that never answered,
   *  and more of those than real ones, is refused (default 8) */
  junkToRefuse?: number
  /** how far a sealed signal's time may be from ours (default 5 min) */
  signalWindowMs?: number
  /** bad signaling from one sender is reported at most once per this (default: the penalty's base, 10 s) */
  reportWindowMs?: number
}

type Route = SignalingChannel | { relayVia: string }

interface Attempt {
  id: string
  initiator: boolean
  peer: PeerLike
  timer: TimerHandle
  link: FramedLink | null
  /** this link's hello, key and proof exchange (made when the channel connects) */
  handshake: HelloHandshake | null
  /** our hello went out (proofs are sent after it, never before) */
  helloSent: Promise<void>
  /** the link is (or was) handed out: the peer's id is verified */
  established: boolean
}

interface Remote {
  id: string
  member: string
  tab: string
  /** channels that told us of this peer (or brought its signals), in order of preference */
  channels: Set<SignalingChannel>
  /** the neighbour (signaling id) that last relayed this peer's signals to us */
  relayVia: string | null
  attempt: Attempt | null
  link: FramedLink | null
  failures: number
  retry: TimerHandle | null
  /** the channel or neighbour that brought this peer in, until it is settled (introductions.ts) */
  introducer: string | null
  /** it linked with us once: a real peer */
  linkedOnce: boolean
}

const MAX_SIGNAL_JSON = 12 * 1024
/** peers we track at once (a room is a handful of tabs and devices; a
 *  signaling server lets 64 into a room) */
const MAX_REMOTES = 256
/** failed tries after which a peer only a neighbour vouches for is given up */
const UNVOUCHED_GIVE_UP = 1
const CHANNEL = 'channel:'
const ATTEMPT_ID = /^[A-Za-z0-9]{1,32}$/
const SIGNAL_CONTEXT = (from: string, to: string) => `signal:${from}->${to}`

export class MeshTransport implements Transport {
  readonly self: PeerHello
  readonly selfId: string
  private readonly remotes = new Map<string, Remote>()
  private readonly current = new Map<string, FramedLink>()
  private readonly linkListeners = new Listeners<[Link, PeerHello]>()
  private readonly errorListeners = new Listeners<[TransportError]>()
  /** for each link (by remote signaling id): the ids it says it has links to */
  private readonly relayPeers = new Map<string, Set<string>>()
  /** links our hello went out on: nothing else may be sent on a link before it */
  private readonly helloSent = new WeakSet<FramedLink>()
  private readonly unsubscribe: Array<() => void> = []
  private closed = false
  private readonly sealer: SignalSealer | undefined
  /** under a room key: one frame counter and one replay guard for all this
   *  member's links (a counter never repeats, a frame is taken once) */
  private readonly seal: { key: RoomKey; counter: SealCounter; guard: ReplayGuard } | undefined
  private readonly penalties: PenaltyBox
  private readonly clock: Clock
  private readonly random: () => number
  private readonly introductions: Introductions
  private readonly slots: AttemptSlots<Remote>
  private readonly freshness: SignalFreshness
  private readonly reports: ReportThrottle
  private lobby: Lobby | null = null

  constructor(private readonly opts: MeshTransportOptions) {
    this.self = opts.self
    this.selfId = signalingId(opts.self)
    this.clock = opts.clock ?? realClock
    this.random = opts.random ?? Math.random
    const now = () => this.clock.now()
    const bounds = opts.bounds ?? {}
    this.penalties = new PenaltyBox(opts.penalty, now)
    this.introductions = new Introductions({ perIntroducer: bounds.peersPerIntroducer, junkToRefuse: bounds.junkToRefuse })
    this.slots = new AttemptSlots<Remote>({ max: bounds.attemptsInFlight, maxUnvouched: bounds.unvouchedAttemptsInFlight }, (r) => isVouched(r), (r) => r.failures)
    this.freshness = new SignalFreshness(now, { windowMs: bounds.signalWindowMs })
    this.reports = new ReportThrottle(now, { windowMs: bounds.reportWindowMs ?? opts.penalty?.baseMs })
    if (opts.roomKey !== undefined) {
      this.sealer = roomKeySealer(opts.roomKey)
      this.seal = { key: opts.roomKey, counter: new SealCounter(), guard: new ReplayGuard() }
    }
    if (parseSignalingId(this.selfId) === null || !MEMBER_ID_PATTERN.test(opts.self.browser)) {
      throw new TransportError('BAD_ARGUMENTS', `member, tab and browser ids must match ${MEMBER_ID_PATTERN}`)
    }
    if (opts.identity?.id !== opts.self.member) throw new TransportError('BAD_ARGUMENTS', 'the member id must be the id of its key (identity.id)')
    for (const channel of opts.signaling) {
      this.unsubscribe.push(channel.onPeer((peer, present) => this.onPresence(channel, peer, present)))
      this.unsubscribe.push(channel.onSignal((from, data) => void this.onSignalData(from, data, channel)))
    }
    if (opts.roomKey === undefined) this.joinSignaling(opts.room)
    else void this.joinSealed(opts.roomKey)
  }

  /** under a room key: the members' room, named after the key, and the lobby
   *  on the plain name, where a holder of another secret is told (lobby.ts) */
  private async joinSealed(key: RoomKey): Promise<void> {
    let names: [string, string]
    try {
      names = await Promise.all([signalingRoom(key, this.opts.room), lobbyCheck(key, this.opts.room)])
    } catch (err) {
      return this.report(err, this.self.member)
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

  /** a peer was refused (UNAUTHORIZED) or sent what we do not accept */
  onError(fn: (err: TransportError) => void): () => void {
    return this.errorListeners.add(fn)
  }

  links(): Map<string, Link> {
    return new Map(this.current)
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
    for (const r of [...this.remotes.values()]) {
      if (r.member !== member) continue
      if (r.attempt !== null) this.failAttempt(r, r.attempt, why)
      r.link?.close(why)
    }
    this.current.get(member)?.close(why)
  }

  /** ms the member is still refused for (0: it is not); for diagnostics and tests */
  refusedFor(member: string): number {
    return this.penalties.remaining(member)
  }

  /** signaling ids of the peers this transport knows of (linked or being tried); for diagnostics */
  knownPeers(): string[] {
    return [...this.remotes.keys()].sort()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const u of this.unsubscribe) u()
    // the lobby first: its channels may ride on the signaling channels' connections
    this.lobby?.close()
    for (const channel of this.opts.signaling) channel.close()
    for (const r of this.remotes.values()) this.dropRemote(r, 'transport closed')
    for (const link of this.current.values()) link.close('transport closed')
    this.current.clear()
    this.linkListeners.clear()
  }

  // ---- discovery ----

  private onPresence(channel: SignalingChannel, id: string, present: boolean): void {
    if (this.closed || id === this.selfId) return
    if (!present) {
      const r = this.remotes.get(id)
      if (r === undefined) return
      r.channels.delete(channel)
      // a peer that left every channel is not chased any more; its link, if
      // any, lives on until the data channel itself closes
      if (r.channels.size === 0 && r.link === null && !this.reachableByRelay(id)) this.dropRemote(r, 'left')
      return
    }
    const r = this.remote(id, this.channelKey(channel))
    if (r === null) return
    r.channels.add(channel)
    // a channel vouches for it now: it no longer counts against a neighbour's share
    if (r.introducer !== null && !r.introducer.startsWith(CHANNEL)) this.settle(r, 'neutral')
    this.connect(r)
  }

  private channelKey(channel: SignalingChannel): string {
    return `${CHANNEL}${this.opts.signaling.indexOf(channel)}`
  }

  /** the peer `id`, known or new; null when it names none, is us, or its
   *  introducer's share (or the table) is full */
  private remote(id: string, introducer: string): Remote | null {
    let r = this.remotes.get(id)
    if (r !== undefined) return r
    const parsed = parseSignalingId(id)
    if (parsed === null || parsed.member === this.self.member) return null
    // peers announce peers: a hostile one could name thousands
    if (this.remotes.size >= MAX_REMOTES && !(introducer.startsWith(CHANNEL) && this.evictUnvouched())) return null
    if (!this.introductions.admit(introducer)) return null
    r = { id, member: parsed.member, tab: parsed.tab, channels: new Set(), relayVia: null, attempt: null, link: null, failures: 0, retry: null, introducer, linkedOnce: false }
    this.remotes.set(id, r)
    return r
  }

  /** make room for a peer a channel announces: forget an idle one only a neighbour vouches for */
  private evictUnvouched(): boolean {
    for (const r of this.remotes.values()) {
      if (!isVouched(r) && r.attempt === null && r.link === null) {
        this.dropRemote(r, 'table full')
        return true
      }
    }
    return false
  }

  /** an introduced peer proved real, junk, or neither: an introducer of mostly junk is refused */
  private settle(r: Remote, outcome: 'real' | 'junk' | 'neutral'): void {
    const introducer = r.introducer
    if (introducer === null) return
    r.introducer = null
    if (!this.introductions.settle(introducer, outcome) || introducer.startsWith(CHANNEL)) return
    const member = parseSignalingId(introducer)?.member
    if (member === undefined) return
    this.report(new TransportError('BAD_MESSAGE', `${introducer} announced peers that never answered`, member), member)
    this.refuse(member, 'announced peers that never answered')
    // its other introductions are as good as its word: forget those not linked
    for (const other of [...this.remotes.values()]) if (other.introducer === introducer && other.link === null) this.dropRemote(other, 'introducer refused')
  }

  private connect(r: Remote): void {
    if (this.closed || r.link !== null || r.attempt !== null || r.retry !== null) return
    const refused = this.penalties.remaining(r.member)
    // come back when the penalty ends (the peer may be gone by then)
    if (refused > 0) return this.retryIn(r, refused)
    if (this.selfId < r.id) {
      // no free slot: it waits its turn (attemptEnded hands it back)
      if (this.slots.take(r, true)) this.startAttempt(r, randomAttemptId(this.opts.randomBytes), true)
      return
    }
    // the other side initiates; ask it to, and ask again later if no offer
    // came (a knock may be lost on a channel that is still connecting)
    void this.sendSignal(r, { a: 'knock', k: 'knock' })
    r.failures++
    this.scheduleRetry(r)
  }

  private reachableByRelay(id: string): string | null {
    for (const [via, peers] of this.relayPeers) if (peers.has(id) && this.current.has(parseSignalingId(via)?.member ?? '')) return via
    return null
  }

  // ---- attempts ----

  private startAttempt(r: Remote, id: string, initiator: boolean): Attempt {
    const config: RTCConfiguration | undefined = this.opts.iceServers === undefined ? undefined : { iceServers: this.opts.iceServers }
    const peer = this.opts.peerFactory(config === undefined ? { initiator } : { initiator, config })
    const attempt: Attempt = {
      id,
      initiator,
      peer,
      link: null,
      handshake: null,
      helloSent: Promise.resolve(),
      established: false,
      timer: this.clock.setTimeout(() => this.failAttempt(r, attempt, 'connect timeout'), this.opts.connectTimeoutMs ?? 20_000),
    }
    r.attempt = attempt
    peer.on('signal', (data: unknown) => {
      if (r.attempt === attempt) void this.sendSignal(r, { a: id, k: 'sdp', s: data })
    })
    peer.on('error', () => {
      // the 'close' that follows reports it
    })
    peer.on('close', () => {
      if (attempt.link === null) this.failAttempt(r, attempt, 'peer connection closed')
    })
    peer.on('connect', () => this.onConnected(r, attempt))
    return attempt
  }

  private onConnected(r: Remote, attempt: Attempt): void {
    if (this.closed || r.attempt !== attempt) {
      attempt.peer.destroy()
      return
    }
    const seal = this.seal
    const security = seal === undefined ? null : new LinkSecurity(seal.key, this.self.member, seal.counter, seal.guard)
    const link = new FramedLink(r.member, simplePeerPort(attempt.peer), {
      ...this.opts.link,
      onError: (err) => {
        this.report(err, r.member)
        this.opts.link?.onError?.(err)
      },
      ...(security === null ? {} : { security }),
    })
    attempt.link = link
    attempt.handshake = new HelloHandshake({
      room: this.opts.room,
      self: this.self,
      selfId: this.selfId,
      peerId: r.id,
      peer: { member: r.member, tab: r.tab },
      attempt: attempt.id,
      identity: this.opts.identity,
      secured: security === null || this.sealer === undefined ? null : { security, sealer: this.sealer },
      ...(this.opts.keys === undefined ? {} : { keys: this.opts.keys }),
      ...(this.opts.randomBytes === undefined ? {} : { randomBytes: this.opts.randomBytes }),
    })
    // one control message at a time: opening a sealed hello is asynchronous,
    // and what follows the hello must not be read as one
    let chain = Promise.resolve()
    link.onControl((bytes) => {
      chain = chain.then(() => this.onControl(r, attempt, link, bytes)).catch((err: unknown) => this.report(err, r.member))
    })
    link.onClose((reason) => this.onLinkClosed(r, attempt, link, reason))
    attempt.helloSent = this.sendHello(r, attempt, attempt.handshake, link)
  }

  private async sendHello(r: Remote, attempt: Attempt, handshake: HelloHandshake, link: FramedLink): Promise<void> {
    try {
      const hello = await handshake.helloBytes()
      if (!link.open) return
      link.sendControl(hello)
      this.helloSent.add(link)
      if (attempt.established) this.announcePeers()
    } catch (err) {
      this.report(err, r.member)
      link.close('hello failed')
    }
  }

  private async onControl(r: Remote, attempt: Attempt, link: FramedLink, bytes: Uint8Array): Promise<void> {
    let msg: ControlMessage
    try {
      msg = decodeControl(bytes)
    } catch (err) {
      this.report(err, r.member)
      // only a verified peer is held to its id; an unverified one fails its attempt
      if (attempt.established) this.refuse(r.member, 'bad control message')
      else link.close('bad control message')
      return
    }
    if (!attempt.established) {
      const handshake = attempt.handshake
      if (handshake === null) return
      try {
        if (handshake.hello === null) {
          // the first control message must be the hello (sealed when we have a
          // secret); answer it with our proof, after our own hello
          await handshake.readHello(msg)
          const proof = await handshake.proofBytes()
          await attempt.helloSent
          if (link.open && !this.closed) link.sendControl(proof)
          return
        }
        // the second is the peer's proof: its id is verified, or the link goes
        const hello = await handshake.acceptProof(msg)
        if (!link.open || this.closed) return
        this.establish(r, attempt, link, hello)
      } catch (err) {
        this.report(err, r.member)
        link.close('refused')
      }
      return
    }
    if (msg.type === 'peers') {
      this.relayPeers.set(r.id, new Set(msg.peers))
      for (const id of msg.peers) {
        const other = id === this.selfId ? null : this.remote(id, r.id)
        if (other !== null) this.connect(other)
      }
    } else if (msg.type === 'relay') {
      if (msg.to === this.selfId) {
        // signaling meant for us; the relaying link vouches for nothing
        let data: unknown
        try {
          data = JSON.parse(msg.text)
        } catch {
          return this.report(new TransportError('BAD_MESSAGE', 'relayed signal is not JSON', r.member), r.member)
        }
        if (isPlainObject(data)) await this.onSignalData(msg.from, data, { relayVia: r.id })
        return
      }
      // forward for a neighbour: `from` is who we got it from, never what it claims
      const target = this.remotes.get(msg.to)?.link
      if (target?.open) target.sendControl(encodeControl({ type: 'relay', to: msg.to, from: r.id, text: msg.text }))
    }
  }

  private establish(r: Remote, attempt: Attempt, link: FramedLink, hello: PeerHello): void {
    // refused while the handshake ran
    if (this.penalties.remaining(r.member) > 0) return link.close('refused')
    attempt.established = true
    this.attemptLinked(r, attempt)
    const old = this.current.get(r.member)
    r.link = link
    this.current.set(r.member, link)
    // a newer link to the same member (a new tab of it, or a re-made link) wins
    if (old !== undefined && old !== link) old.close('replaced')
    for (const other of this.remotes.values()) {
      if (other !== r && other.member === r.member && other.link !== null && other.link !== link) other.link = null
    }
    this.linkListeners.emit(link, hello)
    this.announcePeers()
  }

  private onLinkClosed(r: Remote, attempt: Attempt, link: FramedLink, reason: string): void {
    // a verified peer sent a frame we do not accept: not re-made until its
    // penalty ends (an unverified one only fails its attempt, below)
    if (link.fault !== null && attempt.established) this.penalties.strike(r.member)
    if (this.current.get(r.member) === link) this.current.delete(r.member)
    // what a newer link of this peer announced stays
    if (r.link === link || r.link === null) this.relayPeers.delete(r.id)
    if (r.link === link) r.link = null
    if (!attempt.established) {
      this.failAttempt(r, attempt, reason)
      return
    }
    if (this.closed || reason === 'replaced') return
    // the peer may be gone for good (its tab closed), or the link failed: try
    // again while some channel still knows the peer
    if (r.channels.size > 0 || this.reachableByRelay(r.id) !== null) this.scheduleRetry(r)
    else this.remotes.delete(r.id)
    this.announcePeers()
  }

  private failAttempt(r: Remote, attempt: Attempt, reason: string): void {
    this.clock.clearTimeout(attempt.timer)
    if (attempt.link !== null && attempt.link.open) attempt.link.close(reason)
    else attempt.peer.destroy()
    if (r.attempt !== attempt) return
    r.attempt = null
    r.failures++
    if (!this.closed) this.scheduleRetry(r)
    this.attemptEnded(r)
  }

  /** the attempt linked: the peer is real, its slot frees */
  private attemptLinked(r: Remote, attempt: Attempt): void {
    this.clock.clearTimeout(attempt.timer)
    r.attempt = null
    r.failures = 0
    this.cancelRetry(r)
    r.linkedOnce = true
    this.settle(r, 'real')
    this.attemptEnded(r)
  }

  /** r's attempt is over (or r is forgotten): its slot goes to the next peer waiting */
  private attemptEnded(r: Remote): void {
    this.slots.release(r)
    if (this.closed) return
    for (let next = this.slots.next(); next !== undefined; next = this.slots.next()) {
      if (this.remotes.get(next.id) === next) this.connect(next)
    }
  }

  private scheduleRetry(r: Remote): void {
    if (r.retry !== null || this.closed) return
    // a peer only a neighbour vouches for gets two tries: made-up ids must not hold the table
    const giveUpAfter = isVouched(r) ? (this.opts.giveUpAfterFailures ?? 10) : Math.min(UNVOUCHED_GIVE_UP, this.opts.giveUpAfterFailures ?? 10)
    if (r.link === null && r.failures > giveUpAfter) {
      // a peer that never answers (a crashed tab that said no goodbye): forget
      // it; if it is alive, its next announcement brings it back
      this.dropRemote(r, 'unreachable')
      return
    }
    const base = this.opts.backoffBaseMs ?? 250
    const max = this.opts.backoffMaxMs ?? 10_000
    this.retryIn(r, Math.min(max, base * 2 ** Math.min(r.failures, 16)) * (0.5 + this.random() / 2))
  }

  /** connect to the peer again in `ms`, unless it was forgotten by then */
  private retryIn(r: Remote, ms: number): void {
    r.retry = this.clock.setTimeout(() => {
      r.retry = null
      if (this.remotes.get(r.id) === r) this.connect(r)
    }, ms)
  }

  private cancelRetry(r: Remote): void {
    if (r.retry !== null) this.clock.clearTimeout(r.retry)
    r.retry = null
  }

  private dropRemote(r: Remote, reason: string): void {
    this.cancelRetry(r)
    const attempt = r.attempt
    r.attempt = null
    if (attempt !== null) {
      this.clock.clearTimeout(attempt.timer)
      if (attempt.link !== null) attempt.link.close(reason)
      else attempt.peer.destroy()
    }
    this.remotes.delete(r.id)
    this.settle(r, reason === 'unreachable' ? 'junk' : 'neutral')
    this.attemptEnded(r)
  }

  /** tell every neighbour whom we have links to, so they can relay through us */
  private announcePeers(): void {
    if (this.closed) return
    const ids: string[] = []
    for (const r of this.remotes.values()) if (r.link !== null && r.link.open) ids.push(r.id)
    const msg = encodeControl({ type: 'peers', peers: ids.slice(0, 256) })
    for (const r of this.remotes.values()) {
      if (r.link !== null && r.link.open && this.helloSent.has(r.link)) {
        try {
          r.link.sendControl(msg)
        } catch {
          // closing under us
        }
      }
    }
  }

  // ---- signaling ----

  private async sendSignal(r: Remote, payload: { a: string; k: 'knock' | 'sdp'; s?: unknown }): Promise<void> {
    let data: SignalData = payload
    if (this.sealer !== undefined) {
      try {
        // stamped inside the seal, so a recorded signal cannot be replayed (signal-freshness.ts)
        data = { sealed: await this.sealer.seal(JSON.stringify({ ...payload, ...this.freshness.stamp() }), SIGNAL_CONTEXT(this.selfId, r.id)) }
      } catch (err) {
        return this.report(err, r.member)
      }
    }
    // one route per signal (a duplicated offer would break the attempt):
    // a connected channel, else a neighbour that can relay, else any channel
    const channels = [...r.channels]
    const live = channels.find((c) => c.connected)
    if (live !== undefined) return live.signal(r.id, data)
    const via = (r.relayVia !== null && this.remotes.get(r.relayVia)?.link?.open === true ? r.relayVia : null) ?? this.reachableByRelay(r.id)
    const viaLink = via === null ? undefined : this.remotes.get(via)?.link
    if (viaLink?.open) return viaLink.sendControl(encodeControl({ type: 'relay', to: r.id, from: this.selfId, text: JSON.stringify(data) }))
    channels[0]?.signal(r.id, data)
  }

  private async onSignalData(from: string, raw: SignalData, route: Route): Promise<void> {
    if (this.closed) return
    const sender = parseSignalingId(from)
    if (sender === null || sender.member === this.self.member) return
    // a refused member's offers and knocks go unanswered (nothing to open, parse or report)
    if (this.penalties.remaining(sender.member) > 0) return
    // under a room key, only what opens, fresh, takes a table entry or a report's attention
    const data = this.sealer === undefined ? raw : await this.openSignal(from, sender.member, raw)
    if (data === null || this.closed) return
    const signal = parseSignal(data)
    if (signal === null) {
      this.reportSignaling(from, new TransportError('BAD_MESSAGE', `malformed signal from ${from}`, sender.member))
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
      // they want a link and we initiate: start one unless one is under way
      if (this.selfId < r.id && r.attempt === null && (r.link === null || !r.link.open)) {
        this.cancelRetry(r)
        // no free slot: it waits its turn
        if (this.slots.take(r, true)) this.startAttempt(r, randomAttemptId(this.opts.randomBytes), true)
      }
      return
    }
    let attempt = r.attempt
    if (attempt === null || attempt.id !== signal.a) {
      if (this.selfId < r.id) return // a stale answer to an attempt we gave up
      // no free slot (and none of ours to hand over): unanswered, the initiator tries again
      if (!this.slots.take(r, false)) return
      // the initiator started (over): answer this attempt, drop ours
      if (attempt !== null) {
        r.attempt = null
        this.clock.clearTimeout(attempt.timer)
        if (attempt.link !== null) attempt.link.close('superseded')
        else attempt.peer.destroy()
      }
      this.cancelRetry(r)
      attempt = this.startAttempt(r, signal.a, false)
    }
    try {
      attempt.peer.signal(signal.s)
    } catch (err) {
      this.report(new TransportError('BAD_MESSAGE', `signal from ${from} rejected: ${String(err)}`, r.member), r.member)
    }
  }

  /** open a sealed signal and check it is fresh; null (reported at most once a window) if not */
  private async openSignal(from: string, member: string, raw: SignalData): Promise<{ [key: string]: unknown } | null> {
    if (this.sealer === undefined) return raw
    if (typeof raw.sealed !== 'string') return this.reportSignaling(from, new TransportError('UNAUTHORIZED', `unsealed signal from ${from}`, member))
    let data: unknown
    try {
      data = JSON.parse(await this.sealer.open(raw.sealed, SIGNAL_CONTEXT(from, this.selfId)))
    } catch {
      return this.reportSignaling(from, new TransportError('UNAUTHORIZED', `signal from ${from} does not open under the room key`, member))
    }
    if (!isPlainObject(data)) return this.reportSignaling(from, new TransportError('BAD_MESSAGE', `malformed signal from ${from}`, member))
    const stale = this.freshness.check(from, data.t, data.n)
    // a replay is a relay's or a server's doing, and the original was taken: nothing to tell
    if (stale === 'replay') return null
    if (stale === 'stale') return this.reportSignaling(from, new TransportError('BAD_MESSAGE', `signal from ${from} is outside the time window (clocks apart, or a replay)`, member))
    if (stale === 'malformed') return this.reportSignaling(from, new TransportError('BAD_MESSAGE', `signal from ${from} carries no time and nonce`, member))
    return data
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

/** a channel announced it, or it linked with us once: more than a neighbour's word */
function isVouched(r: Remote): boolean {
  return r.channels.size > 0 || r.linkedOnce
}

type ParsedSignal = { a: string; k: 'knock' } | { a: string; k: 'sdp'; s: { [key: string]: unknown } }

/** Check a signal payload from an untrusted channel. */
export function parseSignal(data: unknown): ParsedSignal | null {
  if (!isPlainObject(data) || typeof data.a !== 'string') return null
  if (data.k === 'knock') return { a: data.a, k: 'knock' }
  if (data.k !== 'sdp' || !ATTEMPT_ID.test(data.a) || !isPlainObject(data.s)) return null
  const s = data.s
  // a structured object (BroadcastChannel) may nest past the engine's stack:
  // stringify then throws RangeError, which must be a refusal, not a crash
  let json: string
  try {
    json = JSON.stringify(s)
  } catch {
    return null
  }
  if (json.length > MAX_SIGNAL_JSON) return null
  const okType = s.type === 'offer' || s.type === 'answer' ? typeof s.sdp === 'string' : s.type === 'candidate' ? isPlainObject(s.candidate) : s.renegotiate === true || isPlainObject(s.transceiverRequest)
  return okType ? { a: data.a, k: 'sdp', s } : null
}

function closeQuietly(channel: SignalingChannel): void {
  try {
    channel.close()
  } catch {
    // a channel that cannot even close: nothing more to do with it
  }
}

function randomAttemptId(randomBytes?: (n: number) => Uint8Array): string {
  const bytes = randomBytes?.(12) ?? globalThis.crypto.getRandomValues(new Uint8Array(12))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
