// Majority and joint-majority math (etcd raft's quorum package). Pure functions
// over member lists; nothing here knows about roles or terms.
import type { NodeId } from './types'

export type VoteResult = 'won' | 'lost' | 'pending'

/**
 * The highest index acknowledged by a majority of `voters`, given each voter's
 * acknowledged index. An empty voter set commits everything (Infinity), so
 * that `jointCommitted` can take the minimum of both halves unconditionally.
 */
export function majorityCommitted(voters: readonly NodeId[], acked: (id: NodeId) => number): number {
  const n = voters.length
  if (n === 0) return Infinity
  if (n === 1) return acked(voters[0]!)
  if (n === 3) {
    // the common case without an allocation: the median of three
    const a = acked(voters[0]!)
    const b = acked(voters[1]!)
    const c = acked(voters[2]!)
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c))
  }
  const idx: number[] = new Array<number>(n)
  for (let i = 0; i < n; i++) idx[i] = acked(voters[i]!)
  idx.sort((x, y) => y - x)
  // with n voters, the (floor(n/2)+1)-th highest index is on a majority
  return idx[(n >> 1)]!
}

/** A joint configuration commits what both of its majorities commit. */
export function jointCommitted(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  acked: (id: NodeId) => number,
): number {
  return Math.min(majorityCommitted(incoming, acked), majorityCommitted(outgoing, acked))
}

/**
 * Tally of a vote among `voters`: `votes` maps a voter to its answer; a voter
 * not in the map has not answered. Non-voters in `votes` are not counted. An
 * empty voter set wins (so a non-joint config passes as the outgoing half).
 */
export function majorityVote(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won'
  let yes = 0
  let missing = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === undefined) missing++
    else if (v) yes++
  }
  const q = (voters.length >> 1) + 1
  if (yes >= q) return 'won'
  if (yes + missing >= q) return 'pending'
  return 'lost'
}

/** A joint vote is won when both halves win and lost when either loses. */
export function jointVote(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const a = majorityVote(incoming, votes)
  const b = majorityVote(outgoing, votes)
  if (a === b) return a
  if (a === 'lost' || b === 'lost') return 'lost'
  return 'pending'
}
