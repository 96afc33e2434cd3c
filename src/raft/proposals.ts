// New entries in the leader's log: proposals (the app's own, those forwarded
// by followers, conf changes, the automatic leave of a joint configuration)
// and the append of entries of the leader's term under the uncommitted-size
// cap. Their commit is commit.ts's; a conf entry takes effect as it is
// handed out (membership.ts).
import { maybeCommit } from './commit'
import { applyConfChange, encodeConfChange, isJoint } from './confchange'
import { RaftError } from './errors'
import { applyConfEntry } from './membership'
import { PLANTED_BUGS } from './planted-bugs'
import type { RaftState } from './raft-state'
import { bcastAppend, scheduleBcast } from './replication'
import type { ConfChange, Entry, Message } from './types'

/**
 * The leader appends entries of its term. `internal` entries (no-op,
 * auto-leave) bypass the uncommitted cap. Returns false when over the cap.
 */
export function appendEntries(r: RaftState, ents: Entry[], internal: boolean): boolean {
  let size = 0
  for (const e of ents) size += e.data.length
  if (!internal && r.uncommittedSize > 0 && size > 0 && r.uncommittedSize + size > r.cfg.maxUncommittedEntriesSize) {
    return false
  }
  r.uncommittedSize += size
  let li = r.log.lastIndex()
  const out: Entry[] = new Array<Entry>(ents.length)
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i]!
    out[i] = { term: r.term, index: ++li, type: e.type, data: e.data }
  }
  r.log.append(out)
  if (PLANTED_BUGS && r.bugs.confChangeTooEarly === true) for (const e of r.confReplay.takeAppended(out)) applyConfEntry(r, e)
  // The leader's own acknowledgement counts only once the entries are on
  // its disk (selfAckStable, after the driver's save): it may send them to
  // followers meanwhile (Raft thesis §10.2.1), but its vote in the commit
  // count vouches for its disk like any follower's MsgAppResp (invariant 2).
  if (PLANTED_BUGS && r.bugs.leaderAckBeforePersist === true) r.trk.progress.get(r.id)?.maybeUpdate(li)
  maybeCommit(r)
  return true
}

/** The app's proposal: appended by a leader, forwarded by a follower to its leader. */
export function propose(r: RaftState, data: Uint8Array): void {
  switch (r.role) {
    case 'leader':
      if (r.leadTransferee !== null) throw new RaftError('TRANSFER_IN_PROGRESS', `handing over to ${r.leadTransferee}`)
      if (data.length > r.cfg.maxUncommittedEntriesSize) {
        throw new RaftError('UNCOMMITTED_TOO_LARGE', 'entry is larger than maxUncommittedEntriesSize')
      }
      if (!appendEntries(r, [{ term: 0, index: 0, type: 'normal', data }], false)) {
        throw new RaftError('UNCOMMITTED_TOO_LARGE', `${r.uncommittedSize} bytes uncommitted`)
      }
      scheduleBcast(r)
      return
    case 'follower':
      if (r.lead === null) throw new RaftError('NO_LEADER')
      r.send('MsgProp', r.lead, 0, { entries: [{ term: 0, index: 0, type: 'normal', data }] })
      return
    default:
      throw new RaftError('NO_LEADER', `campaigning (${r.role})`)
  }
}

/** Leader: a follower's forwarded MsgProp. Dropped silently when it cannot be taken. */
export function acceptForwardedProposal(r: RaftState, m: Message): void {
  if (r.leadTransferee !== null || m.entries.length === 0) return
  if (!r.trk.progress.has(m.from)) return
  // membership changes only through the leader's own proposeConfChange
  for (const e of m.entries) if (e.type !== 'normal' || !(e.data instanceof Uint8Array)) return
  if (appendEntries(r, m.entries, false)) scheduleBcast(r)
}

/** After the driver applied up to `applied`: leave a joint config automatically. */
export function afterApplied(r: RaftState): void {
  const conf = r.trk.conf
  if (r.role === 'leader' && isJoint(conf) && conf.autoLeave && r.pendingConfIndex <= r.log.applied) {
    const leave: ConfChange = { changes: [], transition: 'auto' }
    appendEntries(r, [{ term: 0, index: 0, type: 'conf', data: encodeConfChange(leave) }], true)
    r.pendingConfIndex = r.log.lastIndex()
    bcastAppend(r)
  }
}

/** Leader: propose a membership change; one at a time (pendingConfIndex). */
export function proposeConfChange(r: RaftState, cc: ConfChange): void {
  if (r.role !== 'leader') throw new RaftError('NOT_LEADER')
  if (r.leadTransferee !== null) throw new RaftError('TRANSFER_IN_PROGRESS')
  if (r.pendingConfIndex > r.log.applied) {
    throw new RaftError('CONF_CHANGE_PENDING', `conf entry ${r.pendingConfIndex} is not applied yet`)
  }
  applyConfChange(r.trk.conf, cc) // throws INVALID_CONF_CHANGE
  const data = encodeConfChange(cc)
  if (!appendEntries(r, [{ term: 0, index: 0, type: 'conf', data }], false)) {
    throw new RaftError('UNCOMMITTED_TOO_LARGE', `${r.uncommittedSize} bytes uncommitted`)
  }
  r.pendingConfIndex = r.log.lastIndex()
  bcastAppend(r)
}
