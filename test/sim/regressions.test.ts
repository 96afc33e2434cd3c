// Seeds that once found a bug, kept as regression tests. Each names the bug.
import { describe, expect, it } from 'vitest'
import { runSeed } from './world'
import { runTreeWorkloadSeed } from './workload/index'

describe('simulator regressions', () => {
  // A follower queued `MsgAppResp ok 17` to a term-2 leader; before its next
  // Ready a term-4 leader's MsgApp truncated its log from index 11, and the
  // same Ready persisted only entry 11 yet still sent `ok 17`: an
  // acknowledgement for entries that never reached the disk (persist before
  // send, invariant 2). A stale leader could count it toward a commit.
  for (const seed of [3292, 3417, 4348]) {
    it(`seed ${seed}: no acknowledgement of entries truncated before they were persisted`, () => {
      const r = runSeed({ seed })
      expect(r.violations).toEqual([])
    })
  }

  // A voter slept through a membership change that made a new member the
  // leader; the consensus gate (only members of our configuration may speak
  // Raft to us) then dropped that leader forever, and the cluster never had
  // all its members back. A member of the configuration naming the new leader
  // in its cluster claim now vouches for it (src/driver/consensus-gate.ts).
  for (const seed of [160, 272]) {
    it(`seed ${seed}: a member with a stale configuration hears the leader its peers name`, async () => {
      const r = await runTreeWorkloadSeed(seed)
      expect(r.ok, r.report).toBe(true)
    })
  }
})
