// What one signaling server allows each socket. The server relays only the
// handshake of WebRTC (join, peers, signal, leave), never mesh traffic, so
// these limits can be tight: a busy mesh of 64 tabs exchanges a few hundred
// small messages when it forms and almost nothing afterwards.

export interface SignalingLimits {
  /** largest text frame accepted, in bytes (UTF-8); larger gets TOO_LARGE */
  maxMessageBytes: number
  /** token bucket per socket: sustained messages per second ... */
  messagesPerSecond: number
  /** ... and the burst it may spend at once */
  messageBurst: number
  /** peers in one room; one more gets ROOM_FULL */
  maxPeersPerRoom: number
  /** rooms one socket may be in at once; one more gets ROOM_FULL too */
  maxRoomsPerSocket: number
  maxRoomNameLength: number
  maxPeerIdLength: number
  /** the characters a room name or peer id may use */
  idPattern: RegExp
  /** violations (bad messages, rate, size) a socket may commit before it is dropped */
  maxViolations: number
  /** sockets connected at once; more are refused at the upgrade */
  maxSockets: number
  /** bytes queued to one socket that it has not read; a socket that falls this
   *  far behind is cut (it reconnects) rather than let the server's memory grow */
  maxBufferedBytes: number
  /** nesting of objects and arrays in one message; deeper is BAD_MESSAGE (a
   *  value nested thousands deep overflows the stack of whatever walks it) */
  maxJsonDepth: number
  /** sockets from one remote address (an IPv6 /64 is one address); more are refused with 429 */
  maxSocketsPerAddress: number
  /** peers from one remote address in any one room; one more gets ROOM_FULL */
  maxRoomPeersPerAddress: number
  /** a message begun (first fragment, or part of a frame) must be complete within this (ms) */
  messageDeadlineMs: number
  /** a socket must join its first room within this (ms) of connecting */
  joinDeadlineMs: number
  /** pieces (frames) one message may come in */
  maxFragments: number
}

export const DEFAULT_LIMITS: Readonly<SignalingLimits> = Object.freeze({
  maxMessageBytes: 64 * 1024,
  messagesPerSecond: 50,
  messageBurst: 200,
  maxPeersPerRoom: 64,
  maxRoomsPerSocket: 8,
  maxRoomNameLength: 256,
  maxPeerIdLength: 128,
  // URL-safe and base64 characters: room names are often hashes of a secret
  idPattern: /^[A-Za-z0-9._~:@+=/-]+$/,
  maxViolations: 20,
  maxSockets: 10_000,
  // a signal is a few KB; a newcomer to a full room is sent ~64 of them, and
  // the kernel's socket buffers hold the first megabytes before this counts
  maxBufferedBytes: 512 * 1024,
  // a WebRTC signal is nested 3 or 4 deep
  maxJsonDepth: 32,
  // a household or an office behind one NAT, with many tabs each
  maxSocketsPerAddress: 128,
  // half a room: one address alone cannot fill one
  maxRoomPeersPerAddress: 32,
  messageDeadlineMs: 10_000,
  joinDeadlineMs: 10_000,
  // browsers and ws send a message in one frame
  maxFragments: 16,
})

/** A token bucket over a clock the caller gives (real time in the server,
 *  a stepped clock in tests). */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst
    this.last = now()
  }

  /** Spend one token if there is one. */
  take(): boolean {
    const t = this.now()
    const elapsed = Math.max(0, t - this.last)
    this.last = t
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
