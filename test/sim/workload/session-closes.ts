// Session ends as history operations.
//
// The checker needs each session that ends (expired by the leader after a
// crash or a long partition) as an `op.closeSession(id)` whose interval
// contains the commit of the expiry. We watch every live member's tree on
// virtual time, every `pollMs`:
// - call = the first time the session was seen at all (in a tree, or as a
//   mesh's sessionId before a client used it). The expiry commits after the
//   session's open was applied somewhere, and a session is seen within one
//   poll of that apply, so with expiries taking seconds the call precedes the
//   commit (a session opened and ended within one poll would be the exception;
//   none lives that briefly here).
// - ret = the first poll at which a member whose tree had the session no
//   longer has it: that member applied the end, so it committed before.
// A member object that crashed is forgotten: its restarted successor reloads
// from disk and may not have applied what the old one had, which is not an end.
// Sessions still alive at the end produce no operation: they never ended.
import type { SimulatedCluster } from '../../../src/testing/index'
import type { Member } from '../../../src/driver/member'
import type { Operation } from '../linearizability/index'
import { answer, op } from '../linearizability/index'

interface Watched {
  firstSeen: number
  ended: number | null
}

export class SessionCloses {
  private readonly sessions = new Map<string, Watched>()
  /** what each live member object's tree held at the last poll */
  private readonly held = new Map<Member, Set<string>>()
  private timer: unknown = null

  constructor(
    private readonly cluster: SimulatedCluster,
    private readonly pollMs = 5,
  ) {}

  start(): void {
    const tick = (): void => {
      this.poll()
      this.timer = this.cluster.clock.setTimeout(tick, this.pollMs)
    }
    tick()
  }

  stop(): void {
    if (this.timer !== null) this.cluster.clock.clearTimeout(this.timer as number)
    this.timer = null
    this.poll()
  }

  /** a client is about to use this session (possibly before any poll saw it) */
  noteSession(session: string): void {
    this.see(session, this.cluster.clock.now())
  }

  /** the ended sessions as checker operations, with ids from `firstId` */
  operations(firstId: number): Operation[] {
    const out: Operation[] = []
    for (const [session, w] of [...this.sessions].sort((a, b) => a[1].firstSeen - b[1].firstSeen)) {
      if (w.ended === null) continue
      out.push({ id: firstId + out.length, client: `system:${session}`, call: w.firstSeen, ret: w.ended, input: op.closeSession(session), output: answer.closed() })
    }
    return out
  }

  get ended(): number {
    let n = 0
    for (const w of this.sessions.values()) if (w.ended !== null) n++
    return n
  }

  private see(session: string, now: number): void {
    if (!this.sessions.has(session)) this.sessions.set(session, { firstSeen: now, ended: null })
  }

  private poll(): void {
    const now = this.cluster.clock.now()
    const live = new Set<Member>()
    for (const mesh of this.cluster.meshes) {
      let member: Member
      try {
        member = this.cluster.memberOf(mesh)
      } catch {
        continue // crashed
      }
      if (member.isStopped) continue
      live.add(member)
      const present = new Set(member.tree.sessions())
      for (const s of present) this.see(s, now)
      const before = this.held.get(member)
      if (before !== undefined) {
        for (const s of before) {
          const w = this.sessions.get(s)!
          if (!present.has(s) && w.ended === null) w.ended = now
        }
      }
      this.held.set(member, present)
    }
    for (const m of [...this.held.keys()]) if (!live.has(m)) this.held.delete(m)
  }
}
