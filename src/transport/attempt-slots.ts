// Attempt slots: how many WebRTC connection attempts run at once. Each
// attempt costs ICE gathering, a DTLS handshake and native state until it
// connects or times out, so a peer table full of made-up ids must not turn
// into hundreds of attempts at once. At most `max` attempts are in flight;
// peers nobody vouched for but an introducer (a neighbour's word) may hold at
// most `maxUnvouched` of them, so made-up ids can never take the slots a peer
// announced by a signaling channel (or once linked) needs.
// Answering a peer's offer may use up to `max` more slots than initiating:
// the initiator already spends a slot on it and waits for our answer until
// its connect timeout (20 s), so an offer left unanswered because our own
// attempts hold every slot costs a whole timeout (a newcomer busy trying
// every tab left its leader's offer unanswered: 16 tabs over 4 browsers
// formed ~15 s late, issue 17). Made-up ids still find at most twice `max`
// attempts, and unvouched ones `maxUnvouched`.
// A peer we would initiate to that finds no slot waits; when a slot frees,
// vouched peers go first (the longest waiting first), then the unvouched peer
// with the most failed tries: its next failure may be its last, and every
// verdict on a made-up id frees a place and brings its introducer closer to
// being refused (discovery.ts), where a fresh one would only start over.

export interface AttemptSlotLimits {
  /** attempts in flight at once (default 8) */
  max?: number
  /** of which for unvouched peers (default half of max) */
  maxUnvouched?: number
}

export class AttemptSlots<T> {
  private readonly inFlight = new Set<T>()
  /** insertion order: the longest waiting first */
  private readonly waiting = new Set<T>()
  readonly max: number
  private readonly maxUnvouched: number

  constructor(
    limits: AttemptSlotLimits,
    private readonly vouched: (peer: T) => boolean,
    private readonly failures: (peer: T) => number = () => 0,
  ) {
    this.max = Math.max(1, limits.max ?? 8)
    this.maxUnvouched = Math.min(this.max, Math.max(1, limits.maxUnvouched ?? Math.ceil(this.max / 2)))
  }

  /** take a slot for `peer` (true), or false; with `wait`, a peer that found
   *  none is queued and handed back by next() when one frees. `answering`:
   *  for an answer to the peer's offer, which may use up to `max` more */
  take(peer: T, wait: boolean, answering = false): boolean {
    if (this.inFlight.has(peer)) return true
    if (this.fits(peer, answering ? this.max : 0)) {
      this.waiting.delete(peer)
      this.inFlight.add(peer)
      return true
    }
    if (wait) this.waiting.add(peer)
    return false
  }

  /** the attempt of `peer` ended (or it is forgotten): its slot frees */
  release(peer: T): void {
    this.inFlight.delete(peer)
    this.waiting.delete(peer)
  }

  /** the waiting peer to try now, if a slot fits one (it leaves the queue) */
  next(): T | undefined {
    let pick: T | undefined
    for (const peer of this.waiting) {
      if (!this.fits(peer)) continue
      if (this.vouched(peer)) {
        pick = peer
        break
      }
      if (pick === undefined || this.failures(peer) > this.failures(pick)) pick = peer
    }
    if (pick !== undefined) this.waiting.delete(pick)
    return pick
  }

  get running(): number {
    return this.inFlight.size
  }

  private fits(peer: T, extra = 0): boolean {
    if (this.inFlight.size >= this.max + extra) return false
    if (this.vouched(peer)) return true
    let unvouched = 0
    for (const p of this.inFlight) if (!this.vouched(p)) unvouched++
    return unvouched < this.maxUnvouched
  }
}
