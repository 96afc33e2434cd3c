// The leader's intake of a peer's forwards (src/driver/forward-intake.ts):
// what finds the peer's budget full waits for room only within what an
// honest member can have sent (its forwards not committed plus those
// waiting, at most the budget), goes in order as the leader applies, and is
// dropped when the leadership goes.
import { describe, expect, it } from 'vitest'
import type { CommandRoute } from '../../src/driver/command-route'
import { ForwardIntake } from '../../src/driver/forward-intake'
import type { CheckedForward } from '../../src/driver/forward-intake'
import type { MemberContext } from '../../src/driver/member-context'
import type { Command } from '../../src/tree/types'
import { ZTree } from '../../src/tree/ztree'
import { MAX_FORWARDS_IN_FLIGHT } from '../../src/wire/limits'

/** A leader's log as far as the intake sees it: proposals append, commit and apply move by hand. */
function leader() {
  const log: Command[] = []
  const state = { commit: 0, pumps: 0 }
  const ctx = {
    isLeader: true,
    proposesHere: true,
    stopped: false,
    appliedIndex: 0,
    tree: new ZTree(),
    raft: { status: () => ({ commit: state.commit, lastIndex: log.length }) },
    control: { pump: () => state.pumps++ },
  }
  const route = {
    propose: (cmd: Command) => {
      log.push(cmd)
      return true
    },
  }
  const intake = new ForwardIntake(ctx as unknown as MemberContext, route as unknown as CommandRoute, () => false)
  return { intake, ctx, log, state }
}

let seq = 0
const forward = (peer = 'p1'): CheckedForward => ({
  cmd: { type: 'txn', session: `${peer}.t.1`, seq: ++seq, ackedBelow: 0, multi: false, ops: [{ op: 'create', path: `/n${seq}`, data: new Uint8Array(0), mode: 'persistent' }], time: 0 },
  bytes: 40,
})
const seqs = (cmds: Command[]): number[] => cmds.map((c) => (c.type === 'txn' ? c.seq : -1))

describe('the leader\'s intake of a peer\'s forwards', () => {
  it('nothing waits while the peer\'s whole budget is uncommitted: the excess is dropped', () => {
    const { intake, ctx, log } = leader()
    intake.offer('p1', Array.from({ length: MAX_FORWARDS_IN_FLIGHT + 5 }, () => forward()))
    expect(log).toHaveLength(MAX_FORWARDS_IN_FLIGHT)
    // applying them all makes room, but nothing waited
    ctx.appliedIndex = log.length
    intake.applied()
    expect(log).toHaveLength(MAX_FORWARDS_IN_FLIGHT)
  })

  it('committed and not yet applied by the leader (a follower may have applied them): the next budget\'s worth waits, and goes in order as the leader applies', () => {
    const { intake, ctx, log, state } = leader()
    const first = Array.from({ length: MAX_FORWARDS_IN_FLIGHT }, () => forward())
    intake.offer('p1', first)
    state.commit = log.length
    const next = Array.from({ length: MAX_FORWARDS_IN_FLIGHT + 3 }, () => forward())
    intake.offer('p1', next)
    expect(log).toHaveLength(MAX_FORWARDS_IN_FLIGHT)
    // the leader applies 10 entries: the 10 oldest waiting are proposed
    ctx.appliedIndex = 10
    intake.applied()
    expect(seqs(log.slice(MAX_FORWARDS_IN_FLIGHT))).toEqual(seqs(next.slice(0, 10).map((f) => f.cmd)))
    // those 10 uncommitted and 246 waiting are all an honest member could have sent: one more is dropped
    intake.offer('p1', [forward()])
    // once they commit, a forward arriving goes behind what waits, not ahead of it
    state.commit = log.length
    const late = forward()
    ctx.appliedIndex = MAX_FORWARDS_IN_FLIGHT
    intake.offer('p1', [late])
    expect(log).toHaveLength(MAX_FORWARDS_IN_FLIGHT + 10)
    intake.applied()
    ctx.appliedIndex = log.length
    intake.applied()
    // the 3 beyond what an honest member could have sent were dropped; the late one went last
    expect(seqs(log.slice(MAX_FORWARDS_IN_FLIGHT))).toEqual(seqs([...next.slice(0, MAX_FORWARDS_IN_FLIGHT), late].map((f) => f.cmd)))
  })

  it('a leader that loses its leadership drops what waits', () => {
    const { intake, ctx, log, state } = leader()
    intake.offer('p1', Array.from({ length: MAX_FORWARDS_IN_FLIGHT }, () => forward()))
    state.commit = log.length
    intake.offer('p1', [forward()])
    ctx.isLeader = false
    ctx.proposesHere = false
    intake.applied()
    ctx.isLeader = true
    ctx.proposesHere = true
    ctx.appliedIndex = log.length
    intake.applied()
    expect(log).toHaveLength(MAX_FORWARDS_IN_FLIGHT)
  })

  it('a new leader still saving the Ready that made it one keeps what comes, and proposes it in order once that Ready finished', () => {
    const { intake, ctx, log } = leader()
    // the core leads (a Ready taken), the member not yet (that Ready's save is on the disk)
    ctx.isLeader = false
    const early = [forward(), forward()]
    intake.offer('p1', early)
    expect(log).toHaveLength(0)
    // an earlier Ready finishing does not drop them
    intake.applied()
    expect(log).toHaveLength(0)
    intake.offer('p1', [forward()])
    ctx.isLeader = true
    intake.applied()
    expect(seqs(log)).toEqual([early[0]!.cmd, early[1]!.cmd].map((c) => (c.type === 'txn' ? c.seq : -1)).concat(seq))
  })

  it('a member whose core does not lead takes nothing', () => {
    const { intake, ctx, log } = leader()
    ctx.isLeader = false
    ctx.proposesHere = false
    intake.offer('p1', [forward()])
    ctx.isLeader = true
    ctx.proposesHere = true
    intake.applied()
    expect(log).toHaveLength(0)
  })
})
