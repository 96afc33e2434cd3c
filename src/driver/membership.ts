// Membership policy (design.md, "Membership, the Raft variant"), run by the
// leader. A pure function of facts → the next ConfChange to propose, or null.
// The core rejects a second change while one is pending, and we only ever
// propose one, so changes happen one at a time; a replacement (remove a voter,
// promote a learner) is a single joint-consensus change. Newcomers are added
// together, and caught-up learners promoted together (joint consensus when
// more than one voter is added): one change per kind, not one per member. Tabs
// opened together each waited for the change before theirs to commit and for
// the leader's next membership round (16 tabs over 4 browsers: every tab in
// the configuration ~4 s after the last page was ready, voters 2-5 s later).
//
// Order of business, first match wins:
//   1. a joint configuration is being left: wait;
//   2. members that left gracefully or are certified dead (a free Web Lock)
//      go at once; dead voters (silent past the failure timeout) go too —
//      replaced by a caught-up learner in the same change when one exists;
//   3. members that asked to join are added as learners (up to
//      MAX_ADDED_AT_ONCE in one change);
//   4. caught-up learners are promoted while voters < maxVoters, spreading
//      voters across browsers first (a device that dies takes its voters),
//      as many as there are free voter places in one change;
//   5. when voters are full but a learner's browser has no voter while another
//      browser has several, they swap.
import type { ConfChange, ConfState, NodeId } from '../raft/types'

/** newcomers added as learners in one change, at most (bounds the entry) */
export const MAX_ADDED_AT_ONCE = 16

export interface PeerProgress {
  match: number
  recentActive: boolean
}

export interface MembershipFacts {
  self: NodeId
  conf: ConfState
  progress: Map<NodeId, PeerProgress> | null
  commit: number
  now: number
  /** members that asked to join, with their browser id */
  joiners: Map<NodeId, string>
  /** browser id of every member we know of */
  browserOf: (id: NodeId) => string | undefined
  /** ms timestamp of the last message from a peer (undefined: never) */
  lastHeard: (id: NodeId) => number | undefined
  /** left gracefully or certified dead */
  departed: ReadonlySet<NodeId>
}

export interface MembershipPolicy {
  maxVoters: number
  /** a voter silent this long is dead */
  failureTimeoutMs: number
  /** a learner within this many entries of the commit index is caught up */
  catchUpLag: number
}

export function nextConfChange(f: MembershipFacts, policy: MembershipPolicy): ConfChange | null {
  const { conf } = f
  if (conf.votersOutgoing.length > 0) return null
  const voters = conf.voters
  const learners = conf.learners
  const inConf = new Set([...voters, ...learners])

  const caughtUp = learners.filter((l) => isCaughtUp(f, l, policy))
  const dead = (id: NodeId): boolean => {
    if (id === f.self) return false
    if (f.departed.has(id)) return true
    const heard = f.lastHeard(id)
    return heard === undefined || f.now - heard > policy.failureTimeoutMs
  }

  // 2. departed and dead members
  for (const v of voters) {
    if (!dead(v)) continue
    const replacement = pickForPromotion(f, caughtUp.filter((l) => !dead(l)), voters.filter((x) => x !== v))
    return replacement === null
      ? single({ type: 'remove', node: v })
      : { changes: [{ type: 'remove', node: v }, { type: 'addVoter', node: replacement }], transition: 'auto' }
  }
  for (const l of learners) if (dead(l)) return single({ type: 'remove', node: l })

  // 3. newcomers
  // (only live ones: a removed member that is still silent is not re-added)
  const newcomers = [...f.joiners.keys()].filter((id) => !inConf.has(id) && !dead(id)).slice(0, MAX_ADDED_AT_ONCE)
  if (newcomers.length > 0) return { changes: newcomers.map((node) => ({ type: 'addLearner', node })), transition: 'auto' }

  // 4. promotion, each pick counting the voters picked before it
  const promoted: NodeId[] = []
  while (voters.length + promoted.length < policy.maxVoters) {
    const pick = pickForPromotion(f, caughtUp.filter((l) => !promoted.includes(l)), [...voters, ...promoted])
    if (pick === null) break
    promoted.push(pick)
  }
  if (promoted.length > 0) return { changes: promoted.map((node) => ({ type: 'addVoter', node })), transition: 'auto' }

  // 5. spread voters across browsers
  const perBrowser = countByBrowser(f, voters)
  for (const l of caughtUp) {
    const b = f.browserOf(l)
    if (b === undefined || (perBrowser.get(b) ?? 0) > 0) continue
    const crowded = voters.find((v) => v !== f.self && (perBrowser.get(f.browserOf(v) ?? '') ?? 0) > 1)
    if (crowded !== undefined) {
      return {
        changes: [
          { type: 'addLearner', node: crowded },
          { type: 'addVoter', node: l },
        ],
        transition: 'auto',
      }
    }
  }
  return null
}

function single(change: ConfChange['changes'][number]): ConfChange {
  return { changes: [change], transition: 'auto' }
}

function isCaughtUp(f: MembershipFacts, id: NodeId, policy: MembershipPolicy): boolean {
  const p = f.progress?.get(id)
  if (p === undefined) return false
  return p.recentActive && p.match + policy.catchUpLag >= f.commit
}

/** the learner to promote: one whose browser has the fewest voters; ties by id for determinism */
function pickForPromotion(f: MembershipFacts, candidates: NodeId[], voters: NodeId[]): NodeId | null {
  if (candidates.length === 0) return null
  const perBrowser = countByBrowser(f, voters)
  const sorted = [...candidates].sort((a, b) => {
    const ca = perBrowser.get(f.browserOf(a) ?? '') ?? 0
    const cb = perBrowser.get(f.browserOf(b) ?? '') ?? 0
    return ca - cb || (a < b ? -1 : a > b ? 1 : 0)
  })
  return sorted[0] ?? null
}

function countByBrowser(f: MembershipFacts, voters: NodeId[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const v of voters) {
    const b = f.browserOf(v) ?? ''
    m.set(b, (m.get(b) ?? 0) + 1)
  }
  return m
}
