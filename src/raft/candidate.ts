// The (pre-)candidate's role: counting the answers to its campaign
// (elections.ts), or following a leader of its term that shows up.
import { becomeLeader, campaign } from './elections'
import { stepFollower } from './follower'
import type { RaftState } from './raft-state'
import { bcastAppend } from './replication'
import { becomeFollower } from './roles'
import type { Message } from './types'

/** The (pre-)candidate's step: count the answers, or follow a leader of our term. */
export function stepCandidate(r: RaftState, m: Message): void {
  switch (m.type) {
    case 'MsgApp':
    case 'MsgHeartbeat':
    case 'MsgSnap':
      // a leader of our term exists: follow it
      becomeFollower(r, m.term, m.from)
      stepFollower(r, m)
      return
    case 'MsgVoteResp':
    case 'MsgPreVoteResp': {
      const expected = r.role === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp'
      if (m.type !== expected) return
      r.trk.recordVote(m.from, !m.reject)
      if (m.reject && m.commit > r.log.committed && r.log.matchTerm(m.commit, m.logTerm)) r.log.commitTo(m.commit)
      const res = r.trk.voteResult()
      if (res === 'won') {
        if (r.role === 'pre-candidate') campaign(r, 'election')
        else {
          becomeLeader(r)
          bcastAppend(r)
        }
      } else if (res === 'lost') {
        becomeFollower(r, r.term, null)
      }
      return
    }
  }
}
