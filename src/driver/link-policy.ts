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

/**
 * How far wantsLink's answers may be applied, given the links we have now.
 * Cutting a link can cut what the member still needs from it:
 *  1. The only path to the peers it wants. A peer that shares no signaling
 *     server with us is reached through signals a linked neighbour relays
 *     (the transport's relay). A newcomer whose one neighbour was not the
 *     leader, told by that neighbour's claim who leads, closed that link at
 *     once and with it the relayed attempt at the leader; its next tick,
 *     linked to nobody, wanted everyone and linked the neighbour again,
 *     whose claim closed it again: it never joined (devices.spec's relay
 *     test, meet.spec's lone device after its cluster lost). So:
 *       - 'reached': linked to a peer we want: wantsLink decides;
 *       - 'stranded': linked only to peers we do not want: those links stay
 *         (one may be relaying our way to the peers we want) and no other
 *         unwanted link is made; they go once a wanted peer is linked;
 *       - 'alone': linked to nobody: every peer is wanted, as before any policy.
 *  2. A newcomer's choice of cluster: it joins the heaviest cluster among
 *     those its linked peers claim (cluster-meet.ts), so a link to a peer
 *     whose claim it has not heard yet, or that claims another cluster than
 *     the one it means to join, stays (`weighing`). Closing it made a new tab
 *     that heard the lone device's claim first join the lone device and lose
 *     with it (meet.spec). Clusters meet rarely: in a room of one cluster,
 *     the newcomer still drops its links to that cluster's other members
 *     once their claims are in.
 */
export type Reach = 'reached' | 'stranded' | 'alone'

/** The member's links as the policy reads them. */
export interface LinkView {
  /** peers with an open link */
  linked: readonly string[]
  /** linked peers a newcomer still weighs (2. above): no claim heard, or another cluster's */
  weighing: readonly string[]
}

export function reachOf(self: string, conf: ConfState, leader: string | null, links: LinkView): Reach {
  if (links.linked.length === 0) return 'alone'
  return links.linked.some((peer) => wantsLink(self, peer, conf, leader)) ? 'reached' : 'stranded'
}

/** Does `self` want (or keep) a link to `peer`: wantsLink, within what `links` says it still needs. */
export function keepsLink(self: string, peer: string, conf: ConfState, leader: string | null, links: LinkView): boolean {
  if (peer === self) return false
  const reach = reachOf(self, conf, leader, links)
  if (reach === 'alone' || wantsLink(self, peer, conf, leader)) return true
  return links.linked.includes(peer) && (reach === 'stranded' || links.weighing.includes(peer))
}

/** A key that changes exactly when keepsLink's answers for `self` may change. */
export function keepPolicyKey(self: string, conf: ConfState, leader: string | null, links: LinkView): string {
  const key = linkPolicyKey(self, conf, leader)
  // a voter, and a newcomer that knows no leader, want every peer whatever they are linked to
  if (key === 'voter' || key === '*') return key
  const reach = reachOf(self, conf, leader, links)
  if (reach === 'alone') return '*'
  // stranded, keepsLink keeps whatever is linked: no link to close whatever comes up
  if (reach === 'stranded') return `${key}|stranded`
  return links.weighing.length === 0 ? key : `${key}|weighing:${[...links.weighing].sort().join(',')}`
}
