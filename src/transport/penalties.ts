// Penalties: a member that broke the protocol on a link (a frame that breaks
// the framing or does not open under the room key, a control message we do
// not speak, or — reported by the node — a message that does not decode) is
// refused for a while: its links are closed, its offers go unanswered, and
// no attempt is made to it. Dropping the link alone is not enough: the
// transport would re-make it at once (the peer is still announced), and a
// hostile peer could keep us making WebRTC connections, each costing ICE,
// DTLS and native state (the churn under which @roamhq/wrtc has crashed).
//
// The refusal doubles with every offence (base, 2×base, 4×base... up to the
// cap) and the count is forgotten after a long clean spell, so a peer that
// hit a bug once is back soon and one that keeps at it waits long. The book
// is bounded: a hostile peer can make up ids, and the oldest entry goes first.

import { realClock } from '../shared/clock'

export interface PenaltyOptions {
  /** first refusal, in ms (default 10 s) */
  baseMs?: number
  /** longest refusal, in ms (default 10 min) */
  maxMs?: number
  /** offences are forgotten this long after the last refusal ended (default 30 min) */
  forgetAfterMs?: number
  /** members tracked at once (default 1024) */
  maxEntries?: number
}

interface Entry {
  offences: number
  /** refused until this time (the clock's ms) */
  until: number
}

export class PenaltyBox {
  private readonly entries = new Map<string, Entry>()
  private readonly baseMs: number
  private readonly maxMs: number
  private readonly forgetAfterMs: number
  private readonly maxEntries: number

  constructor(
    opts: PenaltyOptions = {},
    private readonly now: () => number = () => realClock.now(),
  ) {
    this.baseMs = opts.baseMs ?? 10_000
    this.maxMs = opts.maxMs ?? 600_000
    this.forgetAfterMs = opts.forgetAfterMs ?? 1_800_000
    this.maxEntries = opts.maxEntries ?? 1024
  }

  /** record an offence; returns how long (ms) the member is refused from now.
   *  A second offence while refused (frames already in flight) adds nothing. */
  strike(member: string): number {
    const now = this.now()
    const prior = this.current(member, now)
    if (prior !== undefined && prior.until > now) return prior.until - now
    const offences = (prior?.offences ?? 0) + 1
    const ms = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(offences - 1, 30))
    this.entries.delete(member) // re-inserted last: the map's order is the eviction order
    this.entries.set(member, { offences, until: now + ms })
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    return ms
  }

  /** ms the member is still refused for; 0 when it is not */
  remaining(member: string): number {
    const now = this.now()
    const e = this.current(member, now)
    return e === undefined ? 0 : Math.max(0, e.until - now)
  }

  /** offences on record (forgotten after a clean spell) */
  offences(member: string): number {
    return this.current(member, this.now())?.offences ?? 0
  }

  private current(member: string, now: number): Entry | undefined {
    const e = this.entries.get(member)
    if (e !== undefined && now - e.until > this.forgetAfterMs) {
      this.entries.delete(member)
      return undefined
    }
    return e
  }
}
