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
//     removed) must reach the leader to be added: once it knows the leader
//     (it follows one, or a claim of the cluster it joins names one) it
//     wants that one only; before, everyone (it cannot tell roles apart).
//     Without this, tabs opened together each tried a link to every other
//     tab before any of them was in a configuration: n·(n-1)/2 WebRTC
//     connections (1,225 for 50 tabs) made only to be dropped.
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

/** Does `self` want a link to `peer`, as far as `conf` (its view of the
 *  configuration) and `leader` (the leader it knows of, if any) go? */
export function wantsLink(self: string, peer: string, conf: ConfState, leader: string | null = null): boolean {
  if (peer === self) return false
  if (!inConfiguration(conf, self)) return leader === null || leader === self || peer === leader
  return isVoter(conf, self) || isVoter(conf, peer)
}

/** A key that changes exactly when wantsLink's answers for `self` may change. */
export function linkPolicyKey(self: string, conf: ConfState, leader: string | null = null): string {
  if (!inConfiguration(conf, self)) return leader === null || leader === self ? '*' : `newcomer:${leader}`
  if (isVoter(conf, self)) return 'voter'
  return `learner:${[...conf.voters, ...conf.votersOutgoing].sort().join(',')}`
}
