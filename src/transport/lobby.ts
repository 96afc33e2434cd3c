// The lobby (issue 13): under a room secret the members meet in a signaling
// room named after the key (room-sealer.ts signalingRoom), so a member with a
// wrong secret would meet nobody and silently found a cluster of its own. The
// lobby tells it. Every member with a secret also joins the room's plain name,
// over the same signaling connections (SignalingChannel.sibling), under a
// fresh random id that says nothing of its member id, and shows whoever
// appears there the room's key check (room-sealer.ts lobbyCheck). A check that
// differs from ours comes from a holder of another secret (or from someone
// posing as one); a member id in the plain room is a member without a secret.
// Either is reported UNAUTHORIZED on the transport's error path. Nobody is
// refused and nothing is linked: the lobby makes no connection, hands nothing
// to the node, and its id is never the member's.
//
// What an outsider in the plain room learns: that someone holding some key
// is there (the server's room list says as much), and a value it can test
// guesses of a weak secret against — as it can the derived room name the
// server sees. Only a strong secret defends against guessing.
//
// The lobby is hostile: a check goes to one lobby peer at most once per
// window and to at most `answersPerWindow` peers per window (a report
// throttle serves as the rate limit, so its memory is bounded too), what
// arrives is checked for shape and size, and the caller throttles reports.
import { parseSignalingId } from './control'
import { TransportError } from './errors'
import { ReportThrottle } from './report-throttle'
import { platformRandomBytes, randomHex } from './randomness'
import type { RandomBytes } from './randomness'
import type { SignalData, SignalingChannel } from './signaling'

export interface LobbyOptions {
  /** the room's plain name (what the app passed) */
  room: string
  /** our key check (room-sealer.ts lobbyCheck) */
  check: string
  /** one lobby channel per signaling channel (its sibling), not yet joined */
  channels: SignalingChannel[]
  now: () => number
  /** the bytes of our lobby id (default crypto.getRandomValues) */
  randomBytes?: RandomBytes
  /** a peer is shown our check at most once per this (default 10 s) */
  windowMs?: number
  /** peers shown our check per window, over all (default 16) */
  answersPerWindow?: number
  /** someone in the lobby holds another key, or none */
  mismatch: (err: TransportError) => void
}

/** a check is 43 base64url characters; anything much longer is not one */
const MAX_CHECK_CHARS = 64
const LOBBY_CHECK = 'check'

export class Lobby {
  /** our id in the lobby: random, never derived from the member id */
  readonly id: string
  private readonly answers: ReportThrottle
  private readonly unsubscribe: (() => void)[] = []
  private closed = false

  constructor(private readonly opts: LobbyOptions) {
    this.id = `lobby.${randomHex(opts.randomBytes ?? platformRandomBytes, 16)}`
    this.answers = new ReportThrottle(opts.now, { windowMs: opts.windowMs, maxPerWindow: opts.answersPerWindow })
    for (const channel of opts.channels) {
      this.unsubscribe.push(channel.onPeer((peer, present) => present && this.arrived(channel, peer)))
      this.unsubscribe.push(channel.onSignal((from, data) => this.received(channel, from, data)))
      channel.join(opts.room, this.id)
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const u of this.unsubscribe) u()
    for (const channel of this.opts.channels) channel.close()
  }

  private arrived(channel: SignalingChannel, peer: string): void {
    if (this.closed || peer === this.id) return
    // a member id: a member of this room running without the secret (it never reads a check)
    if (parseSignalingId(peer) !== null) {
      this.opts.mismatch(new TransportError('UNAUTHORIZED', `a member without the room secret is in room ${this.opts.room}`))
      return
    }
    this.show(channel, peer)
  }

  private received(channel: SignalingChannel, from: string, data: SignalData): void {
    if (this.closed || from === this.id) return
    // not a check: an outsider's noise, dropped unread
    if (data.lobby !== LOBBY_CHECK || typeof data.v !== 'string' || data.v.length > MAX_CHECK_CHARS) return
    if (data.v !== this.opts.check) {
      this.opts.mismatch(new TransportError('UNAUTHORIZED', `a peer in room ${this.opts.room} holds another room secret (is the secret mistyped here or there?)`))
    }
    // our arrival may never have reached it: show ours back (once a window)
    this.show(channel, from)
  }

  private show(channel: SignalingChannel, peer: string): void {
    if (this.answers.allow(peer)) channel.signal(peer, { lobby: LOBBY_CHECK, v: this.opts.check })
  }
}
