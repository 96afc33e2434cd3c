// Can this member reach a quorum? The Raft core answers "is a leader known"
// only late: a cut-off follower keeps its leader until its randomized
// election timeout fires (one to two timeouts), and a cut-off leader leads
// until a CheckQuorum round finds it alone (up to two timeouts). To say so
// within about one election timeout, a member counts for itself, in its own
// ticks, how long each peer has been silent:
//   - a leader reaches a quorum while a majority of its voters (of both
//     configurations during a joint change), itself included, spoke within
//     an election timeout: what CheckQuorum will decide at its next round
//     (followers answer every heartbeat);
//   - a follower reaches one while its leader spoke within an election
//     timeout (the leader vouches for its own quorum);
//   - without a leader in touch (its leader silent, or an election under
//     way), a member reaches one while a majority of voters, itself
//     included, spoke lately — not counting the silent leader. Members only
//     hear each other through the cluster introduction every member
//     broadcasts every few ticks, so "lately" is that period plus a margin.
//     This keeps the majority side of a partition, or of a leader crash,
//     from calling itself cut off while it elects a new leader — for as
//     long as an election may take (ELECTION_ROUNDS timeouts): a member that
//     hears others but never a leader (cut from the leader alone, its
//     pre-votes refused by members that still hear it) cannot win, and says so.
// Ticks, not milliseconds: a hidden tab's timers are throttled, and so are
// its ticks and the leader's heartbeats, alike (see visibility.ts). Any
// message from a peer proves the link carries its traffic; a leader is in
// touch only through what leaders send (appends, heartbeats, snapshots): a
// deposed leader still introduces itself, and a member following it would
// otherwise never notice it follows nobody.
//
// This only informs the app and decides fail-fast; it never decides safety
// (invariant 3): a commit still needs the core's quorum.
import type { ConfState, Message } from '../raft/types'
import type { WhenNoQuorum } from '../shared/types'
import { MeshError } from '../shared/errors'

/** Ticks of delivery jitter allowed on top of a peer's period before it counts as silent. */
const JITTER_TICKS = 3
/** Election timeouts a member without a leader may take to elect one before it is cut off
 *  (a randomized timeout is up to two; one more for a split vote) */
const ELECTION_ROUNDS = 3

export class QuorumContact {
  private ticks = 0
  private readonly heardAt = new Map<string, number>()
  /** when each peer last sent what only a leader sends */
  private readonly ledAt = new Map<string, number>()
  /** the last leader we followed: once silent, it is no evidence of a quorum */
  private lastLeader: string | null = null
  /** the tick a leader was last in touch (or this member led with a quorum) */
  private ledLately = 0
  /** how long a leader's silence is tolerated: an election timeout */
  private readonly leaderWindow: number
  /** how long another member's silence is tolerated: its introduction period, plus jitter */
  private readonly peerWindow: number

  constructor(
    private readonly self: string,
    timing: { electionTicks: number; introductionEveryTicks: number },
  ) {
    this.leaderWindow = timing.electionTicks
    this.peerWindow = Math.max(timing.electionTicks, timing.introductionEveryTicks) + JITTER_TICKS
  }

  tick(): void {
    this.ticks++
  }

  /** a message from `peer` arrived */
  heard(peer: string): void {
    this.heardAt.set(peer, this.ticks)
  }

  /** a raft message from `peer` was accepted */
  heardRaft(peer: string, m: Message): void {
    if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') this.ledAt.set(peer, this.ticks)
  }

  /** this member follows `lead`, and it led lately */
  leaderInTouch(lead: string | null): boolean {
    if (lead === null || lead === this.self) return lead !== null
    const at = this.ledAt.get(lead)
    return at !== undefined && this.ticks - at <= this.leaderWindow
  }

  /** Is a quorum in reach, by what this member heard lately? */
  reachable(lead: string | null, conf: ConfState): boolean {
    const inTouch = lead === this.self ? this.majority(conf, (p) => this.recent(p, this.leaderWindow)) : this.leaderInTouch(lead)
    if (lead !== null && lead !== this.self) this.lastLeader = lead
    if (inTouch) this.ledLately = this.ticks
    if (inTouch || lead === this.self) return inTouch
    // no leader in touch: an election may be under way among those we hear
    if (this.ticks - this.ledLately > ELECTION_ROUNDS * this.leaderWindow) return false
    return this.majority(conf, (p) => p !== this.lastLeader && this.recent(p, this.peerWindow))
  }

  private recent(peer: string, window: number): boolean {
    if (peer === this.self) return true
    const at = this.heardAt.get(peer)
    return at !== undefined && this.ticks - at <= window
  }

  private majority(conf: ConfState, inTouch: (peer: string) => boolean): boolean {
    const of = (voters: string[]): boolean => voters.filter(inTouch).length > voters.length / 2
    return of(conf.voters) && (conf.votersOutgoing.length === 0 || of(conf.votersOutgoing))
  }
}

/** The `whenNoQuorum` option, checked: anything but 'fail' or 'wait' is refused. */
export function whenNoQuorumOption(value: unknown): WhenNoQuorum {
  if (value === undefined) return 'fail'
  if (value === 'fail' || value === 'wait') return value
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition, @typescript-eslint/no-base-to-string -- JSON.stringify gives undefined for a function or symbol, whatever its type says
  throw new MeshError('BAD_ARGUMENTS', `whenNoQuorum must be 'fail' or 'wait', not ${JSON.stringify(value) ?? String(value)}`)
}
