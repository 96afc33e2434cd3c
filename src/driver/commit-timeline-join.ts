// One write's whole commit timeline, from the records every member kept
// (commit-timeline.ts): the requester's record says which entry its write
// became, the leader's (the one that proposed it) has the leader's stages,
// the followers' have their saves. Pure: the bench calls it on what it
// collected from every tab, the tests on what a simulated cluster recorded.
import type { CommitStage, CommitTimelineRecord } from '../shared/types'

/** The stages of a joined write: each member's own, plus when the leader learned of the commit. */
export type JoinedStage = CommitStage | 'leaderCommitted' | 'requesterPersisted'

/** One write, its stages gathered from the members where they happened. */
export interface JoinedCommit {
  index: number
  term: number
  /** the requester (the member whose tab wrote) and the leader that proposed the entry */
  requester: string
  leader: string
  /** the requester led (no forward, and the leader's stages are its own) */
  leaderWrite: boolean
  /** epoch ms of each stage: submitted, forwarded, committed, applied and resolved
   *  as the requester saw them; proposed, leaderPersisted, appSent,
   *  acknowledged and leaderCommitted at the leader; followerPersisted is the
   *  first follower's (the one whose save can make a quorum of three);
   *  requesterPersisted is the requester's own save when a follower wrote
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
      let followerPersisted: number | undefined
      for (const r of records) {
        const t = r.stages.followerPersisted
        if (r !== leader && t !== undefined && (followerPersisted === undefined || t < followerPersisted)) followerPersisted = t
      }
      const found: [JoinedStage, number | undefined][] = [
        ['submitted', s.submitted],
        ['forwarded', s.forwarded],
        ['proposed', l.proposed],
        ['leaderPersisted', l.leaderPersisted],
        ['appSent', l.appSent],
        ['followerPersisted', followerPersisted],
        ['acknowledged', l.acknowledged],
        ['leaderCommitted', l.committed],
        ['committed', s.committed],
        ['requesterPersisted', req === leader ? undefined : s.followerPersisted],
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
export const JOINED_STAGES: readonly JoinedStage[] = ['submitted', 'forwarded', 'proposed', 'leaderPersisted', 'appSent', 'followerPersisted', 'acknowledged', 'leaderCommitted', 'committed', 'requesterPersisted', 'applied', 'resolved']

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
