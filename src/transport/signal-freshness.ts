// Freshness of sealed signals. Sealing (room-sealer.ts) proves that a member
// of the room wrote a signal for this sender and receiver, not when: a
// hostile signaling server or relay could record sealed offers and replay
// them, and each replayed offer of another attempt would make the receiver
// create a new WebRTC peer. So every sealed signal carries, inside the seal,
// the sender's clock (`t`, ms) and a random nonce (`n`), and the receiver
// takes it only if
//  - `t` is within `windowMs` of its own clock (either way: clocks of two
//    devices differ a little), and
//  - it has not seen (sender, n) before, and `t` is above the sender's floor.
// The seen-set is bounded: per sender, nonces are kept while their `t` is in
// the window, at most `perSender`; one evicted early raises that sender's
// floor to its `t`, so a replay of it is still refused (as too old to tell).
// Senders are remembered up to `maxSenders`; evicting one raises a floor for
// everyone. Only signals that opened under the room key reach this check, so
// only members of the room can fill it.

import { platformRandomBytes, randomHex } from './randomness'
import type { RandomBytes } from './randomness'

export interface FreshnessLimits {
  /** how far a signal's time may be from ours (default 5 min) */
  windowMs?: number
  /** nonces remembered per sender (default 1024) */
  perSender?: number
  /** senders remembered (default 256) */
  maxSenders?: number
}

export type Staleness = 'stale' | 'replay' | 'malformed'

interface Sender {
  /** times by nonce, in arrival order */
  readonly seen: Map<string, number>
  floor: number
}

const NONCE = /^[A-Za-z0-9_-]{16,64}$/

export class SignalFreshness {
  private readonly senders = new Map<string, Sender>()
  /** raised when a whole sender is forgotten */
  private floor = -Infinity
  private readonly windowMs: number
  private readonly perSender: number
  private readonly maxSenders: number

  constructor(
    private readonly now: () => number,
    limits: FreshnessLimits = {},
    /** the nonces' bytes (default crypto.getRandomValues; a simulator seeds it) */
    private readonly randomBytes: RandomBytes = platformRandomBytes,
  ) {
    this.windowMs = limits.windowMs ?? 300_000
    this.perSender = limits.perSender ?? 1024
    this.maxSenders = limits.maxSenders ?? 256
  }

  /** what to seal with a signal: our time and a fresh nonce */
  stamp(): { t: number; n: string } {
    return { t: this.now(), n: randomHex(this.randomBytes, 16) }
  }

  /** take (sender's) signal stamped (t, n) once: null if fresh, else why not */
  check(sender: string, t: unknown, n: unknown): Staleness | null {
    if (typeof t !== 'number' || !Number.isFinite(t) || typeof n !== 'string' || !NONCE.test(n)) return 'malformed'
    const now = this.now()
    if (Math.abs(now - t) > this.windowMs) return 'stale'
    let s = this.senders.get(sender)
    if (s !== undefined && (s.seen.has(n) || t <= s.floor)) return 'replay'
    if (t <= this.floor) return 'replay'
    if (s === undefined) {
      s = { seen: new Map(), floor: -Infinity }
      this.senders.set(sender, s)
      if (this.senders.size > this.maxSenders) this.forgetOldestSender()
    } else {
      // most recently heard last: eviction takes the quietest sender
      this.senders.delete(sender)
      this.senders.set(sender, s)
    }
    // nonces whose time left the window need no memory: the window refuses them
    for (const [nonce, at] of s.seen) {
      if (at >= now - this.windowMs && s.seen.size < this.perSender) break
      s.seen.delete(nonce)
      s.floor = Math.max(s.floor, at)
    }
    s.seen.set(n, t)
    return null
  }

  private forgetOldestSender(): void {
    const [id, s] = this.senders.entries().next().value!
    this.senders.delete(id)
    for (const at of s.seen.values()) this.floor = Math.max(this.floor, at)
    this.floor = Math.max(this.floor, s.floor)
  }
}
