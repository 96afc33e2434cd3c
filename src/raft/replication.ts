// The leader's sending to its followers: MsgApp (pipelined within each
// follower's inflight window), snapshot chunks under a per-follower byte
// budget, heartbeats, MsgTimeoutNow, and the batching of broadcasts until
// the next Ready. What comes back (MsgAppResp, MsgHeartbeatResp,
// MsgSnapResp) is the leader's step (leader.ts).
//
// Like the other files of the algorithm, functions over RaftState
// (raft-state.ts) rather than methods: Raft (raft.ts) holds the state.
import type { RaftState } from './raft-state'
import type { Progress } from './tracker'
import type { NodeId } from './types'

/** Snapshot chunks one follower may be sent per election timeout, unless
 *  RaftConfig.maxSnapshotBytesPerWindow says otherwise. */
const SNAPSHOT_CHUNKS_PER_WINDOW = 32

/** Send a MsgApp to `to` if it is not paused; with entries, or empty when `sendIfEmpty`. */
export function maybeSendAppend(r: RaftState, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to)
  if (pr === undefined || pr.isPaused()) return false
  const prevIndex = pr.next - 1
  const prevTerm = r.log.term(prevIndex)
  if (prevTerm === undefined) {
    if (prevIndex > r.log.lastIndex()) {
      // a stale optimistic next: fall back to probing from the match
      pr.becomeProbe()
      return false
    }
    return sendSnapshot(r, to, pr)
  }
  const ents = r.log.slice(pr.next, r.log.lastIndex() + 1, r.cfg.maxSizePerMsg)
  if (ents.length === 0 && !sendIfEmpty) return false
  r.send('MsgApp', to, r.term, { index: prevIndex, logTerm: prevTerm, entries: ents, commit: r.log.committed })
  pr.sentEntries(ents.length, ents.length === 0 ? prevIndex : ents[ents.length - 1]!.index)
  return true
}

export function sendAppend(r: RaftState, to: NodeId): void {
  maybeSendAppend(r, to, true)
}

export function bcastAppend(r: RaftState): void {
  r.bcastPending = false
  for (const id of r.trk.progress.keys()) {
    if (id === r.id) continue
    // in replicate state, pipeline as far as the inflight window allows
    if (maybeSendAppend(r, id, true)) while (maybeSendAppend(r, id, false));
  }
}

/**
 * Broadcast new entries or a new commit index before the next Ready rather
 * than at once: proposals and acknowledgements that arrive together then
 * share one MsgApp per follower. Messages only leave through a Ready, so
 * this changes batching, never behaviour. Raft.flush sends it.
 */
export function scheduleBcast(r: RaftState): void {
  r.bcastPending = true
}

function sendSnapshot(r: RaftState, to: NodeId, pr: Progress): boolean {
  const snap = r.log.snapshot
  if (snap === null || !pr.recentActive) return false
  pr.becomeSnapshot(snap.meta.index)
  sendSnapshotChunk(r, to, pr)
  return true
}

/**
 * The chunk at the follower's acknowledged offset, of the current snapshot —
 * unless the follower is in its back-off after a refusal, or this window's
 * byte budget for it is spent: every answer (an ack, a refusal, a heartbeat
 * answer) may ask for a chunk, and a follower that refuses every chunk must
 * not turn a few bytes of answers into megabytes of snapshot. The tick
 * resumes a deferred send (tickSnapshotBudgets).
 */
export function sendSnapshotChunk(r: RaftState, to: NodeId, pr: Progress): void {
  const snap = r.log.snapshot
  if (snap === null) return
  if (pr.pendingSnapshot !== snap.meta.index) pr.becomeSnapshot(snap.meta.index) // compacted again: restart
  if (pr.snapshotWait > 0) return
  const offset = pr.snapshotOffset
  const data = snap.data.subarray(offset, offset + r.cfg.maxSnapshotChunkSize)
  // at least one chunk per window, however large a chunk is
  if (pr.snapshotBytes > 0 && pr.snapshotBytes + data.length > snapshotBudget(r)) return
  pr.snapshotBytes += data.length
  r.send('MsgSnap', to, r.term, {
    snapshot: { meta: snap.meta, offset, total: snap.data.length, data },
  })
}

function snapshotBudget(r: RaftState): number {
  return r.cfg.maxSnapshotBytesPerWindow ?? SNAPSHOT_CHUNKS_PER_WINDOW * r.cfg.maxSnapshotChunkSize
}

/**
 * Leader, each tick: a follower's back-off runs down (and its chunk goes
 * when it ends); each election timeout starts a new byte window, and a
 * chunk the old window's budget held back goes now.
 */
export function tickSnapshotBudgets(r: RaftState, newWindow: boolean): void {
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id) continue
    let resume = newWindow && pr.snapshotBytes > 0
    if (newWindow) pr.snapshotBytes = 0
    if (pr.snapshotWait > 0 && --pr.snapshotWait === 0) resume = true
    if (resume && pr.state === 'snapshot') sendSnapshotChunk(r, id, pr)
  }
}

export function sendHeartbeat(r: RaftState, to: NodeId, context: Uint8Array | null): void {
  const pr = r.trk.progress.get(to)
  const commit = Math.min(pr?.match ?? 0, r.log.committed)
  r.send('MsgHeartbeat', to, r.term, { commit, context })
}

export function bcastHeartbeat(r: RaftState, context: Uint8Array | null = r.reads.lastContext()): void {
  for (const id of r.trk.progress.keys()) if (id !== r.id) sendHeartbeat(r, id, context)
}

export function sendTimeoutNow(r: RaftState, to: NodeId): void {
  r.send('MsgTimeoutNow', to, r.term)
}
