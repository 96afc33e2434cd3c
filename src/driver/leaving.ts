// Leaving gracefully: what a closing (or hidden) tab does so that its going
// costs the others nothing — no election (leadership moves to a visible voter
// first), no wait for a session timeout (our session is closed, its
// ephemerals go at once), and no wait for the failure timeout (everyone hears
// that we leave, so whoever leads next removes us). A closing tab has little
// time (pagehide), so each step is bounded by a deadline and then given up:
// what it would have done happens later by timeouts anyway.
import type { MemberContext } from './member-context'
import type { Roster } from './roster'
import type { SessionKeeper } from './sessions'

export class Leaving {
  constructor(
    private readonly ctx: MemberContext,
    private readonly roster: Roster,
    private readonly sessions: SessionKeeper,
  ) {}

  /** Leader only: transfer leadership to a visible, linked voter and wait (bounded) until it took over. */
  async handOffLeadership(): Promise<void> {
    const ctx = this.ctx
    if (!ctx.isLeader) return
    const conf = ctx.raft.status().conf
    // never hand over to a member that announced it is leaving (two tabs closing together)
    const target = this.roster.members().find((m) => m.voter && !m.self && m.visible && !this.roster.hasDeparted(m.id) && conf.voters.includes(m.id) && ctx.links.has(m.id))
    if (target === undefined) return
    // sent in this turn, not through the Ready loop: a closing tab may run no
    // more code once `pagehide` returns, and the loop may be waiting on a disk
    // write of the Ready in flight (with writes going on, it nearly always is)
    const handOver = ctx.raft.handOverNow(target.id)
    for (const m of handOver) ctx.sendRaft(m)
    if (handOver.length === 0) {
      // the target needs more than a few messages: the usual transfer, round trips and all
      try {
        ctx.raft.transferLeadership(target.id)
      } catch {
        return
      }
      ctx.control.pump()
    }
    const deadline = ctx.clock.now() + ctx.timing.tickMs * ctx.timing.electionTicks * 2
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (ctx.stopped || !ctx.isLeader || ctx.clock.now() >= deadline) resolve()
        else ctx.clock.setTimeout(poll, ctx.timing.tickMs)
      }
      poll()
    })
  }

  /** Close our own session (resent until applied, bounded); `listen` hears each applied entry. */
  async closeOwnSession(listen: (onApplied: () => void) => () => void): Promise<void> {
    const ctx = this.ctx
    const own = this.sessions.own
    if (!own.open) return
    const session = own.id
    // a closing tab has little time (pagehide); if the close does not commit
    // soon the leader expires the session after its timeout anyway
    const deadline = ctx.clock.now() + Math.min(ctx.timing.requestTimeoutMs, ctx.timing.tickMs * ctx.timing.electionTicks * 3)
    await new Promise<void>((resolve) => {
      let timer: unknown = null
      let unlisten = (): void => { /* replaced once listening */ }
      const done = (): void => {
        unlisten()
        if (timer !== null) ctx.clock.clearTimeout(timer)
        resolve()
      }
      const check = (): void => {
        if (ctx.stopped || ctx.tree.session(session) === null || ctx.clock.now() >= deadline) done()
      }
      const resend = (): void => {
        timer = null
        check()
        if (ctx.stopped || ctx.tree.session(session) === null || ctx.clock.now() >= deadline) {
          done()
          return
        }
        this.sessions.own.requestClose()
        ctx.control.pump()
        timer = ctx.clock.setTimeout(resend, ctx.timing.retryMs)
      }
      unlisten = listen(check)
      resend()
    })
  }

  /** Everyone hears it: whoever leads next removes us, even if leadership is in flux right after the hand-off. */
  announce(): void {
    this.ctx.leaving = true
    this.ctx.links.broadcast({ type: 'leaving', member: this.ctx.id })
  }

  /**
   * Stay (bounded) until our removal is committed: while we still vote, our
   * acknowledgement is what lets the leader commit it. Two voters are the
   * case that needs it: one voter of two is no majority, so a member that
   * went away still a voter would leave the other unable to commit anything,
   * its removal included. The leader is somebody else by now (the hand-off).
   */
  async awaitRemoval(): Promise<void> {
    const ctx = this.ctx
    const inConf = (): boolean => {
      const conf = ctx.raft.status().conf
      return conf.voters.includes(ctx.id) || conf.learners.includes(ctx.id) || conf.votersOutgoing.includes(ctx.id)
    }
    // only a voter among others is waited for: a learner counts in no
    // quorum, and the only voter is removed by nobody (a reopen continues it)
    const conf = ctx.raft.status().conf
    const voters = new Set([...conf.voters, ...conf.votersOutgoing])
    if (!voters.has(ctx.id) || voters.size < 2) return
    const deadline = ctx.clock.now() + ctx.timing.tickMs * ctx.timing.electionTicks * 3
    let announced = ctx.clock.now()
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        const now = ctx.clock.now()
        if (ctx.stopped || !inConf() || now >= deadline) {
          resolve()
          return
        }
        // a leader elected since (or a lost message) hears it again
        if (now - announced >= ctx.timing.retryMs) {
          this.announce()
          announced = now
        }
        ctx.clock.setTimeout(poll, ctx.timing.tickMs)
      }
      poll()
    })
  }
}
