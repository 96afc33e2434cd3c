// Fault mixes aimed at each planted bug, so the simulator finds it in few
// seeds. Each mix only makes the bug's trigger likely; the checks are the
// same safety checks every seed runs.
import type { PlantedBugs } from '../../src/raft/types'
import type { FaultKind, FaultMix } from './nemesis'

const none: Record<FaultKind, number> = {
  network: 0, partition: 0, cut: 0, isolate: 0, heal: 0, crash: 0, freeze: 0, disk: 0,
  addLearner: 0, promote: 0, remove: 0, replaceDead: 0, swap: 0, transfer: 0,
}

/** For each planted bug, the fault mix overrides that trigger it. */
export const BUG_MIXES: Record<keyof PlantedBugs, Partial<FaultMix>> = {
  // Any append acknowledged before its write is durable.
  ackBeforePersist: {},
  // Two candidates in one term, a voter asked twice: plain elections under loss.
  voteTwice: {},
  // Figure 8: entries trickle one per MsgApp, so an old-term entry reaches a
  // majority before the new leader's own entry does. (Found by the §5.4.2
  // commit-rule check; FIGURE_8 below finds the later loss of the entry.)
  commitOldTermByCounting: { voters: 5, maxSizePerMsg: 1 },
  // A deposed leader keeps leading: isolate and heal leaders.
  leaderNeverStepsDown: {},
  // Stale vote grants arrive a term late: long delays, many duplicates, no PreVote.
  ignoreResponseTerm: {
    voters: 3, preVote: false, checkQuorum: false, maxDelayMs: 600, maxDuplicate: 0.8, maxReorder: 1, maxDrop: 0,
    gapMs: [20, 50], weights: { ...none, network: 6, partition: 1, heal: 2, isolate: 1 },
  },
  // Joint changes that swap voters, followed by a partition along the change.
  confChangeTooEarly: {
    voters: 3, partitionAfterChurn: 1,
    weights: { ...none, network: 1, partition: 1, heal: 2, disk: 1, addLearner: 4, swap: 4 },
  },
  // A voter that grants without comparing logs elects a leader missing committed entries.
  skipLogUpToDateCheck: {},
  // A follower that keeps a conflicting suffix: leader changes while entries are uncommitted.
  noTruncateOnConflict: {},
  // A leader that counts itself before its write completed: any proposal will do.
  leaderAckBeforePersist: {},
}

/**
 * The Figure 8 loop (MIT 6.824's Figure8Unreliable): leaders crash again and
 * again under an unreliable network, so an entry committed by counting in an
 * old term is later overwritten. Finds commitOldTermByCounting by its
 * consequence (leader completeness, state machine safety) without the
 * commit-rule check.
 */
export const FIGURE_8: Partial<FaultMix> = {
  voters: 5, maxSizePerMsg: 1, figure8: [15, 300], clientThinkMs: [5, 30], preVote: false,
  maxDrop: 0.1, maxReorder: 0.6, maxDelayMs: 60,
  weights: { ...none, network: 2, heal: 1, disk: 1 },
}
