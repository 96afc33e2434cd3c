// The leader's side of ReadIndex (Raft thesis §6.4, etcd's readOnly with
// its pending queue): a read request waits until the leader has committed an
// entry of its term (before that its commit index may lag behind an earlier
// leader's, §8), then rides a heartbeat round; a quorum acknowledging the
// round answers it with the commit index it recorded. Separate from raft.ts
// because it is bookkeeping with one job — which requests wait, which round
// carries them, who gets the answer — that touches the state machine only
// through the narrow `ReadIndexLeader` it is given.
import type { NodeId } from './types'
import { ReadIndexQueue } from './read-only'

/** What the read bookkeeping asks of the leader it serves. */
export interface ReadIndexLeader {
  readonly id: NodeId
  /** the leader is the only voter: its commit index needs no confirmation */
  isSingleton(): boolean
  commitIndex(): number
  /** an entry of the leader's own term is committed (§8) */
  committedInTerm(): boolean
  /** do these acknowledgements make a quorum? */
  quorumAcked(acks: Map<NodeId, boolean>): boolean
  /** answer `from` (the leader itself or a forwarding member) with a read point */
  answer(index: number, context: Uint8Array, from: NodeId): void
  /** a heartbeat round carrying `context` to every member */
  heartbeat(context: Uint8Array): void
}

export class LeaderReads {
  private readonly rounds = new ReadIndexQueue()
  /** requests that arrived before the leader committed in its term, or while
   *  a request with the same context was pending */
  private waiting: { context: Uint8Array; from: NodeId }[] = []

  constructor(private readonly leader: ReadIndexLeader) {}

  /** A read request from `from` (the leader itself or a forwarding member). */
  request(context: Uint8Array, from: NodeId): void {
    const leader = this.leader
    if (leader.isSingleton()) {
      leader.answer(leader.commitIndex(), context, from)
      return
    }
    if (!leader.committedInTerm() || !this.rounds.add(leader.commitIndex(), context, from)) {
      this.waiting.push({ context, from })
      return
    }
    this.ack(leader.id, context)
    leader.heartbeat(context)
  }

  /** `from` acknowledged the heartbeat round of `context`. */
  ack(from: NodeId, context: Uint8Array): void {
    const acks = this.rounds.recvAck(from, context)
    if (acks === undefined || !this.leader.quorumAcked(acks)) return
    for (const req of this.rounds.release(context)) this.leader.answer(req.index, req.context, req.from)
    // requests that reused a context which was pending can start their round now
    if (this.waiting.length > 0) this.releaseWaiting()
  }

  /** The commit index advanced: requests waiting for a commit in this term may go. */
  onCommit(): void {
    if (this.waiting.length > 0 && this.leader.committedInTerm()) this.releaseWaiting()
  }

  /** The context of the newest round, carried by every heartbeat. */
  lastContext(): Uint8Array | null {
    return this.rounds.lastContext()
  }

  /** A new term or role: every request is forgotten (its asker retries). */
  clear(): void {
    this.rounds.clear()
    this.waiting = []
  }

  private releaseWaiting(): void {
    const waiting = this.waiting
    this.waiting = []
    for (const r of waiting) this.request(r.context, r.from)
  }
}
