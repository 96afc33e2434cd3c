// Role changes: what every change of term or role resets, and what follower,
// pre-candidate and candidate start with (a leader starts in elections.ts,
// as a campaign's outcome). A role is only the step and tick it runs (raft.ts
// dispatches on `role`), so changing role is changing these fields.
import { PLANTED_BUGS } from './planted-bugs'
import type { RaftState } from './raft-state'
import { Progress } from './tracker'
import type { NodeId } from './types'

/** The one randomness draw of the core: cfg.random, injected by the driver. */
function resetRandomizedElectionTimeout(r: RaftState): void {
  const et = r.cfg.electionTick
  r.randomizedElectionTimeout = et + Math.floor(r.cfg.random() * et)
}

/** A new term, or a new role in it: timers, votes, the transfer, every follower's progress and the leader's bookkeeping start over. */
export function reset(r: RaftState, term: number): void {
  if (r.term !== term) {
    r.term = term
    r.vote = null
  }
  r.lead = null
  r.electionElapsed = 0
  r.heartbeatElapsed = 0
  resetRandomizedElectionTimeout(r)
  r.leadTransferee = null
  r.trk.resetVotes()
  const last = r.log.lastIndex()
  for (const id of [...r.trk.progress.keys()]) {
    const pr = new Progress(last + 1, r.cfg.maxInflightMsgs)
    // a new term starts with nobody heard from (CheckQuorum, snapshots)
    // our own match is what our disk holds, not what our log holds: entries
    // still in a save in flight count when it completes (selfAckStable)
    if (id === r.id) pr.match = PLANTED_BUGS && r.bugs.leaderAckBeforePersist === true ? last : r.log.stableIndex
    else pr.recentActive = false
    r.trk.progress.set(id, pr)
  }
  r.pendingConfIndex = 0
  r.uncommittedSize = 0
  r.reads.clear()
}

export function becomeFollower(r: RaftState, term: number, lead: NodeId | null): void {
  reset(r, term)
  r.lead = lead
  r.role = 'follower'
  if (lead !== null) {
    r.campaignIfRefused = false
    r.campaignAgainIfStale = false
  }
}

export function becomePreCandidate(r: RaftState): void {
  // PreVote changes neither term nor vote: a partitioned member that
  // cannot win does not disturb the cluster when it comes back (§9.6)
  r.campaignIfRefused = false
  r.trk.resetVotes()
  r.lead = null
  r.role = 'pre-candidate'
}

export function becomeCandidate(r: RaftState): void {
  r.campaignIfRefused = false
  reset(r, r.term + 1)
  r.vote = r.id
  r.role = 'candidate'
}
