// Seeds that once found a bug, kept as regression tests. Each names the bug.
import { describe, expect, it } from 'vitest'
import { runSeed } from './world'

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
})
