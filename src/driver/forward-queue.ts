// The follower's side of forwarding: the writes a member hands to the leader
// in one turn travel together, one `forwards` frame per batch (wire tag 7),
// instead of one `forward` frame each. The leader proposes a batch together
// (dispatch.ts), so 64 concurrent writers cost one frame and one Ready at the
// leader rather than 64.
//
// A batch is bounded like the leader's per-peer budget it meets
// (peer-budget.ts): at most NODE_MESSAGE_LIMITS.maxBatchCommands commands
// and maxBatchBytes bytes; more in one turn go in several batches, in order.
// Flushed on a microtask (deterministic: no timer, so the simulator replays
// it), after the synchronous code of the turn has queued everything.
//
// What is lost here (no link at flush time, the leader changed in the turn)
// is resent by its owner's clock (requests.ts, sessions.ts), as a lost
// `forward` always was.
import { NODE_MESSAGE_LIMITS } from '../wire/node-messages'
import type { MemberContext } from './member-context'

export class ForwardQueue {
  private leader: string | null = null
  private queued: Uint8Array[] = []
  private scheduled = false

  constructor(private readonly ctx: MemberContext) {}

  /** Queue an encoded command for `leader`; false when there is no open link
   *  to it (the caller retries later, as with a failed send). */
  push(leader: string, command: Uint8Array): boolean {
    if (!this.ctx.links.has(leader)) return false
    // the leader changed within the turn: what was queued goes to the old one now
    if (this.leader !== leader) this.flush()
    this.leader = leader
    this.queued.push(command)
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(() => {
        this.scheduled = false
        this.flush()
      })
    }
    return true
  }

  /** Send what is queued, in order, in batches within the wire's bounds. */
  flush(): void {
    const leader = this.leader
    const queued = this.queued
    this.queued = []
    if (leader === null || queued.length === 0 || this.ctx.stopped) return
    for (const batch of batches(queued)) {
      if (batch.length === 1) this.ctx.links.send(leader, { type: 'forward', command: batch[0]! })
      else this.ctx.links.send(leader, { type: 'forwards', commands: batch })
    }
  }
}

/** Split commands (in order) into runs of at most maxBatchCommands and maxBatchBytes. */
export function batches(commands: readonly Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = []
  let run: Uint8Array[] = []
  let bytes = 0
  for (const c of commands) {
    if (run.length > 0 && (run.length >= NODE_MESSAGE_LIMITS.maxBatchCommands || bytes + c.length > NODE_MESSAGE_LIMITS.maxBatchBytes)) {
      out.push(run)
      run = []
      bytes = 0
    }
    run.push(c)
    bytes += c.length
  }
  if (run.length > 0) out.push(run)
  return out
}
