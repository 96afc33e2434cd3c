// Who may take part in our consensus (issue 13: outsiders cannot touch it).
//
// Raft trusts every message it steps: a single MsgHeartbeat with a huge term
// makes a follower adopt and persist that term. So the driver lets a raft
// message reach the core only from a peer that has a place in it:
//   - a member of a configuration hears only the voters, learners and
//     outgoing voters of that configuration (a leader, likewise, counts
//     answers only from them); a peer that merely claims our cluster id is
//     not enough, the id is public;
//   - a newcomer (in no configuration yet) hears only peers of the cluster it
//     is joining, never another newcomer: the leader that adds it is one of
//     them, and the configuration it learns from that leader takes over.
// A member whose configuration is stale (it slept through a change that
// added the new leader) would drop the new leader for good: a peer outside
// our configuration is heard too when a member OF our configuration, linked
// to us, names it as its leader in its own cluster claim. An outsider cannot
// vouch for itself; only an insider can vouch (and an insider can break Raft
// anyway: it is not Byzantine-tolerant).
// A member that is no longer in its own configuration (removed while away)
// is treated as a newcomer of its cluster, so it can be added back.
import type { ConfState } from '../raft/types'

export interface GateView {
  self: string
  conf: ConfState
  /** our cluster; null for a newcomer that joined none yet */
  clusterId: string | null
  /** the cluster the peer said it belongs to ('' = none yet; undefined = not introduced) */
  peerCluster: string | undefined
  /** the cluster a newcomer will join: the winner among those it met.
   *  Asked only of a newcomer (it weighs every claim: not per message) */
  joining(): string | null
  /** does a linked member of our configuration name this peer as its leader?
   *  Asked only of a peer outside our configuration */
  vouched(): boolean
}

export function inConfiguration(conf: ConfState, id: string): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id) || conf.votersOutgoing.includes(id) || conf.learnersNext.includes(id)
}

/** May a raft message from `peer` reach our core? */
export function acceptsRaftFrom(peer: string, v: GateView): boolean {
  const theirs = v.peerCluster
  if (theirs === undefined) return false // not introduced yet (its introduction is resent)
  if (inConfiguration(v.conf, v.self)) {
    // a newcomer's core takes in the configuration that adds it before its
    // driver applies it and adopts the cluster (ClusterIdentity.adopt): in
    // between, its cluster is still the one it is joining. Without this, the
    // leader's next message (the commit index right behind our first
    // entries) was dropped, and the newcomer waited for a heartbeat.
    const ours = v.clusterId ?? v.joining()
    // a learner just added may not know its cluster yet (''): its place in our configuration is what counts
    if (inConfiguration(v.conf, peer)) return theirs === '' || theirs === ours
    return theirs === ours && v.vouched()
  }
  const target = v.clusterId ?? v.joining()
  return target !== null && theirs === target
}
