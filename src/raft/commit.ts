// The commit index at the leader: it advances to what a quorum holds, of the
// leader's own term only (§5.4.2), and the leader's own vote in that count
// is its disk, not its log (selfAckStable, Raft thesis §10.2.1).
import { PLANTED_BUGS } from './planted-bugs'
import type { RaftState } from './raft-state'
import { scheduleBcast } from './replication'

/** Advance commit to what a quorum acknowledged, if it is of this term (§5.4.2). */
export function maybeCommit(r: RaftState): boolean {
  const mci = r.trk.committed()
  if (!Number.isFinite(mci) || mci <= r.log.committed) return false
  if (!(PLANTED_BUGS && r.bugs.commitOldTermByCounting === true) && r.log.term(mci) !== r.term) return false
  const old = r.log.committed
  if (!r.log.commitTo(mci)) return false
  for (let i = old + 1; i <= mci; i++) {
    const e = r.log.entryAt(i)
    if (e?.term === r.term) r.uncommittedSize -= e.data.length
  }
  if (r.uncommittedSize < 0) r.uncommittedSize = 0
  r.reads.onCommit()
  return true
}

/**
 * The driver persisted entries up to log.stableIndex (RawNode.advance after
 * the save): a leader counts its own acknowledgement now, and a commit it
 * unlocks goes out with the next broadcast. etcd raft's MsgStorageAppendResp
 * to the leader itself, as a call.
 */
export function selfAckStable(r: RaftState): void {
  if (r.role !== 'leader') return
  const pr = r.trk.progress.get(r.id)
  if (pr !== undefined && pr.maybeUpdate(r.log.stableIndex) && maybeCommit(r)) scheduleBcast(r)
}
