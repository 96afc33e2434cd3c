// Report throttle: how often bad signaling from one sender reaches the app as
// an error event. Under a room secret an outsider on the signaling path (a
// BroadcastChannel of the same origin, a hostile server) can send unsealed
// or unopenable signals at will; each one is dropped, but reporting each
// would hand the outsider the app's error channel. A sender is reported at
// most once per window, and at most `maxPerWindow` reports go out per window
// over all senders (made-up sender ids cost the outsider nothing).
// We do not refuse the sender (penalties.ts): on signaling its id is only
// what the channel says, and refusing it would cut the real member's links.

export interface ReportThrottleLimits {
  /** a sender is reported at most once per window (default 10 s) */
  windowMs?: number
  /** reports per window over all senders (default 16) */
  maxPerWindow?: number
}

export class ReportThrottle {
  /** last report time by sender, oldest first */
  private readonly last = new Map<string, number>()
  private windowStart = -Infinity
  private inWindow = 0

  constructor(
    private readonly now: () => number,
    private readonly limits: ReportThrottleLimits = {},
  ) {}

  /** may `sender` be reported now? (if so, it counts as reported) */
  allow(sender: string): boolean {
    const now = this.now()
    const windowMs = this.limits.windowMs ?? 10_000
    // senders last reported before the window need no memory
    for (const [id, at] of this.last) {
      if (now - at < windowMs) break
      this.last.delete(id)
    }
    if (now - this.windowStart >= windowMs) {
      this.windowStart = now
      this.inWindow = 0
    }
    if (this.last.has(sender) || this.inWindow >= (this.limits.maxPerWindow ?? 16)) return false
    this.inWindow++
    this.last.set(sender, now)
    return true
  }
}
