// Leadership transfer (§3.10): the leader catches the target up and sends it
// MsgTimeoutNow, which makes it campaign at once without PreVote and past
// the others' leases. Also the closing leader's hand-over that cannot wait
// for a round trip (handOverNow). While a transfer is on (leadTransferee)
// the leader takes no proposal, so its log stops growing.
import type { RaftState } from './raft-state'
import { sendAppend, sendTimeoutNow } from './replication'
import type { Message, NodeId } from './types'
import { newMessage } from './types'

/** how many MsgApps a closing leader sends to catch its successor up before giving up (handOverNow) */
const HAND_OVER_MAX_MSGS = 8

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** A leader starts the transfer; a follower forwards the request to its leader. */
export function transferLeadership(r: RaftState, to: NodeId): void {
  if (r.role === 'leader') handleTransferLeader(r, to)
  else if (r.lead !== null) r.send('MsgTransferLeader', r.lead, r.term, { context: textEncoder.encode(to) })
}

export function handleTransferLeader(r: RaftState, target: NodeId): void {
  if (target === r.id) return
  const pr = r.trk.progress.get(target)
  if (pr === undefined || !r.trk.isVoter(target)) return // learners cannot lead
  if (r.leadTransferee === target) return
  r.leadTransferee = target
  // the transfer must finish within an election timeout (see tickHeartbeat)
  r.electionElapsed = 0
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, target)
  else sendAppend(r, target)
}

/**
 * Leader about to go (its tab is closing and may run no more code after
 * this turn): hand leadership to `target` with no round trip to wait for.
 * Returns the messages to send at once, not queued behind a save in flight:
 * every entry of our log the target lacks, then MsgTimeoutNow. The whole
 * log, not only what is on our disk: the save in flight completes a few ms
 * later in a closing page and the Ready loop then sends its appends to the
 * others; a voter holding an entry the target lacks refuses it its vote (an
 * election timeout lost, seen in Chromium). Sending entries we have not
 * saved yet is Raft's parallel leader append (thesis §10.2.1): they count
 * as ours only once on our disk, and no proposal is taken while a transfer
 * is on, so our log stops growing here and the target ends up holding every
 * entry any voter can hold — it wins, and with our vote too (a two-voter
 * cluster needs it).
 * Empty when the target cannot be caught up in a few messages (it needs a
 * snapshot, or lags by more than `HAND_OVER_MAX_MSGS` messages): then the
 * others elect a leader the usual way.
 */
export function handOverNow(r: RaftState, target: NodeId): Message[] {
  if (r.role !== 'leader' || target === r.id) return []
  const pr = r.trk.progress.get(target)
  if (pr === undefined || !r.trk.isVoter(target)) return []
  const out: Message[] = []
  const last = r.log.lastIndex()
  for (let prev = pr.match; prev < last; ) {
    const prevTerm = r.log.term(prev)
    const ents = prevTerm === undefined ? [] : r.log.slice(prev + 1, last + 1, r.cfg.maxSizePerMsg)
    if (ents.length === 0 || out.length >= HAND_OVER_MAX_MSGS) return []
    out.push(newMessage('MsgApp', r.id, target, r.term, { index: prev, logTerm: prevTerm, entries: ents, commit: r.log.committed }))
    prev = ents[ents.length - 1]!.index
  }
  r.leadTransferee = target
  r.electionElapsed = 0
  out.push(newMessage('MsgTimeoutNow', r.id, target, r.term, {}))
  return out
}

/** The target of a forwarded MsgTransferLeader; null when the bytes are not a plausible id. */
export function decodeNodeId(ctx: Uint8Array | null): NodeId | null {
  if (ctx === null || ctx.length === 0 || ctx.length > 1024) return null
  try {
    return textDecoder.decode(ctx)
  } catch {
    return null
  }
}
