// Which peers a member needs a link to (src/driver/link-policy.ts): voters
// link to everyone, learners to the voters only, a member outside the
// configuration to everyone.
import { describe, expect, it } from 'vitest'
import { linkPolicyKey, wantsLink } from '../../src/driver/link-policy'
import type { ConfState } from '../../src/raft/types'

const conf = (voters: string[], learners: string[], votersOutgoing: string[] = []): ConfState => ({ voters, learners, votersOutgoing, learnersNext: [], autoLeave: false })
const c = conf(['v1', 'v2', 'v3'], ['l1', 'l2', 'l3'])

describe('wantsLink', () => {
  it('a voter wants every peer, learners and newcomers too (it may lead)', () => {
    for (const peer of ['v2', 'v3', 'l1', 'l3', 'newcomer']) expect(wantsLink('v1', peer, c)).toBe(true)
  })

  it('a learner wants the voters and no other learner or newcomer', () => {
    expect(wantsLink('l1', 'v1', c)).toBe(true)
    expect(wantsLink('l1', 'v3', c)).toBe(true)
    expect(wantsLink('l1', 'l2', c)).toBe(false)
    expect(wantsLink('l1', 'newcomer', c)).toBe(false)
  })

  it('a member outside the configuration wants everyone (it cannot tell roles apart yet)', () => {
    for (const peer of ['v1', 'l1', 'other']) expect(wantsLink('newcomer', peer, c)).toBe(true)
    expect(wantsLink('a', 'b', conf([], []))).toBe(true)
  })

  it('a member outside the configuration that knows the leader wants the leader only', () => {
    expect(wantsLink('newcomer', 'v2', c, 'v2')).toBe(true)
    expect(wantsLink('newcomer', 'v1', c, 'v2')).toBe(false)
    expect(wantsLink('newcomer', 'l1', c, 'v2')).toBe(false)
    expect(linkPolicyKey('newcomer', c, 'v2')).not.toBe(linkPolicyKey('newcomer', c, 'v1'))
    expect(linkPolicyKey('newcomer', c, null)).toBe('*')
  })

  it('the leader hint does not narrow a member of the configuration', () => {
    expect(wantsLink('v1', 'l1', c, 'v2')).toBe(true)
    expect(wantsLink('l1', 'v3', c, 'v2')).toBe(true)
  })

  it('an outgoing voter of a joint configuration counts as a voter on both ends', () => {
    const joint = conf(['v1', 'v2', 'l1'], ['l2'], ['v1', 'v2', 'v3'])
    expect(wantsLink('l2', 'v3', joint)).toBe(true)
    expect(wantsLink('v3', 'l2', joint)).toBe(true)
    expect(wantsLink('l2', 'l1', joint)).toBe(true) // l1 is an incoming voter
  })

  it('never itself', () => {
    expect(wantsLink('v1', 'v1', c)).toBe(false)
  })

  it('a learner holds at most as many wanted peers as there are voters, however many learners', () => {
    const learners = Array.from({ length: 45 }, (_, i) => `l${i}`)
    const big = conf(['v1', 'v2', 'v3', 'v4', 'v5'], learners)
    const all = [...big.voters, ...learners]
    for (const l of learners) expect(all.filter((p) => wantsLink(l, p, big)).length).toBe(5)
  })
})

describe('linkPolicyKey', () => {
  it('changes when the answers can change, not otherwise', () => {
    expect(linkPolicyKey('l1', c)).toBe(linkPolicyKey('l1', conf(['v3', 'v2', 'v1'], ['l1', 'l9'])))
    expect(linkPolicyKey('l1', c)).not.toBe(linkPolicyKey('l1', conf(['v1', 'v2', 'l2'], ['l1'])))
    expect(linkPolicyKey('l1', c)).not.toBe(linkPolicyKey('l1', conf(['v1', 'v2', 'v3', 'l1'], [])))
    expect(linkPolicyKey('x', c)).toBe('*')
  })
})
