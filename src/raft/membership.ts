// Membership as the core applies it: the bootstrap configuration, a conf
// entry taking effect (as it is handed out for application), and the app's
// forced takeover (forceSoleVoter). Which conf entries are in effect is
// ConfReplay's job (conf-replay.ts), the transitions are confchange.ts's,
// and proposing a change is proposals.ts's.
import { maybeCommit } from './commit'
import { encodeConfChange, isJoint } from './confchange'
import { confAfter, confAt } from './conf-replay'
import { RaftError } from './errors'
import type { RaftState } from './raft-state'
import { bcastAppend } from './replication'
import { becomeFollower } from './roles'
import type { ConfChange, ConfState, Entry } from './types'

/**
 * A brand-new cluster: its configuration becomes committed conf entries at
 * the start of the log (term 1), one single change each, so that members
 * catching up from index 1 learn the configuration like any other change.
 */
export function bootstrap(r: RaftState, conf: ConfState): void {
  const changes: ConfChange[] = [
    ...conf.voters.map((node): ConfChange => ({ changes: [{ type: 'addVoter', node }], transition: 'auto' })),
    ...conf.learners.map((node): ConfChange => ({ changes: [{ type: 'addLearner', node }], transition: 'auto' })),
  ]
  if (changes.length === 0) throw new RaftError('BAD_CONFIG', 'bootstrap needs at least one voter')
  const ents = changes.map((cc, i): Entry => ({ term: 1, index: i + 1, type: 'conf', data: encodeConfChange(cc) }))
  r.log.append(ents)
  r.log.stableIndex = 0
  r.log.inProgressIndex = 0
  r.log.committed = ents.length
  r.term = 1
}

/**
 * Apply one conf entry. An invalid one is skipped: every member skips it
 * alike, since all see the same entry against the same config.
 */
export function applyConfEntry(r: RaftState, e: Entry): void {
  const next = confAfter(r.trk.conf, e)
  if (next !== null) switchToConf(r, next)
}

function switchToConf(r: RaftState, cs: ConfState): void {
  r.trk.setConf(cs, r.log.lastIndex() + 1)
  if (r.role !== 'leader') return
  if (!r.trk.isVoter(r.id)) {
    // removed (or demoted) by a committed change: stop leading
    becomeFollower(r, r.term, null)
    return
  }
  if (r.leadTransferee !== null && !r.trk.isVoter(r.leadTransferee)) r.leadTransferee = null
  // the quorum changed: commit may advance; new members need the log
  maybeCommit(r)
  bcastAppend(r)
}

/**
 * The app's explicit takeover when quorum is gone for good (etcd's
 * --force-new-cluster): every other voter is removed without its vote, and
 * our whole log counts as committed. A term of our own first, so no entry we
 * write matches another member's at the same (index, term). The removals
 * are single conf entries (a joint configuration is left first), committed
 * at once, taking effect as they are applied like any other; the driver
 * then campaigns as the only voter. Learners stay. Returns the last index
 * written. Unsafe by nature: entries others committed that we lack are
 * lost, and a member that had them finds its committed log contradicted
 * (committedConflictFrom) when it comes back.
 */
export function forceSoleVoter(r: RaftState): number {
  if (!r.trk.conf.voters.includes(r.id)) throw new RaftError('INVALID_CONF_CHANGE', 'only a voter of the configuration can take it over')
  if (r.confReplay.hasCommittedNotInEffect(r.log)) throw new RaftError('CONF_CHANGE_PENDING', 'a committed conf entry is not applied yet')
  // the configuration once every conf entry in our log is in effect
  const conf = confAt(r.log, r.log.lastIndex())
  if (!conf.voters.includes(r.id)) throw new RaftError('INVALID_CONF_CHANGE', 'our log removes us: we cannot take the configuration over')
  const changes: ConfChange[] = []
  if (isJoint(conf)) changes.push({ changes: [], transition: 'auto' })
  for (const v of conf.voters) if (v !== r.id) changes.push({ changes: [{ type: 'remove', node: v }], transition: 'auto' })
  if (changes.length === 0) return r.log.lastIndex()
  becomeFollower(r, r.term + 1, null)
  r.vote = r.id
  let li = r.log.lastIndex()
  const ents = changes.map((cc): Entry => ({ term: r.term, index: ++li, type: 'conf', data: encodeConfChange(cc) }))
  r.log.append(ents)
  r.trk.progress.get(r.id)?.maybeUpdate(li)
  r.log.commitTo(li)
  return li
}
