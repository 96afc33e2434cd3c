// What a MeshTransport is made of and tuned by. Every field that reaches for
// time or chance (clock, random, randomBytes) has a platform default, so an
// app passes none of them and a simulator passes all three.
import type { Clock } from '../shared/clock'
import type { MemberKey, MemberKeyScheme } from '../wire/member-key'
import type { RoomKey } from '../wire/room-key'
import type { LinkOptions } from './link'
import type { PenaltyOptions } from './penalties'
import type { RandomBytes } from './randomness'
import type { SignalingChannel } from './signaling'
import type { PeerFactory } from './simple-peer-port'
import type { PeerHello } from './types'

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
  /** random bytes for attempt ids, lobby ids and signal nonces (default
   *  crypto.getRandomValues); a simulator passes a seeded one */
  randomBytes?: RandomBytes
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

/** the defaults of the timing options above */
export const MESH_DEFAULTS = {
  connectTimeoutMs: 20_000,
  backoffBaseMs: 250,
  backoffMaxMs: 10_000,
  giveUpAfterFailures: 10,
} as const
