// How a command reaches the log. Only the leader proposes; everyone else
// forwards to the leader it knows and resends later (requests.ts, sessions.ts
// and reads.ts keep the resend clocks). Kept apart because every piece that
// writes to the log — our tab's requests and session, the leader's
// expiries, reaps and peers' forwards — goes through these three doors, and
// the leader's stamp of time and the entry size limit must apply to all.
import { encodeCommand } from '../tree/command'
import type { Command } from '../tree/types'
import { MAX_ENTRY_BYTES } from '../wire/limits'
import { ForwardQueue } from './forward-queue'
import type { MemberContext } from './member-context'

export class CommandRoute {
  /** a follower's forwards of one turn, batched (forward-queue.ts) */
  private readonly forwards: ForwardQueue

  constructor(private readonly ctx: MemberContext) {
    this.forwards = new ForwardQueue(ctx)
  }

  /** Propose locally when leading, else forward to the leader; false when neither can happen now. */
  submit(cmd: Command): boolean {
    const ctx = this.ctx
    if (ctx.stopped) return false
    // our core leads (as of the last Ready taken: MemberContext.routeTo)
    if (ctx.proposesHere) return this.propose(cmd)
    // the leader we know, else the one peers claim (MemberContext.routeLead)
    const lead = ctx.routeLead()
    if (lead === null) return false
    const pushed = this.forwards.push(lead, encodeCommand(cmd))
    if (pushed) ctx.timeline?.forwarded(cmd)
    return pushed
  }

  /** Leader only: stamp the leader's time and propose. `pump` false: the
   *  caller proposes more and drains the core once (a batch of forwards). */
  propose(cmd: Command, pump = true): boolean {
    const ctx = this.ctx
    try {
      // whole ms: the codec refuses a fraction, and a scheduler may read one
      const entry = encodeCommand({ ...cmd, time: Math.floor(ctx.clock.now()) })
      // never let an entry into the log that followers would refuse (a peer's forward can be that large)
      if (entry.length > MAX_ENTRY_BYTES) return false
      ctx.raft.propose(entry)
    } catch {
      return false
    }
    if (ctx.timeline !== null) {
      // the entry just appended is the last one (a core that is not leader forwarded it instead)
      const { lastIndex, term, role } = ctx.raft.status()
      if (role === 'leader') ctx.timeline.proposed(lastIndex, term)
    }
    if (pump) ctx.control.pump()
    return true
  }

  /** Ask the core for a read index (reads.ts); false when no leader is known. */
  requestReadIndex(readContext: Uint8Array): boolean {
    const ctx = this.ctx
    if (ctx.stopped || ctx.lead === null) return false
    try {
      ctx.raft.readIndex(readContext)
    } catch {
      return false
    }
    ctx.control.pump()
    return true
  }
}
