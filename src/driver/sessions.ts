// Sessions (invariant 5: sessions belong to tabs). Two halves:
//
// OwnSession — this tab's session: opened by an `open-session` command when
// the member starts (resent until this member applies it), kept alive by
// `session-heartbeat` node messages to the leader (no log entry per
// heartbeat), closed by a `close-session` command on a graceful close.
//
// LeaderSessions — only while this member leads: a SessionTracker records the
// last heartbeat of every session; sessions silent past their timeout are
// expired by an `expire-sessions` entry the leader proposes, so every replica
// deletes the same ephemerals at the same log position (invariant 3). A new
// leader grants every session a fresh timeout first: it cannot know when the
// old leader last heard from them.
import { SessionTracker } from '../tree/session-tracker'
import type { Command } from '../tree/types'
import type { ZTree } from '../tree/ztree'

export interface SessionRoute {
  now(): number
  /** hand a command to the leader (propose or forward); false if no leader */
  submit(cmd: Command): boolean
  /** send the heartbeat to the leader; false if no leader or no link */
  heartbeat(sessions: string[]): boolean
}

export class OwnSession {
  /** set once this member applied our open-session */
  open = false
  private openSentAt: number | null = null
  private lastHeartbeat = -Infinity

  constructor(
    readonly id: string,
    readonly timeoutMs: number,
    private readonly route: SessionRoute,
    private readonly timings: { retryMs: number; heartbeatMs: number },
  ) {}

  /** each tick: keep asking to open, then keep the session alive */
  tick(leaderChanged: boolean): void {
    const now = this.route.now()
    if (!this.open) {
      if (leaderChanged || this.openSentAt === null || now - this.openSentAt >= this.timings.retryMs) {
        const cmd: Command = { type: 'open-session', session: this.id, timeoutMs: this.timeoutMs, time: 0 }
        if (this.route.submit(cmd)) this.openSentAt = now
      }
      return
    }
    if (leaderChanged || now - this.lastHeartbeat >= this.timings.heartbeatMs) {
      if (this.route.heartbeat([this.id])) this.lastHeartbeat = now
    }
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
  takeOver(tree: ZTree, now: number): void {
    this.expiring.clear()
    this.tracker.grantAll(tree.sessions(), now)
  }

  touch(sessions: string[], now: number): void {
    for (const s of sessions) this.tracker.touch(s, now)
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

  /** the expire-sessions command to propose now, if any */
  due(tree: ZTree, now: number): Command | null {
    const expired = this.tracker.expired(now, tree).filter((s) => {
      const since = this.expiring.get(s)
      return since === undefined || now - since >= this.retryMs
    })
    if (expired.length === 0) return null
    for (const s of expired) this.expiring.set(s, now)
    return { type: 'expire-sessions', sessions: expired, time: now }
  }
}
