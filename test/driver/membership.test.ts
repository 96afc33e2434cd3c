import { describe, expect, it } from 'vitest'
import { MAX_ADDED_AT_ONCE, nextConfChange } from '../../src/driver/membership'
import { applyConfChange, entersJoint } from '../../src/raft/confchange'
import type { MembershipFacts, PeerProgress } from '../../src/driver/membership'
import type { ConfState } from '../../src/raft/types'

const policy = { maxVoters: 3, failureTimeoutMs: 30_000, catchUpLag: 4 }

function conf(voters: string[], learners: string[] = [], votersOutgoing: string[] = []): ConfState {
  return { voters, learners, votersOutgoing, learnersNext: [], autoLeave: false }
}

function facts(over: Partial<MembershipFacts> & { conf: ConfState }, browsers: Record<string, string> = {}, heard: Record<string, number> = {}): MembershipFacts {
  const progress = new Map<string, PeerProgress>()
  for (const id of [...over.conf.voters, ...over.conf.learners]) progress.set(id, { match: 100, recentActive: true })
  return {
    self: 'm1',
    progress,
    commit: 100,
    now: 100_000,
    joiners: new Map(),
    browserOf: (id) => browsers[id] ?? `browser-of-${id}`,
    lastHeard: (id) => heard[id] ?? 99_000,
    departed: new Set(),
    ...over,
  }
}

describe('membership policy', () => {
  it('waits while a joint configuration is being left', () => {
    expect(nextConfChange(facts({ conf: conf(['m1', 'm2'], [], ['m1']), joiners: new Map([['m9', 'b9']]) }), policy)).toBeNull()
  })

  it('adds a member that asked to join as a learner, not as a voter', () => {
    const change = nextConfChange(facts({ conf: conf(['m1']), joiners: new Map([['m2', 'b2']]) }), policy)
    expect(change).toEqual({ changes: [{ type: 'addLearner', node: 'm2' }], transition: 'auto' })
  })

  it('does not re-add a joiner that has gone silent (a removed member that is still dead)', () => {
    const change = nextConfChange(facts({ conf: conf(['m1', 'm2']), joiners: new Map([['m3', 'b3']]) }, {}, { m3: 1 }), policy)
    expect(change).toBeNull()
  })

  it('promotes a caught-up learner while voters are fewer than maxVoters', () => {
    expect(nextConfChange(facts({ conf: conf(['m1'], ['m2']) }), policy)).toEqual({ changes: [{ type: 'addVoter', node: 'm2' }], transition: 'auto' })
  })

  it('does not promote a learner that lags or is not recently active', () => {
    const f = facts({ conf: conf(['m1'], ['m2']) })
    f.progress!.set('m2', { match: 10, recentActive: true })
    expect(nextConfChange(f, policy)).toBeNull()
    f.progress!.set('m2', { match: 100, recentActive: false })
    expect(nextConfChange(f, policy)).toBeNull()
  })

  it('does not promote past maxVoters', () => {
    expect(nextConfChange(facts({ conf: conf(['m1', 'm2', 'm3'], ['m4']) }), policy)).toBeNull()
  })

  it('prefers a learner from a browser that has no voter yet', () => {
    const browsers = { m1: 'A', m2: 'A', m3: 'B', m4: 'B' }
    const change = nextConfChange(facts({ conf: conf(['m1', 'm5'], ['m2', 'm3']) }, browsers), policy)
    expect(change).toEqual({ changes: [{ type: 'addVoter', node: 'm3' }], transition: 'auto' })
    // with two places: browser B's first, then the fewest voters again (A: 1, B: 1 → by id)
    expect(nextConfChange(facts({ conf: conf(['m1'], ['m2', 'm3', 'm4']) }, browsers), policy)).toEqual({
      changes: [
        { type: 'addVoter', node: 'm3' },
        { type: 'addVoter', node: 'm2' },
      ],
      transition: 'auto',
    })
  })

  it('adds every newcomer in one change (at most MAX_ADDED_AT_ONCE), and promotes as many caught-up learners as there are voter places in one joint change', () => {
    const joiners = new Map(Array.from({ length: MAX_ADDED_AT_ONCE + 2 }, (_, i) => [`n${String(i).padStart(2, '0')}`, `b${i}`] as [string, string]))
    const added = nextConfChange(facts({ conf: conf(['m1']), joiners }), policy)!
    expect(added.changes).toEqual([...joiners.keys()].slice(0, MAX_ADDED_AT_ONCE).map((node) => ({ type: 'addLearner', node })))
    expect(added.transition).toBe('auto')
    expect(entersJoint(conf(['m1']), added)).toBe(false)
    const promoted = nextConfChange(facts({ conf: conf(['m1'], ['m2', 'm3', 'm4']) }), policy)!
    expect(promoted).toEqual({
      changes: [
        { type: 'addVoter', node: 'm2' },
        { type: 'addVoter', node: 'm3' },
      ],
      transition: 'auto',
    })
    // two voters added at once: joint consensus, left automatically
    expect(entersJoint(conf(['m1'], ['m2', 'm3', 'm4']), promoted)).toBe(true)
    expect(applyConfChange(conf(['m1'], ['m2', 'm3', 'm4']), promoted)).toMatchObject({ voters: ['m1', 'm2', 'm3'], votersOutgoing: ['m1'], autoLeave: true })
  })

  it('replaces a voter silent past the failure timeout by a caught-up learner in one joint change', () => {
    const change = nextConfChange(facts({ conf: conf(['m1', 'm2', 'm3'], ['m4']) }, {}, { m3: 50_000 }), policy)
    expect(change).toEqual({
      changes: [
        { type: 'remove', node: 'm3' },
        { type: 'addVoter', node: 'm4' },
      ],
      transition: 'auto',
    })
  })

  it('removes a dead voter outright when no learner can replace it, and never removes itself', () => {
    expect(nextConfChange(facts({ conf: conf(['m1', 'm2', 'm3']) }, {}, { m2: 1 }), policy)).toEqual({
      changes: [{ type: 'remove', node: 'm2' }],
      transition: 'auto',
    })
    expect(nextConfChange(facts({ conf: conf(['m1', 'm2']) }, {}, { m1: 1 }), policy)).toBeNull()
  })

  it('removes a member that left gracefully at once', () => {
    expect(nextConfChange(facts({ conf: conf(['m1', 'm2']), departed: new Set(['m2']) }), policy)).toEqual({
      changes: [{ type: 'remove', node: 'm2' }],
      transition: 'auto',
    })
  })

  it('swaps a voter of a crowded browser for a learner of a browser without voters', () => {
    const browsers = { m1: 'A', m2: 'A', m3: 'A', m4: 'B' }
    const change = nextConfChange(facts({ conf: conf(['m1', 'm2', 'm3'], ['m4']) }, browsers), policy)
    expect(change).toEqual({
      changes: [
        { type: 'addLearner', node: 'm2' },
        { type: 'addVoter', node: 'm4' },
      ],
      transition: 'auto',
    })
  })
})
