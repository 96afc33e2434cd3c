// Introductions: who told us of a peer we did not know. A signaling channel
// announces the peers of its room; a linked neighbour announces the peers it
// has links to ('peers') and names the origin of the signals it relays
// ('relay'). None of them proves the peer exists, and each new peer costs a
// table entry and, soon, a WebRTC attempt (ICE, DTLS, native state). So:
//  - an introducer may have at most `perIntroducer` peers in our table that
//    nothing else vouched for yet (an honest neighbour of a full room of 64
//    stays under it; a hostile one naming 512 made-up ids does not);
//  - every introduced peer is settled once: it linked (real), was given up
//    because it never answered (junk), or left or was confirmed otherwise
//    (neutral). An introducer with `junkToRefuse` junk peers and more junk
//    than real ones has told us mostly lies: the caller refuses it.
// The book is bounded: at most `maxIntroducers` records, the oldest dropped.

export interface IntroductionLimits {
  /** unsettled peers one introducer may have in the table (default 64) */
  perIntroducer?: number
  /** junk peers after which an introducer of mostly junk is refused (default 8) */
  junkToRefuse?: number
  /** introducers remembered at once (default 1024) */
  maxIntroducers?: number
}

export type Outcome = 'real' | 'junk' | 'neutral'

interface Record {
  /** introduced peers not settled yet */
  open: number
  real: number
  junk: number
}

export class Introductions {
  private readonly book = new Map<string, Record>()
  readonly perIntroducer: number
  private readonly junkToRefuse: number
  private readonly maxIntroducers: number

  constructor(limits: IntroductionLimits = {}) {
    this.perIntroducer = limits.perIntroducer ?? 64
    this.junkToRefuse = limits.junkToRefuse ?? 8
    this.maxIntroducers = limits.maxIntroducers ?? 1024
  }

  /** may `introducer` bring in one more peer? If so it is counted as open. */
  admit(introducer: string): boolean {
    const rec = this.record(introducer)
    if (rec.open >= this.perIntroducer) return false
    rec.open++
    return true
  }

  /** a peer `introducer` brought in is settled; true when the introducer has
   *  now told mostly junk and should be refused (its record starts over) */
  settle(introducer: string, outcome: Outcome): boolean {
    const rec = this.book.get(introducer)
    if (rec === undefined) return false
    rec.open = Math.max(0, rec.open - 1)
    if (outcome === 'real') rec.real++
    if (outcome !== 'junk') return false
    rec.junk++
    if (rec.junk < this.junkToRefuse || rec.junk <= rec.real) return false
    rec.junk = 0
    rec.real = 0
    return true
  }

  private record(introducer: string): Record {
    let rec = this.book.get(introducer)
    if (rec === undefined) {
      rec = { open: 0, real: 0, junk: 0 }
      this.book.set(introducer, rec)
      if (this.book.size > this.maxIntroducers) this.book.delete(this.book.keys().next().value!)
    }
    return rec
  }
}
