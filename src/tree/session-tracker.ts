// SessionTracker: the leader's view of session liveness. Pure: `now` is passed
// in. The leader touches a session on each heartbeat and asks which sessions
// went silent past their timeout; it then proposes an `expire-sessions` entry,
// so every replica expires them at the same log position (time never decides
// safety: a stale leader's proposal simply does not commit).

/** The tree as the tracker reads it. ZTree satisfies it. */
export interface SessionView {
  sessions(): string[]
  session(id: string): { timeoutMs: number } | null
}

export class SessionTracker {
  /** session → leader time of the last sign of life */
  private readonly lastSeen = new Map<string, number>()

  /** a heartbeat (or any request) from the session at `now` */
  touch(session: string, now: number): void {
    const prev = this.lastSeen.get(session)
    if (prev === undefined || now > prev) this.lastSeen.set(session, now)
  }

  /**
   * A new leader takes over: every session gets a fresh timeout from `now`,
   * since this leader never heard their heartbeats (ZooKeeper does the same on
   * leader change). Forgets sessions not listed.
   */
  grantAll(sessions: Iterable<string>, now: number): void {
    this.lastSeen.clear()
    for (const s of sessions) this.lastSeen.set(s, now)
  }

  /** stop tracking a session (closed or expired) */
  forget(session: string): void {
    this.lastSeen.delete(session)
  }

  /** when the session was last seen, if tracked */
  lastSeenAt(session: string): number | undefined {
    return this.lastSeen.get(session)
  }

  /**
   * Sessions of the tree silent for longer than their timeout at `now`, sorted.
   * A session the tracker has never seen (opened before it started tracking)
   * starts its timeout now. Sessions gone from the tree are forgotten.
   */
  expired(now: number, tree: SessionView): string[] {
    const out: string[] = []
    const live = tree.sessions()
    const liveSet = new Set(live)
    for (const s of this.lastSeen.keys()) if (!liveSet.has(s)) this.lastSeen.delete(s)
    for (const id of live) {
      const seen = this.lastSeen.get(id)
      if (seen === undefined) {
        this.lastSeen.set(id, now)
        continue
      }
      const info = tree.session(id)
      if (info !== null && now - seen > info.timeoutMs) out.push(id)
    }
    return out.sort()
  }
}
