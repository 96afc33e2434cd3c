// Elections (§5.2, PreVote §9.6): when a member campaigns (an election
// timeout, the driver's campaign, a leader's hand-over, a leader certified
// dead), how it asks for votes, how a won campaign starts a leader, and how
// a member answers a (pre)vote request; counting the answers is the
// candidate's step (candidate.ts). Also the driver's hints that shorten an
// election: a leader known to be gone (reportPeerGone) and a cluster known
// to be leaderless (campaignKnowingLeaderless, campaignIfRefusing).
import { allVoters } from './confchange'
import { PLANTED_BUGS } from './planted-bugs'
import { appendEntries } from './proposals'
import type { GoneLeader, RaftState } from './raft-state'
import { becomeCandidate, becomePreCandidate, reset } from './roles'
import type { Message, MessageType, NodeId } from './types'
import { MAX_RAFT_NUMBER } from './types'

export type CampaignKind = 'pre' | 'election' | 'transfer'

/** Context of a vote request forced by a leadership transfer (bypasses leases). */
const TRANSFER_CONTEXT = new Uint8Array([0x74]) // 't'

/** ticks between the campaigns of survivors of consecutive ranks after a
 *  death certificate (reportPeerGone): enough for a PreVote round trip and a
 *  vote between tabs of one browser, well below an election timeout */
const DEATH_STAGGER_TICKS = 2

// no leader certified dead; frozen: never counted down (ticks 0), only replaced
export const NO_GONE_LEADER: GoneLeader = Object.freeze({ id: '', term: -1, ticks: 0 })

/** Start an election now (the driver's campaign(), an election timeout, a gone leader). */
export function hup(r: RaftState, kind: 'auto' | 'transfer'): void {
  if (r.role === 'leader' || !r.promotable()) return
  if (r.confReplay.hasCommittedNotInEffect(r.log)) return
  // the last term we may enter: a campaign would count past it
  if (r.term >= MAX_RAFT_NUMBER) return
  campaign(r, kind === 'transfer' ? 'transfer' : r.cfg.preVote ? 'pre' : 'election')
}

export function campaign(r: RaftState, kind: CampaignKind): void {
  let term: number
  let type: MessageType
  if (kind === 'pre') {
    becomePreCandidate(r)
    type = 'MsgPreVote'
    term = r.term + 1
  } else {
    becomeCandidate(r)
    type = 'MsgVote'
    term = r.term
  }
  r.trk.recordVote(r.id, true)
  if (r.trk.voteResult() === 'won') {
    if (kind === 'pre') campaign(r, 'election')
    else becomeLeader(r)
    return
  }
  const index = r.log.lastIndex()
  const logTerm = r.log.lastTerm()
  const context = kind === 'transfer' ? TRANSFER_CONTEXT : null
  r.campaignContext = context
  for (const id of allVoters(r.trk.conf)) {
    if (id !== r.id) r.send(type, id, term, { index, logTerm, context })
  }
}

/**
 * A candidate asks the voters that have not answered again, each tick, with
 * its campaign's context (a transfer's still passes the voters' leases). A
 * request lost on the way otherwise cost a whole randomized election
 * timeout: bench flight records of a graceful close (1 trial in 60), the
 * successor's MsgVote never reached the other survivor, which still held
 * its lease on the closed leader, and the successor stayed a candidate for
 * 2.3 s. Safe to repeat: a voter grants the candidate it already voted for
 * in that term again (handleVoteRequest), and a candidate counts each voter
 * once (recordVote). Only a candidate: one exists after a won PreVote round
 * or a transfer, for an election at most; a pre-candidate the others ignore
 * (their leases hold: a member coming back to a healthy cluster) would ask
 * every tick for nothing.
 */
function askAgain(r: RaftState): void {
  const index = r.log.lastIndex()
  const logTerm = r.log.lastTerm()
  for (const id of allVoters(r.trk.conf)) {
    if (id !== r.id && !r.trk.votes.has(id)) r.send('MsgVote', id, r.term, { index, logTerm, context: r.campaignContext })
  }
}

/** The campaign is won: lead, starting with a no-op entry of our term. */
export function becomeLeader(r: RaftState): void {
  reset(r, r.term)
  r.lead = r.id
  r.role = 'leader'
  r.campaignAgainIfStale = false
  r.trk.progress.get(r.id)?.becomeReplicate()
  // the others are trusted to hold our log until one refuses (becomeReplicateOnTrust)
  for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.becomeReplicateOnTrust()
  // conservatively assume an unapplied conf entry may be in the log
  r.pendingConfIndex = r.log.lastIndex()
  // a no-op of this term: commits everything before it (§5.4.2, §8)
  appendEntries(r, [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }], true)
}

/** Any role: answer a MsgVote or MsgPreVote that passed the term checks of Raft.step. */
export function handleVoteRequest(r: RaftState, m: Message): void {
  const pre = m.type === 'MsgPreVote'
  const respType: MessageType = pre ? 'MsgPreVoteResp' : 'MsgVoteResp'
  // Learners answer too: one may have been promoted without knowing yet, and
  // its vote can be needed; candidates only count the voters they know.
  const canVote =
    r.vote === m.from ||
    (r.vote === null && r.lead === null) ||
    (pre && m.term > r.term) ||
    (PLANTED_BUGS && !pre && r.bugs.voteTwice === true)
  const upToDate = (PLANTED_BUGS && r.bugs.skipLogUpToDateCheck === true) || r.log.isUpToDate(m.index, m.logTerm)
  if (canVote && upToDate) {
    // a granted vote carries the candidate's term (for PreVote, the future term)
    r.send(respType, m.from, m.term)
    if (!pre) {
      r.electionElapsed = 0
      r.vote = m.from
    }
  } else {
    // A rejection carries our commit index and its term. A candidate holding
    // that (index, term) holds the committed prefix (Log Matching) and may
    // mark it committed. Without this, a voter demoted to learner whose log
    // is longer than the remaining voter's could block every election: the
    // learner cannot campaign and the voter, not knowing the demotion is
    // committed, still needs the learner's vote.
    const commit = r.log.committed
    r.send(respType, m.from, r.term, { reject: true, commit, logTerm: r.log.term(commit) ?? 0 })
    // We left the campaign after our leader's death to another survivor
    // (reportPeerGone) and refuse it (its PreVote or vote) only because our
    // log is ahead of its: campaign now rather than wait out an election
    // timeout. Once per death: a standing rule would let two members with
    // alternately longer logs depose each other forever.
    if (canVote && !upToDate && r.campaignIfRefused) {
      r.campaignIfRefused = false
      hup(r, 'auto')
    }
  }
}

/** Every role but the leader: campaign when the randomized election timeout runs out. */
export function tickElection(r: RaftState): void {
  r.electionElapsed++
  if (r.electionElapsed >= r.randomizedElectionTimeout && r.promotable()) {
    r.electionElapsed = 0
    hup(r, 'auto')
    return
  }
  if (r.role === 'candidate') askAgain(r)
}

/**
 * Campaign now, knowing that nobody leads (a reopening tab: its caretakers
 * just brought the freed voters back). A voter that answers with a newer
 * term (a term the others reached before every tab closed) makes us run
 * again at once in that term rather than after an election timeout. Once:
 * the retry is not renewed, so two members cannot keep it up forever.
 */
export function campaignKnowingLeaderless(r: RaftState): void {
  r.campaignAgainIfStale = true
  hup(r, 'auto')
}

/**
 * A leaderless follower that knows the cluster lost its leader with every
 * other tab (a reopening tab runs the freed voters: every slot was free)
 * campaigns itself the first time it refuses a (pre)vote only because its
 * log is ahead of the candidate's, rather than waiting out an election
 * timeout (§5.4.1: the candidate it refuses can never win with our vote).
 * Once: the same rule as after a death certificate (reportPeerGone).
 */
export function campaignIfRefusing(r: RaftState): void {
  if (r.role === 'follower' && r.lead === null) r.campaignIfRefused = true
}

/**
 * `id` is gone for good (a death certificate). A follower it led forgets it
 * (which also lifts the lease, so we grant votes). The driver ranks the
 * survivors that hear the certificate (Roster.rankAfterDeath): rank 0
 * campaigns at once; two at once would split their votes and cost an
 * election timeout. Rank r > 0 campaigns after DEATH_STAGGER_TICKS * r
 * ticks if no leader came by then: the chosen one's PreVote is ignored by
 * a survivor that has not heard the certificate yet (its lease still
 * holds), and the survivors may disagree on whom they chose; either left
 * everyone waiting a full randomized election timeout. A leader only stops
 * counting on the dead member (not recently active, probed again).
 */
export function reportPeerGone(r: RaftState, id: NodeId, rank: number): void {
  if (id === r.id) return
  if (r.role === 'leader') {
    const pr = r.trk.progress.get(id)
    if (pr === undefined) return
    pr.recentActive = false
    if (pr.state === 'replicate') pr.becomeProbe()
    return
  }
  if (r.role === 'follower' && r.lead === id) {
    // no need to wait out an election timeout for a leader we know is gone;
    // forgetting it also lifts our lease, so we grant (pre)votes to others
    r.goneLeader = { id, term: r.term, ticks: r.cfg.electionTick }
    r.lead = null
    if (rank === 0) {
      r.electionElapsed = 0
      hup(r, 'auto')
      return
    }
    r.campaignIfRefused = true
    // the election timer fires after the stagger (a leader heard first resets it)
    r.electionElapsed = Math.max(0, r.randomizedElectionTimeout - DEATH_STAGGER_TICKS * rank)
  }
}
