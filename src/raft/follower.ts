// The follower's role: taking the leader's entries (§5.3) and snapshot chunks,
// answering heartbeats and reads, and campaigning when the leader hands over
// (MsgTimeoutNow). A committed log the leader contradicts is reported to the
// driver (committedConflictFrom), never overwritten.
import { cloneConfState } from './confchange'
import { hup } from './elections'
import { applyConfEntry } from './membership'
import { PLANTED_BUGS } from './planted-bugs'
import type { RaftState } from './raft-state'
import type { Message, Snapshot } from './types'
import { isCount } from './types'

export function stepFollower(r: RaftState, m: Message): void {
  switch (m.type) {
    case 'MsgApp':
      r.electionElapsed = 0
      r.lead = m.from
      handleAppendEntries(r, m)
      return
    case 'MsgHeartbeat':
      r.electionElapsed = 0
      r.lead = m.from
      r.log.commitTo(m.commit)
      r.send('MsgHeartbeatResp', m.from, r.term, { context: m.context })
      return
    case 'MsgSnap':
      r.electionElapsed = 0
      r.lead = m.from
      handleSnapshotChunk(r, m)
      return
    case 'MsgTimeoutNow':
      // the leader hands over: campaign at once, without PreVote
      hup(r, 'transfer')
      return
    case 'MsgReadIndexResp':
      if (m.context !== null) r.readStates.push({ index: m.index, context: m.context })
      return
  }
}

function handleAppendEntries(r: RaftState, m: Message): void {
  if (contradictsCommitted(r, m)) {
    // our committed history is not theirs (forceSoleVoter): the driver
    // diverges at its next tick. No acknowledgement meanwhile: the "I have
    // up to my commit" answer below would vouch for a log we do not hold
    // (a leader could promote or count us on it). The planted bug that
    // commits old-term entries by counting keeps etcd's answer, so its
    // consequence (two values at one index) stays visible to the checks.
    r.committedConflictFrom = m.from
    if (!(PLANTED_BUGS && r.bugs.commitOldTermByCounting === true)) return
  }
  if (m.index < r.log.committed) {
    r.send('MsgAppResp', m.from, r.term, { index: r.log.committed })
    return
  }
  const ents = m.entries
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i]!
    if (e.index !== m.index + 1 + i || !isCount(e.term) || e.term === 0 || e.term > m.term) return // malformed
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, ents, PLANTED_BUGS && r.bugs.noTruncateOnConflict === true)
  const cut = r.log.takeTruncation()
  if (cut > 0) dropAcksFrom(r, cut)
  if (lastNew >= 0) {
    if (PLANTED_BUGS && r.bugs.confChangeTooEarly === true) for (const e of r.confReplay.takeAppended(ents)) applyConfEntry(r, e)
    r.send('MsgAppResp', m.from, r.term, { index: lastNew })
    return
  }
  // tell the leader where our log could match it (etcd's findConflictByTerm)
  const [hintIndex, hintTerm] = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm)
  r.send('MsgAppResp', m.from, r.term, { index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm })
}

/** Does the MsgApp disagree with an entry we hold as committed? (compacted ones are not known) */
function contradictsCommitted(r: RaftState, m: Message): boolean {
  const committed = r.log.committed
  if (m.index <= committed) {
    const t = r.log.term(m.index)
    if (t !== undefined && t !== m.logTerm) return true
  }
  for (const e of m.entries) {
    if (e.index > committed) break
    const t = r.log.term(e.index)
    if (t !== undefined && t !== e.term) return true
  }
  return false
}

/**
 * Entries from `index` on were replaced before the Ready holding them was
 * persisted. An acknowledgement still queued in `msgs` for such an entry
 * (to a leader of an older term) would leave after the persist of the
 * *replacing* entries and vouch for entries that never reached the disk;
 * a stale leader could count it toward a commit. Drop those; the leader
 * learns our log again from the next exchange. (Acks handed out in earlier
 * Readies are fine: they leave only after their own entries are durable.)
 */
function dropAcksFrom(r: RaftState, index: number): void {
  r.msgs = r.msgs.filter((x) => !(x.type === 'MsgAppResp' && !x.reject && x.index >= index))
}

function handleSnapshotChunk(r: RaftState, m: Message): void {
  if (m.snapshot === null) return
  const snapIndex = m.snapshot.meta.index
  const got = r.snapshotReceipt.receive(m.snapshot, m.term, r.log.committed, r.log.term(r.log.committed) ?? 0)
  switch (got.kind) {
    case 'ignore':
      return
    case 'committed':
      r.send('MsgAppResp', m.from, r.term, { index: r.log.committed })
      return
    case 'ack':
      r.send('MsgSnapResp', m.from, r.term, { rejectHint: snapIndex, index: got.received })
      return
    case 'refuse':
      r.send('MsgSnapResp', m.from, r.term, { rejectHint: snapIndex, reject: true })
      return
    case 'complete':
      restore(r, got.snapshot)
      r.send('MsgAppResp', m.from, r.term, { index: r.log.lastIndex() })
      return
  }
}

/** Install a snapshot from the leader. False when it brings nothing new. */
function restore(r: RaftState, snap: Snapshot): boolean {
  const { index, term } = snap.meta
  if (index <= r.log.committed) return false
  if (r.log.matchTerm(index, term)) {
    // our log already holds it: just fast-forward the commit
    r.log.commitTo(index)
    return false
  }
  r.log.restore(snap)
  r.trk.setConf(cloneConfState(snap.meta.conf), r.log.lastIndex() + 1)
  r.confReplay.appliedIndex = index
  return true
}
