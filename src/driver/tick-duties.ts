// The member's tick: every periodic duty, in one fixed order (the
// simulator's runs depend on it), every tickMs. Everyone ticks the core,
// flushes its requests and keeps its session alive; a follower asks to join
// and tells a new leader its facts; only the leader proposes session
// expiries and reaps, runs membership rounds and broadcasts its roster.
// A tick that throws is reported and the next tick still comes (a member
// that stops ticking loses its session).
import { toMeshError } from '../shared/errors'
import type { MeshError } from '../shared/errors'
import type { ClusterIdentity } from './cluster-identity'
import type { CommandRoute } from './command-route'
import type { Housekeeping } from './housekeeping'
import type { MemberContext } from './member-context'
import type { NoQuorumHandling } from './no-quorum'
import type { ReadyLoop } from './ready-loop'
import { RepeatingTimer } from './repeating-timer'
import type { Roster } from './roster'
import type { SessionKeeper } from './sessions'

/** How often the roster and our cluster claim go out, in ticks. */
export const ROSTER_EVERY_TICKS = 10

/** The parts of a member its tick drives. */
export interface TickParts {
  loop: ReadyLoop
  sessions: SessionKeeper
  quorum: NoQuorumHandling
  identity: ClusterIdentity
  roster: Roster
  route: CommandRoute
  housekeeping: Housekeeping
}

/**
 * How often a leader heartbeats now, in ticks. A visible tab's leader every
 * `heartbeatTicks` (idle heartbeats to every member are most of an idle
 * mesh's work: each is a message out and an answer in). A hidden one every
 * tick: its timers are throttled to about one a second, and a visible
 * follower waits only its election timeout of its own fast ticks
 * (browser/visibility.ts).
 */
export function heartbeatTicksNow(heartbeatTicks: number, visible: boolean): number {
  return visible ? heartbeatTicks : 1
}

export class TickDuties {
  private ticker: RepeatingTimer | null = null
  private ticks = 0
  /** when this member last ran its leader duties (null while it does not lead) */
  private lastDutyAt: number | null = null

  constructor(
    private readonly ctx: MemberContext,
    private readonly parts: TickParts,
    private readonly reportError: (err: MeshError) => void,
  ) {}

  /** Tick every tickMs from now on. */
  start(): void {
    this.ticker = new RepeatingTimer(this.ctx.clock, this.ctx.timing.tickMs, () => this.tick(), (err) => {
      this.reportError(toMeshError(err.cause, 'BAD_MESSAGE'))
    })
  }

  stop(): void {
    this.ticker?.stop()
    this.ticker = null
  }

  /** One tick, now (also after a resume, rather than at the next timer). */
  tick(): void {
    const ctx = this.ctx
    const { loop, sessions, quorum, identity, roster } = this.parts
    if (ctx.stopped) return
    this.ticks++
    quorum.contact.tick()
    ctx.raft.setHeartbeatTicks(heartbeatTicksNow(ctx.timing.heartbeatTicks, ctx.visible()))
    ctx.raft.tick()
    loop.pump()
    loop.saveCommitIndex()
    const now = ctx.clock.now()
    const leaderChanged = ctx.leaderChanged
    ctx.leaderChanged = false
    // our open-session first: writes may follow it to a new leader in the same tick (OwnSession.writable)
    sessions.own.tick(leaderChanged)
    sessions.requests.flush(leaderChanged)
    sessions.reads.tick()
    if (this.ticks % ROSTER_EVERY_TICKS === 0) ctx.links.broadcast(identity.claim())
    identity.evaluate(now)
    // a leader of our cluster contradicted our committed log: it was taken over (forceNewCluster)
    if (ctx.raft.takeCommittedConflict() !== null) identity.divergeForced()
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the duties above may stop the member or pause it (a divergence)
    if (ctx.stopped || !ctx.running) return
    if (ctx.isLeader) this.leaderDuties(now)
    else {
      this.lastDutyAt = null
      identity.askToJoin(now)
      // a new leader learns our facts (browser, visibility) from us; not from
      // a member that is leaving: a join after our `leaving` would take our
      // departure back (Roster.joined), and the leader would add us again
      if (leaderChanged && ctx.lead !== null && !ctx.leaving) ctx.links.send(ctx.lead, { type: 'join', member: roster.own() })
      this.campaignIfLeaderVanished(now)
    }
    quorum.update()
    roster.emitIfChanged()
    ctx.links.follow(ctx.raft.status().conf, ctx.lead ?? identity.claimedLeader(), identity.weighing())
    loop.pump()
  }

  /**
   * Our leader left the signaling server and has sent nothing for a third of
   * vanishedAfterMs, and for more than one heartbeat interval and a tick,
   * or closed our link: its page
   * is gone (a crashed device). Campaign in our rank's turn, as on a death
   * certificate (Raft.reportPeerGone), instead of after a randomized election
   * timeout of 1.5 to 3 s. Wrong only if the leader runs on with its socket
   * dropped and its links stalled: then an election costs a term, never
   * safety (a vote still needs a majority).
   */
  private campaignIfLeaderVanished(now: number): void {
    const ctx = this.ctx
    const { roster, loop } = this.parts
    const lead = ctx.lead
    const { tickMs, heartbeatTicks, vanishedAfterMs } = ctx.timing
    const silentMs = Math.max(vanishedAfterMs / 3, (heartbeatTicks + 1) * tickMs)
    if (lead === null || lead === ctx.id || !roster.vanished(lead, now, silentMs)) return
    ctx.raft.reportPeerGone(lead, roster.rankAfterVanish(lead))
    loop.pump()
  }

  /** What only the leader proposes: session expiries, reaps, membership changes; and its roster. */
  private leaderDuties(now: number): void {
    const ctx = this.ctx
    const { sessions, roster, route, housekeeping } = this.parts
    sessions.leader.touch([sessions.own.id], now)
    // our own ticks came late (throttled timers): the keepalives we drive could not come on time
    const since = this.lastDutyAt
    if (since !== null && now - since > ctx.timing.tickMs * ctx.timing.electionTicks) sessions.leader.slept(ctx.tree, now, since, (id) => roster.lastHeardAt(id))
    this.lastDutyAt = now
    const vanished = (member: string): boolean => roster.vanished(member, now, ctx.timing.vanishedAfterMs)
    const expire = sessions.leader.due(ctx.tree, now, vanished)
    if (expire !== null) route.propose(expire)
    const reap = housekeeping.due(ctx.tree, now)
    if (reap !== null) route.propose(reap)
    roster.membershipRound(now)
    if (this.ticks % ROSTER_EVERY_TICKS === 0) ctx.links.broadcast({ type: 'roster', members: roster.entries() })
  }
}
