// The leader's role: its tick (heartbeats, CheckQuorum, snapshot budgets, an
// abandoned transfer) and its step (forwarded requests and its followers'
// answers), plus what the driver tells a leader about its links.
import { maybeCommit } from './commit'
import { decodeNodeId, handleTransferLeader } from './leadership-transfer'
import { PLANTED_BUGS } from './planted-bugs'
import { acceptForwardedProposal } from './proposals'
import type { RaftState } from './raft-state'
import {
  bcastHeartbeat,
  maybeSendAppend,
  scheduleBcast,
  sendAppend,
  sendHeartbeat,
  sendSnapshotChunk,
  sendTimeoutNow,
  tickSnapshotBudgets,
} from './replication'
import { becomeFollower } from './roles'
import type { Progress } from './tracker'
import type { Message, NodeId } from './types'

/** The longest back-off after refused snapshots, in election timeouts. */
const MAX_SNAPSHOT_BACKOFF_WINDOWS = 4

export function tickHeartbeat(r: RaftState): void {
  r.heartbeatElapsed++
  r.electionElapsed++
  tickSnapshotBudgets(r, r.electionElapsed >= r.cfg.electionTick)
  if (r.electionElapsed >= r.cfg.electionTick) {
    r.electionElapsed = 0
    if (r.cfg.checkQuorum) {
      // CheckQuorum: a leader cut off from a quorum stops serving
      if (!r.trk.quorumActive(r.id) && !(PLANTED_BUGS && r.bugs.leaderNeverStepsDown === true)) {
        becomeFollower(r, r.term, null)
        return
      }
      for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false
    }
    // a transfer that did not finish within an election timeout is abandoned
    r.leadTransferee = null
  }
  if (r.heartbeatElapsed >= r.heartbeatTicks) {
    r.heartbeatElapsed = 0
    bcastHeartbeat(r)
  }
}

export function stepLeader(r: RaftState, m: Message): void {
  switch (m.type) {
    case 'MsgProp':
      acceptForwardedProposal(r, m)
      return
    case 'MsgReadIndex':
      if (m.context !== null && r.trk.progress.has(m.from)) r.reads.request(m.context, m.from)
      return
    case 'MsgTransferLeader': {
      const target = decodeNodeId(m.context)
      if (target !== null && r.trk.progress.has(m.from)) handleTransferLeader(r, target)
      return
    }
  }
  const pr = r.trk.progress.get(m.from)
  if (pr === undefined) return
  switch (m.type) {
    case 'MsgAppResp':
      pr.recentActive = true
      handleAppendResponse(r, m, pr)
      return
    case 'MsgHeartbeatResp':
      pr.recentActive = true
      pr.probeSent = false
      // a full window and no answers: MsgApps were lost; free one slot so the
      // next MsgApp goes out, and its answer resynchronises us
      if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne()
      if (pr.state === 'snapshot') sendSnapshotChunk(r, m.from, pr) // resend: a chunk may be lost
      else if (pr.match < r.log.lastIndex()) sendAppend(r, m.from)
      if (m.context !== null) r.reads.ack(m.from, m.context)
      return
    case 'MsgSnapResp':
      pr.recentActive = true
      if (pr.state !== 'snapshot' || m.rejectHint !== pr.pendingSnapshot) return // about another snapshot
      if (m.reject) {
        // the chunk goes again when the wait is over
        pr.snapshotRefused(r.cfg.heartbeatTick, r.cfg.electionTick * MAX_SNAPSHOT_BACKOFF_WINDOWS)
      } else if (m.index > pr.snapshotOffset && m.index < (r.log.snapshot?.data.length ?? 0)) {
        pr.snapshotOffset = m.index
        sendSnapshotChunk(r, m.from, pr)
      }
      return
  }
}

function handleAppendResponse(r: RaftState, m: Message, pr: Progress): void {
  if (m.reject) {
    // fast backtracking: skip every index whose term cannot match
    let nextProbe = m.rejectHint
    if (m.logTerm > 0) nextProbe = r.log.findConflictByTerm(m.rejectHint, m.logTerm)[0]
    // a replicating follower goes back to probing, from the refusal's hint
    if (pr.maybeDecrTo(m.index, nextProbe)) sendAppend(r, m.from)
    return
  }
  if (m.index > r.log.lastIndex()) return // acknowledges entries we never sent
  const oldPaused = pr.isPaused()
  const updated = pr.maybeUpdate(m.index)
  if (!updated && !(pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot)) return
  if (pr.state === 'probe') pr.becomeReplicate()
  else if (pr.state === 'snapshot') {
    if (pr.match >= pr.pendingSnapshot) {
      pr.snapshotRefusals = 0 // installed: the next snapshot starts without a back-off
      pr.becomeProbe()
      pr.becomeReplicate()
    }
  } else pr.inflights.freeLE(m.index)
  if (maybeCommit(r)) scheduleBcast(r)
  else if (oldPaused && !r.bcastPending) sendAppend(r, m.from)
  while (maybeSendAppend(r, m.from, false)) {
    // pipeline as much as the inflight window and message size allow
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from)
}

/**
 * Leader: a link to `id` came up. It hears a heartbeat now rather than at
 * the next heartbeat tick, so a member that just (re)linked — a reloaded
 * tab's voter — learns its leader one round trip after linking (§5.2: a
 * heartbeat is only an empty AppendEntries; an extra one is always safe).
 */
export function reportLinked(r: RaftState, id: NodeId): void {
  if (r.role !== 'leader' || id === r.id || !r.trk.progress.has(id)) return
  sendHeartbeat(r, id, r.reads.lastContext())
}

export function reportUnreachable(r: RaftState, id: NodeId): void {
  if (r.role !== 'leader') return
  const pr = r.trk.progress.get(id)
  if (pr?.state === 'replicate') pr.becomeProbe()
}
