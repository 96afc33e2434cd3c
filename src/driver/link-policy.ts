// Which peers a member needs a link to (issue 17, item 5: bounded fan-out).
//
// Raft needs links only where messages flow: the leader to every member
// (appends, heartbeats, snapshots), voters among themselves (votes, and any
// voter may lead next), and a member to its leader (forwards, reads,
// session heartbeats, joins). Two learners never message each other. So:
//   - a voter (of either half of a joint configuration) wants a link to
//     every peer: it may lead, and a newcomer must reach the leader;
//   - a learner wants links to the voters only;
//   - a member outside the configuration (a newcomer, or one that was
//     removed) wants links to everyone: it cannot tell a voter from a
//     learner until it has applied a configuration, and it must find the
//     leader to be added.
// A pair is linked when either side wants it (the transport answers offers
// and knocks whatever it wants; it only stops making and keeping links
// nobody on its side needs). So a learner whose view of the configuration
// is stale is still reached by a leader it takes for a learner, and learns
// the new configuration from it. With at most `maxVoters` voters (default 5)
// a learner holds at most that many links, whatever the mesh's size; a
// voter holds one per member (the leader must reach each directly: no
// frame is relayed, so the transport's end-to-end authentication stays
// exactly as it is).
import type { ConfState } from '../raft/types'
import { inConfiguration } from './consensus-gate'

function isVoter(conf: ConfState, id: string): boolean {
  return conf.voters.includes(id) || conf.votersOutgoing.includes(id)
}

/** Does `self` want a link to `peer`, as far as `conf` (its view of the configuration) goes? */
export function wantsLink(self: string, peer: string, conf: ConfState): boolean {
  if (peer === self) return false
  if (!inConfiguration(conf, self)) return true
  return isVoter(conf, self) || isVoter(conf, peer)
}

/** A key that changes exactly when wantsLink's answers for `self` may change. */
export function linkPolicyKey(self: string, conf: ConfState): string {
  if (!inConfiguration(conf, self)) return '*'
  if (isVoter(conf, self)) return 'voter'
  return `learner:${[...conf.voters, ...conf.votersOutgoing].sort().join(',')}`
}
