// What a member does when it cannot reach a quorum (design: "a member that
// cannot reach a quorum says so and its writes fail fast").
//
// QuorumContact (quorum-contact.ts) counts who spoke lately; this piece turns
// that into the app-visible state (ConnectionState: connected, suspended,
// lost) and, under WhenNoQuorum 'fail', fails the writes never sent and the
// reads waiting for a leader's confirmation, at once, instead of letting them
// run to their timeout. It never decides safety (invariant 3): a commit still
// needs the core's quorum.
import type { WhenNoQuorum } from '../shared/types'
import { MeshError } from '../shared/errors'
import type { MemberContext } from './member-context'
import { QuorumContact, whenNoQuorumOption } from './quorum-contact'
import type { SessionKeeper } from './sessions'

export class NoQuorumHandling {
  /** who spoke lately: can this member reach a quorum */
  readonly contact: QuorumContact
  private readonly whenNoQuorum: WhenNoQuorum
  /** the leader we followed when we found our link to it closed, and when; null while a linked leader is known */
  private unlinkedLeader: { id: string; at: number } | null = null

  constructor(
    private readonly ctx: MemberContext,
    private readonly sessions: SessionKeeper,
    /** how often every member introduces itself (a period the contact counts silence against) */
    introductionEveryTicks: number,
  ) {
    this.whenNoQuorum = whenNoQuorumOption(ctx.opts.whenNoQuorum)
    this.contact = new QuorumContact(ctx.id, { electionTicks: ctx.timing.electionTicks, introductionEveryTicks })
  }

  /** Recompute the connection state from what we heard; fail fast what cannot wait. */
  update(): void {
    const ctx = this.ctx
    const conf = ctx.running ? ctx.raft.status().conf : null
    const inConf = conf !== null && ctx.inConfiguration(conf)
    const quorum = conf !== null && this.contact.reachable(ctx.lead, conf)
    const now = ctx.clock.now()
    ctx.connection.update(quorum && inConf && this.sessions.own.open && this.leaderLinked(now), now, ctx.sessionTimeoutMs, quorum)
    if (this.failsFast()) {
      this.sessions.requests.failWithoutQuorum()
      this.sessions.reads.failAll(new MeshError('NO_QUORUM', 'the quorum was lost: the leader cannot confirm a read'))
    }
  }

  /**
   * Our keepalives reach the leader only over our link to it. Once that link
   * has been closed for a third of `vanishedAfterMs`, the leader may end our
   * session soon (sessions.ts: it ends the sessions of members it lost its
   * link to), so we say `suspended` before it can: an app that stops acting
   * on `suspended` never acts on a session already ended. It lasts until a
   * leader we are linked to is known (an election in between keeps it), or
   * a death certificate tells us the leader is gone for good (its successor
   * runs in our browser, linked: reportLeaderGone).
   */
  private leaderLinked(now: number): boolean {
    const ctx = this.ctx
    const lead = ctx.lead
    if (lead !== null && (lead === ctx.id || ctx.links.has(lead))) this.unlinkedLeader = null
    else if (lead !== null) this.unlinkedLeader ??= { id: lead, at: now }
    return this.unlinkedLeader === null || now - this.unlinkedLeader.at < ctx.timing.vanishedAfterMs / 3
  }

  /** a death certificate for `member`: if it is the leader we lost the link to, the link says nothing about our session */
  reportLeaderGone(member: string): void {
    if (this.unlinkedLeader?.id === member) this.unlinkedLeader = null
  }

  /** no quorum in reach and writes fail fast rather than wait (WhenNoQuorum) */
  failsFast(): boolean {
    return this.whenNoQuorum === 'fail' && this.ctx.connection.withoutQuorum
  }
}
