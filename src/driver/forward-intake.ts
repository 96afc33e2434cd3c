// The leader's intake of peers' forwarded commands, once dispatch.ts has
// decoded them and checked what they say: each is charged to its peer's
// budget of forwards in flight (peer-budget.ts) and proposed, or waits here
// for room, or is dropped quietly (its requester resends after retryMs).
//
// Why a forward may wait: a follower keeps at most the budget in flight as
// IT counts (requests.ts), a write leaving its count when the follower
// applies it. The leader counts it until the LEADER applies it, and a
// follower may apply first: the leader's appends and commit index go out
// while its own save may still be on the disk (Raft thesis §10.2.1), and the
// leader applies only behind its own saves. The follower's next writes then
// met a full budget: dropped, they went again only after retryMs (1 s in a
// tab). With as many writers as the budget, every round stalled so: bench
// `mesh3.throughput.writers256` committed 290-1,095 writes/s against 1,297-
// 2,674 for 64 writers, 256 of its 512-1,280 writes dropped and resent.
//
// What may wait is bounded by what an honest follower can have sent: a
// forward of the peer not committed yet, or waiting here, cannot have been
// applied by the peer, so it is in the peer's own count. A forward waits
// only while those together stay within MAX_FORWARDS_IN_FLIGHT and
// MAX_FORWARD_BYTES_IN_FLIGHT; beyond, it is dropped as before. The log's
// bound does not move: a peer's forwards proposed and not applied stay
// within the budget, and while none of them commits nothing more waits.
// What waits goes in arrival order, behind whatever of the peer already
// waits, as the leader applies (`applied`, after each Ready's entries); a
// leader that loses its leadership drops it (the requesters resend to the
// next leader).
import type { Command } from '../tree/types'
import { MAX_FORWARD_BYTES_IN_FLIGHT, MAX_FORWARDS_IN_FLIGHT } from '../wire/limits'
import type { CommandRoute } from './command-route'
import type { MemberContext } from './member-context'
import { ForwardBudget } from './peer-budget'

/** A forward checked for content, with the size of its encoded command. */
export interface CheckedForward {
  cmd: Command
  bytes: number
}

/** One peer's forwards waiting for room, oldest first. */
interface Waiting {
  queue: CheckedForward[]
  bytes: number
}

export class ForwardIntake {
  private readonly budget = new ForwardBudget()
  private readonly waiting = new Map<string, Waiting>()

  constructor(
    private readonly ctx: MemberContext,
    private readonly route: CommandRoute,
    private readonly mayCloseSessionsOf: (peer: string, owner: string) => boolean,
  ) {}

  /** Leader only: `peer`'s forwards, in the order they came; proposed
   *  together, the core drained once. */
  offer(peer: string, forwards: readonly CheckedForward[]): void {
    const ctx = this.ctx
    if (!ctx.proposesHere) return
    // our core leads, but the Ready that says so is still on the disk: the
    // leader's budgets start once it finished (onSoftState in the Ready
    // loop); what comes meanwhile waits here and is proposed then (applied)
    const settling = !ctx.isLeader
    let proposed = false
    /** the peer's forwards proposed and not committed: read once, as the
     *  first one waits (none of the peer's is proposed after it) */
    let sent: { count: number; bytes: number } | null = null
    for (const f of forwards) {
      // behind what of the peer already waits, so the peer's order holds
      if (!settling && !this.waiting.has(peer)) {
        const verdict = this.budget.admit(peer, f.cmd, f.bytes, ctx.appliedIndex, ctx.tree, this.mayCloseSessionsOf)
        if (verdict === null) {
          proposed = this.propose(peer, f) || proposed
          continue
        }
        if (verdict !== 'full') continue
      }
      sent ??= this.budget.uncommitted(peer, ctx.raft.status().commit)
      this.wait(peer, f, sent)
    }
    if (proposed) ctx.control.pump()
  }

  /**
   * Leader: entries were applied, so peers' forwards in flight may have left
   * the budget: what waits is proposed, oldest first, while there is room.
   * Not leader (any more): what waits is dropped.
   */
  applied(): void {
    const ctx = this.ctx
    if (this.waiting.size === 0) return
    if (!ctx.proposesHere || ctx.stopped) {
      this.waiting.clear()
      return
    }
    // still settling in (offer): an earlier Ready finished, not ours yet
    if (!ctx.isLeader) return
    let proposed = false
    for (const [peer, w] of this.waiting) {
      for (let f = w.queue[0]; f !== undefined; f = w.queue[0]) {
        const verdict = this.budget.admit(peer, f.cmd, f.bytes, ctx.appliedIndex, ctx.tree, this.mayCloseSessionsOf)
        if (verdict === 'full') break
        w.queue.shift()
        w.bytes -= f.bytes
        // what else it met now (a session limit) drops it quietly, as on arrival
        if (verdict === null) proposed = this.propose(peer, f) || proposed
      }
      if (w.queue.length === 0) this.waiting.delete(peer)
    }
    if (proposed) ctx.control.pump()
  }

  /** Propose `peer`'s forward and charge it to the peer's budget; false when the core refused it. */
  private propose(peer: string, f: CheckedForward): boolean {
    if (!this.route.propose(f.cmd, false)) return false
    this.budget.record(peer, this.ctx.raft.status().lastIndex, f.bytes, f.cmd)
    return true
  }

  /** `f` waits for room if what the peer may have sent allows it (`sent`:
   *  its forwards proposed and not committed; see the header); else it is dropped. */
  private wait(peer: string, f: CheckedForward, sent: { count: number; bytes: number }): void {
    const w = this.waiting.get(peer) ?? { queue: [], bytes: 0 }
    if (sent.count + w.queue.length + 1 > MAX_FORWARDS_IN_FLIGHT || sent.bytes + w.bytes + f.bytes > MAX_FORWARD_BYTES_IN_FLIGHT) return
    w.queue.push(f)
    w.bytes += f.bytes
    this.waiting.set(peer, w)
  }
}
