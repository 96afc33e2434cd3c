// Sessions (invariant 5: sessions belong to tabs). Two halves:
//
// OwnSession — this tab's session: opened by an `open-session` command when
// the member starts (resent until this member applies it), kept alive by
// `session-heartbeat` node messages to the leader (no log entry per
// heartbeat: each tick when due, or on a message from the leader when the
// ticks are late), closed by a `close-session` command on a graceful close.
//
// LeaderSessions — only while this member leads: a SessionTracker records the
// last heartbeat of every session; sessions silent past their timeout are
// expired by an `expire-sessions` entry the leader proposes, so every replica
// deletes the same ephemerals at the same log position (invariant 3). A new
// leader grants every session a fresh timeout first: it cannot know when the
// old leader last heard from them. One exception ends sessions sooner: a
// member known to be gone (Roster.vanished: it left the signaling server
// and has been silent since, or it closed its link to this leader itself;
// a partition shows neither, its links stall and its sockets stay open)
// loses its sessions after `vanishedAfterMs` instead of their timeout, so
// an election recipe or lock waiting on them moves within seconds. The
// member, if it still runs, says `suspended` a third of that after its link
// to the leader closed (no-quorum.ts), and fencing tokens refuse whatever
// it still writes under a lock it held.
//
// SessionKeeper — the two halves as one member runs them (below).
import { SessionTracker } from '../tree/session-tracker'
import type { SessionView } from '../tree/session-tracker'
import type { Command } from '../tree/types'
import type { MeshError } from '../shared/errors'
import type { CommandRoute } from './command-route'
import type { MemberContext } from './member-context'
import { ReadBarrier } from './reads'
import { RequestPipeline, sameLeadership } from './requests'
import { sessionOwner } from './peer-budget'

export interface SessionRoute {
  now(): number
  /** hand a command to the leader (propose or forward); false if no leader */
  submit(cmd: Command): boolean
  /** send the heartbeat to the leader; false if no leader or no link */
  heartbeat(sessions: string[]): boolean
  /** who leads in which term (`leader@term`), null when no leader is known */
  leadership(): string | null
}

export class OwnSession {
  /** set once this member applied our open-session */
  open = false
  private openSentAt: number | null = null
  /** the leadership our last open-session went to */
  private openSentTo: string | null = null
  private lastHeartbeat = -Infinity

  constructor(
    readonly id: string,
    readonly timeoutMs: number,
    private readonly route: SessionRoute,
    private readonly timings: { retryMs: number; heartbeatMs: number; tickMs: number },
  ) {}

  /** each tick: keep asking to open, then keep the session alive */
  tick(leaderChanged: boolean): void {
    const now = this.route.now()
    if (!this.open) {
      // a leadership we already asked (leaderKnown, below) is asked again only after retryMs
      const fresh = leaderChanged && !sameLeadership(this.route.leadership(), this.openSentTo)
      if (fresh || this.openSentAt === null || now - this.openSentAt >= this.timings.retryMs) this.askOpen(now)
      return
    }
    if (leaderChanged || now - this.lastHeartbeat >= this.timings.heartbeatMs) {
      if (this.route.heartbeat([this.id])) this.lastHeartbeat = now
    }
  }

  /**
   * A message from the leader arrived. If our keepalive is overdue (our
   * timers did not come: a hidden tab's are throttled, to once a minute after
   * 5 minutes in Chrome unless WebRTC exempts it, browser/visibility.ts),
   * send it now: message events are never throttled. On time (within a tick
   * or two of the period) the tick sends it, as before.
   */
  leaderHeard(): void {
    if (!this.open) return
    const now = this.route.now()
    if (now - this.lastHeartbeat < this.timings.heartbeatMs + 2 * this.timings.tickMs) return
    if (this.route.heartbeat([this.id])) this.lastHeartbeat = now
  }

  /**
   * A leader just became known (the Ready loop, as soon as it learns it): ask
   * it to open our session now, not at the next tick — a new tab's first
   * write waits for its session, and a tick is up to tickMs away.
   */
  leaderKnown(): void {
    if (this.open || sameLeadership(this.route.leadership(), this.openSentTo)) return
    this.askOpen(this.route.now())
  }

  private askOpen(now: number): void {
    const cmd: Command = { type: 'open-session', session: this.id, timeoutMs: this.timeoutMs, time: 0 }
    if (!this.route.submit(cmd)) return
    this.openSentAt = now
    this.openSentTo = this.route.leadership()
  }

  /**
   * Our writes may go to the leader now: the session is open, or its
   * open-session was handed to the leadership that leads now. A write sent
   * right behind the open reaches the same leader after it, over the same
   * ordered channel (or its own proposal queue), so the log holds the open
   * first and the write commits in the same round instead of a round later
   * (a new tab's first write waited for its open to commit and be applied
   * here: ~40 ms of its ~60 after the leader was known). Should a write land
   * before the open all the same (the open was refused for want of room, or
   * lost with a leadership), the tree answers SESSION_EXPIRED without a
   * trace of it, and the pipeline sends it again (RequestPipeline.applied).
   */
  writable(): boolean {
    return this.open || (this.openSentTo !== null && sameLeadership(this.openSentTo, this.route.leadership()))
  }

  /** a graceful close: ask the leader to close the session (ephemerals go at once) */
  requestClose(): boolean {
    if (!this.open) return false
    return this.route.submit({ type: 'close-session', session: this.id, time: 0 })
  }
}

export class LeaderSessions {
  private readonly tracker = new SessionTracker()
  /** sessions named in an expire-sessions proposal not yet applied, with when */
  private readonly expiring = new Map<string, number>()

  constructor(private readonly retryMs: number) {}

  /** this member just became leader: every live session gets a fresh timeout */
  takeOver(tree: SessionView, now: number): void {
    this.expiring.clear()
    this.tracker.grantAll(tree.sessions(), now)
  }

  touch(sessions: string[], now: number): void {
    for (const s of sessions) this.tracker.touch(s, now)
  }

  /**
   * The leader's own ticks came late (its timers throttled: a hidden tab
   * with no visible voter to hand over to). Its followers' keepalives ride on
   * its messages when their timers are throttled too (OwnSession.leaderHeard),
   * so while it slept they could not come on time: sessions of members it
   * heard from since `since` count as alive now. A dead tab's member is
   * silent, so its sessions still expire. Expiring later is always safe
   * (invariant 3: fencing guards, not time).
   */
  slept(tree: SessionView, now: number, since: number, lastHeard: (member: string) => number | undefined): void {
    for (const s of tree.sessions()) {
      const heard = lastHeard(sessionOwner(s))
      if (heard !== undefined && heard >= since) this.tracker.touch(s, now)
    }
  }

  /** an applied open-session counts as a heartbeat */
  opened(session: string, now: number): void {
    this.tracker.touch(session, now)
  }

  /** sessions gone from the tree (expired or closed) need no more tracking */
  gone(sessions: string[]): void {
    for (const s of sessions) {
      this.expiring.delete(s)
      this.tracker.forget(s)
    }
  }

  /**
   * The expire-sessions command to propose now, if any: sessions silent past
   * their timeout, and sessions of members `vanished` says are gone.
   */
  due(tree: SessionView, now: number, vanished: (member: string) => boolean = () => false): Command | null {
    const silent = this.tracker.expired(now, tree)
    const early = tree.sessions().filter((s) => vanished(sessionOwner(s)))
    const candidates = early.length === 0 ? silent : [...new Set([...silent, ...early])].sort()
    const expired = candidates.filter((s) => {
      const since = this.expiring.get(s)
      return since === undefined || now - since >= this.retryMs
    })
    if (expired.length === 0) return null
    for (const s of expired) this.expiring.set(s, now)
    return { type: 'expire-sessions', sessions: expired, time: now }
  }
}

/**
 * This member's side of sessions, as the member runs them: our tab's session
 * (a fresh one whenever the leader expired the last), the write pipeline and
 * read barrier that speak for it, the leader's tracker of everyone's
 * sessions, and death certificates for other tabs' sessions. Kept together
 * because a new session replaces the pipeline's session in the same breath:
 * a write must never go out under a session the leader already expired.
 */
export class SessionKeeper {
  own!: OwnSession
  requests!: RequestPipeline
  reads!: ReadBarrier
  /** leader only: when every session last spoke */
  readonly leader: LeaderSessions
  private counter = 0

  constructor(
    private readonly ctx: MemberContext,
    private readonly route: CommandRoute,
  ) {
    this.leader = new LeaderSessions(ctx.timing.retryMs)
  }

  /** Start a fresh session for this tab (at construction, after an expiry, after a divergence). */
  newSession(): void {
    const ctx = this.ctx
    // a per-tab session id: member id, tab id, a counter and randomness
    // (a reloaded tab must never reuse a predecessor's session). The format
    // `${member}.${tab}.${n}.${random}` is relied on: the browser layer finds
    // the sessions of a dead member by the `${member}.` prefix.
    const rand = Math.floor(ctx.opts.random() * 0x7fffffff).toString(36)
    const id = `${ctx.id}.${ctx.tab}.${++this.counter}.${rand}`.slice(0, 120)
    const route = {
      now: () => ctx.clock.now(),
      submit: (cmd: Command) => this.route.submit(cmd),
      heartbeat: (sessions: string[]) => this.heartbeat(sessions),
      leadership: () => ctx.leadership(),
      hasLeader: () => ctx.lead !== null,
      // the pipeline outlives sessions: ask whichever is ours now
      openAhead: () => this.own.writable(),
    }
    this.own = new OwnSession(id, ctx.sessionTimeoutMs, route, { retryMs: ctx.timing.retryMs, heartbeatMs: ctx.timing.sessionHeartbeatMs, tickMs: ctx.timing.tickMs })
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined until the first newSession (declared with `!`)
    if (this.requests === undefined) {
      this.requests = new RequestPipeline(route, { retryMs: ctx.timing.retryMs, timeoutMs: ctx.timing.requestTimeoutMs }, id, ctx.timeline)
      this.reads = new ReadBarrier(
        {
          now: () => ctx.clock.now(),
          requestReadIndex: (readContext) => this.route.requestReadIndex(readContext),
          appliedIndex: () => ctx.appliedIndex,
          hasLeader: () => ctx.lead !== null,
        },
        { retryMs: ctx.timing.retryMs, timeoutMs: ctx.timing.requestTimeoutMs },
        id,
      )
    } else {
      this.requests.replaceSession(id)
    }
  }

  /** Our app awaits the result of a write. */
  awaitsWrites(): boolean {
    return this.requests.size > 0
  }

  /** We applied our own open-session: requests may go out under it. */
  markOpen(): void {
    this.own.open = true
    this.requests.setSessionReady(true)
  }

  /**
   * The tree refused our open-session: the id is spent (its session opened
   * and ended before we applied the open). Nothing of ours was ever answered
   * under it, so there is nothing to report lost: open a fresh session.
   */
  renew(): void {
    this.newSession()
    this.ctx.leaderChanged = true
  }

  /** The leader expired our session: ephemerals are gone. Report `lost`, start a fresh session. */
  lost(): void {
    this.ctx.connection.lost()
    this.renew()
  }

  /**
   * Close other tabs' sessions at once (a death certificate: their Web Lock
   * is free, so no tab runs them). Their ephemerals go in the same entry.
   * Resent until the sessions are gone from the tree, for at most the
   * request timeout; if that fails the leader expires them anyway.
   */
  closeOthers(sessions: string[]): void {
    const ctx = this.ctx
    const pending = new Set(sessions.filter((s) => s !== this.own.id))
    const deadline = ctx.clock.now() + ctx.timing.requestTimeoutMs
    const round = (): void => {
      if (ctx.stopped) return
      for (const s of [...pending]) if (ctx.tree.session(s) === null) pending.delete(s)
      if (pending.size === 0 || ctx.clock.now() >= deadline) return
      for (const s of pending) this.route.submit({ type: 'close-session', session: s, time: 0 })
      ctx.clock.setTimeout(round, ctx.timing.retryMs)
    }
    round()
  }

  /** Fail every write and read in flight (the member stops). */
  failAll(reason: MeshError): void {
    this.requests.failAll(reason)
    this.reads.failAll(reason)
  }

  private heartbeat(sessions: string[]): boolean {
    const ctx = this.ctx
    if (ctx.lead === null) return false
    if (ctx.isLeader) {
      this.leader.touch(sessions, ctx.clock.now())
      return true
    }
    return ctx.links.send(ctx.lead, { type: 'session-heartbeat', sessions })
  }
}
