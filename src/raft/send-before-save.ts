// Which messages of a Ready may leave before the Ready's save completes.
//
// Invariant 2 (persist before vouching) holds a message back until the state
// it vouches for is on disk: a vote (MsgVoteResp), an append acknowledgement
// (MsgAppResp), a term (any message carries one; a peer that sees it adopts
// it, and a restarted member must not find itself in an older term). A
// leader's replication messages vouch for none of that on their sender's
// disk: MsgApp ships entries the followers will persist themselves, and the
// leader's own acknowledgement of them is counted only after its own save
// (Raft.selfAckStable). So the leader may send MsgApp in parallel with its
// own write (Raft thesis §10.2.1; etcd raft's asynchronous storage writes send
// everything but MsgAppResp / MsgVoteResp / MsgPreVoteResp at once) — as long
// as the term it carries is already durable. Heartbeats, snapshot chunks
// (of a snapshot on disk) and MsgTimeoutNow (about the follower's log, not
// ours) are the same. Everything else waits for its Ready's save, in order.
import type { Message, MessageType } from './types'

const LEADER_REPLICATION: ReadonlySet<MessageType> = new Set<MessageType>(['MsgApp', 'MsgHeartbeat', 'MsgSnap', 'MsgTimeoutNow'])

/** May `m` leave before the save of its Ready, when `durableTerm` is the term on disk (or in a save already complete)? */
export function sendsBeforeSave(m: Message, durableTerm: number): boolean {
  return LEADER_REPLICATION.has(m.type) && m.term <= durableTerm
}
