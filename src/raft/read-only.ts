// ReadIndex requests waiting at the leader for a heartbeat round to confirm
// that it is still the leader (Raft thesis §6.4, etcd's readOnly). A request
// records the commit index when it arrived; once a quorum acknowledged a
// heartbeat carrying its context (or a later one), that index is safe to read.
import type { NodeId } from './types'

export interface PendingRead {
  index: number
  context: Uint8Array
  /** who asked: the leader itself or a forwarding follower/learner */
  from: NodeId
  acks: Map<NodeId, boolean>
}

/** A map key for a request context (contexts are small request ids). */
export function contextKey(ctx: Uint8Array): string {
  let s = ''
  for (const b of ctx) s += String.fromCharCode(b)
  return s
}

export class ReadIndexQueue {
  private readonly pending = new Map<string, PendingRead>()
  private order: string[] = []

  get size(): number {
    return this.order.length
  }

  /**
   * Queue a request. False when a request with the same context is pending:
   * heartbeats name rounds by context, so the caller retries it after that
   * one is answered (answering it with the earlier index could be stale).
   */
  add(index: number, context: Uint8Array, from: NodeId): boolean {
    const key = contextKey(context)
    if (this.pending.has(key)) return false
    this.pending.set(key, { index, context, from, acks: new Map() })
    this.order.push(key)
    return true
  }

  /** Record that `from` acknowledged the round of `context`; the acks so far. */
  recvAck(from: NodeId, context: Uint8Array): Map<NodeId, boolean> | undefined {
    const req = this.pending.get(contextKey(context))
    if (req === undefined) return undefined
    req.acks.set(from, true)
    return req.acks
  }

  /**
   * Remove and return the request of `context` and every request queued
   * before it: a quorum confirming a later round confirms the earlier ones.
   */
  release(context: Uint8Array): PendingRead[] {
    const key = contextKey(context)
    const at = this.order.indexOf(key)
    if (at < 0) return []
    const done = this.order.slice(0, at + 1)
    this.order = this.order.slice(at + 1)
    const out: PendingRead[] = []
    for (const k of done) {
      const req = this.pending.get(k)
      this.pending.delete(k)
      if (req !== undefined) out.push(req)
    }
    return out
  }

  /** The context of the newest request, carried by heartbeats. */
  lastContext(): Uint8Array | null {
    const key = this.order[this.order.length - 1]
    return key === undefined ? null : this.pending.get(key)!.context
  }

  clear(): void {
    this.pending.clear()
    this.order = []
  }
}
