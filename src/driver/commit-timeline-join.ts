// One write's whole commit timeline, from the records every member kept
// (commit-timeline.ts): the requester's record says which entry its write
// became, the leader's (the one that proposed it) has the leader's stages,
// the followers' have their saves. Pure: the bench calls it on what it
// collected from every tab, the tests on what a simulated cluster recorded.
import type { CommitStage, CommitTimelineRecord } from '../shared/types'

/** The stages of a joined write: each member's own, plus when the leader learned of the commit, and whose save completed. */
export type JoinedStage = Exclude<CommitStage, 'saved'> | 'leaderCommitted' | 'requesterPersisted' | 'leaderSaved' | 'followerSaved' | 'requesterSaved'

/** One write, its stages gathered from the members where they happened. */
export interface JoinedCommit {
  index: number
  term: number
  /** the requester (the member whose tab wrote) and the leader that proposed the entry */
  requester: string
  leader: string
  /** the requester led (no forward, and the leader's stages are its own) */
  leaderWrite: boolean
  /** epoch ms of each stage: submitted, forwarded, commitArrived,
   *  commitHeard, committed, applied and resolved as the requester saw them;
   *  forwardArrived, proposed, leaderSaved, leaderPersisted, appSent,
   *  ackArrived, acknowledged, leaderCommitted and commitSent at the leader;
   *  appArrived to ackSent at the first follower to persist the entry (the
   *  one whose save can make a quorum of three); requesterSaved and
   *  requesterPersisted are the requester's own save when a follower wrote
   *  (it applies the entry only once that save is done) */
  stages: Partial<Record<JoinedStage, number>>
}

/**
 * Join every member's records into one per write of any tab. A write whose
 * leader's record is missing (the leader's records were not collected, or its
 * records were trimmed) is left out rather than shown with holes.
 */
export function joinCommitTimelines(perMember: CommitTimelineRecord[][]): JoinedCommit[] {
  const byEntry = new Map<string, CommitTimelineRecord[]>()
  for (const records of perMember) {
    for (const r of records) {
      if (r.index === 0) continue
      const key = `${r.index} ${r.term}`
      const list = byEntry.get(key)
      if (list === undefined) byEntry.set(key, [r])
      else list.push(r)
    }
  }
  const out: JoinedCommit[] = []
  for (const records of byEntry.values()) {
    const leader = records.find((r) => r.stages.proposed !== undefined)
    if (leader === undefined) continue
    for (const req of records) {
      if (req.write === undefined) continue
      const s = req.stages
      const l = leader.stages
      let first: CommitTimelineRecord | undefined
      for (const r of records) {
        const t = r.stages.followerPersisted
        if (r !== leader && t !== undefined && (first === undefined || t < first.stages.followerPersisted!)) first = r
      }
      const f = first?.stages ?? {}
      const own = req === leader ? {} : s
      const found: [JoinedStage, number | undefined][] = [
        ['submitted', s.submitted],
        ['forwarded', s.forwarded],
        ['forwardArrived', l.forwardArrived],
        ['proposed', l.proposed],
        ['leaderSaved', l.saved],
        ['leaderPersisted', l.leaderPersisted],
        ['appSent', l.appSent],
        ['appArrived', f.appArrived],
        ['appHeard', f.appHeard],
        ['appTaken', f.appTaken],
        ['followerSaved', f.saved],
        ['followerPersisted', f.followerPersisted],
        ['ackSent', f.ackSent],
        ['ackArrived', l.ackArrived],
        ['acknowledged', l.acknowledged],
        ['leaderCommitted', l.committed],
        ['commitSent', req === leader ? undefined : l.commitSent],
        ['commitArrived', own.commitArrived],
        ['commitHeard', own.commitHeard],
        ['committed', s.committed],
        ['requesterSaved', own.saved],
        ['requesterPersisted', own.followerPersisted],
        ['applied', s.applied],
        ['resolved', s.resolved],
      ]
      const stages: Partial<Record<JoinedStage, number>> = {}
      for (const [stage, t] of found) if (t !== undefined) stages[stage] = t
      out.push({ index: req.index, term: req.term, requester: req.member, leader: leader.member, leaderWrite: req.member === leader.member, stages })
    }
  }
  return out.sort((a, b) => a.index - b.index)
}

/** The order the stages of a joined write happen in (and are printed in). */
export const JOINED_STAGES: readonly JoinedStage[] = [
  'submitted', 'forwarded', 'forwardArrived', 'proposed', 'leaderSaved', 'leaderPersisted', 'appSent', 'appArrived', 'appHeard', 'appTaken', 'followerSaved', 'followerPersisted', 'ackSent',
  'ackArrived', 'acknowledged', 'leaderCommitted', 'commitSent', 'commitArrived', 'commitHeard', 'committed', 'requesterSaved', 'requesterPersisted', 'applied', 'resolved',
]

/** Each stage's median, in ms after `submitted`, over the given writes (stages none of them has are left out). */
export function stageMedians(commits: JoinedCommit[]): Partial<Record<JoinedStage, number>> {
  return mediansOf(commits, () => 'submitted')
}

/**
 * Each stage's median gap, in ms after the stage listed before it in
 * JOINED_STAGES that the same write has (a median of differences, not a
 * difference of medians): what each stage itself adds. Negative where a
 * stage may come before the one listed before it (a leader that sends
 * MsgApp while its own save is on the disk).
 */
export function stageGapMedians(commits: JoinedCommit[]): Partial<Record<JoinedStage, number>> {
  return mediansOf(commits, (c, i) => {
    for (let k = i - 1; k >= 0; k--) if (c.stages[JOINED_STAGES[k]!] !== undefined) return JOINED_STAGES[k]!
    return null
  })
}

function mediansOf(commits: JoinedCommit[], from: (c: JoinedCommit, stageIndex: number) => JoinedStage | null): Partial<Record<JoinedStage, number>> {
  const out: Partial<Record<JoinedStage, number>> = {}
  JOINED_STAGES.forEach((stage, i) => {
    const xs: number[] = []
    for (const c of commits) {
      const t = c.stages[stage]
      const base = from(c, i)
      const t0 = base === null ? t : c.stages[base]
      if (t !== undefined && t0 !== undefined) xs.push(t - t0)
    }
    if (xs.length === 0) return
    xs.sort((a, b) => a - b)
    out[stage] = xs[Math.floor((xs.length - 1) / 2)]!
  })
  return out
}

/**
 * The hops of a write, each split into its parts (from one stage to the
 * next, each a median over the writes that have both): the link (sent →
 * arrived, the two tabs' clocks), decoding (arrived → heard), the core's step
 * and the Ready taken (heard → taken), then what the receiver does before
 * the next message leaves. The forward hop and the commit's hop exist only
 * for a follower's write.
 */
export const HOP_PARTS: readonly { hop: string; part: string; from: JoinedStage; to: JoinedStage }[] = [
  { hop: 'forward', part: 'link', from: 'forwarded', to: 'forwardArrived' },
  { hop: 'forward', part: 'decode+propose', from: 'forwardArrived', to: 'proposed' },
  { hop: 'forward', part: 'toSend', from: 'proposed', to: 'appSent' },
  { hop: 'app', part: 'link', from: 'appSent', to: 'appArrived' },
  { hop: 'app', part: 'decode', from: 'appArrived', to: 'appHeard' },
  { hop: 'app', part: 'step+take', from: 'appHeard', to: 'appTaken' },
  { hop: 'app', part: 'save', from: 'appTaken', to: 'followerSaved' },
  { hop: 'app', part: 'loop', from: 'followerSaved', to: 'followerPersisted' },
  { hop: 'app', part: 'toSend', from: 'followerPersisted', to: 'ackSent' },
  { hop: 'ack', part: 'link', from: 'ackSent', to: 'ackArrived' },
  { hop: 'ack', part: 'decode', from: 'ackArrived', to: 'acknowledged' },
  { hop: 'ack', part: 'step+take', from: 'acknowledged', to: 'leaderCommitted' },
  { hop: 'ack', part: 'toSend', from: 'leaderCommitted', to: 'commitSent' },
  { hop: 'commit', part: 'link', from: 'commitSent', to: 'commitArrived' },
  { hop: 'commit', part: 'decode', from: 'commitArrived', to: 'commitHeard' },
  { hop: 'commit', part: 'step+take', from: 'commitHeard', to: 'committed' },
  { hop: 'commit', part: 'toApply', from: 'committed', to: 'applied' },
  { hop: 'commit', part: 'toResolve', from: 'applied', to: 'resolved' },
  // the leader's own save, in parallel with the hops above
  { hop: 'leader', part: 'save', from: 'proposed', to: 'leaderSaved' },
  { hop: 'leader', part: 'loop', from: 'leaderSaved', to: 'leaderPersisted' },
  // the requester's own save of its write's entry, which its apply waits for
  { hop: 'requester', part: 'saveAfterCommit', from: 'committed', to: 'requesterSaved' },
  { hop: 'requester', part: 'loop', from: 'requesterSaved', to: 'requesterPersisted' },
]

/** The median of `to - from` over the writes that have both stages (null when none has). */
export function stagePairMedian(commits: JoinedCommit[], from: JoinedStage, to: JoinedStage): { median: number; n: number } | null {
  const xs: number[] = []
  for (const c of commits) {
    const a = c.stages[from]
    const b = c.stages[to]
    if (a !== undefined && b !== undefined) xs.push(b - a)
  }
  if (xs.length === 0) return null
  xs.sort((x, y) => x - y)
  return { median: xs[Math.floor((xs.length - 1) / 2)]!, n: xs.length }
}
