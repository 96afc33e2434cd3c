// Who may reach our core (src/driver/consensus-gate.ts). Here: the newcomer
// in the gap between its core taking in the configuration that adds it and
// its driver applying it (ClusterIdentity.adopt names its cluster only then).
import { describe, expect, it } from 'vitest'
import { acceptsRaftFrom } from '../../src/driver/consensus-gate'
import type { GateView } from '../../src/driver/consensus-gate'

const conf = { voters: ['m1'], learners: ['m2'], votersOutgoing: [], learnersNext: [], autoLeave: false }
const view = (over: Partial<GateView>): GateView => ({
  self: 'm2',
  conf,
  clusterId: null,
  peerCluster: 'c1',
  joining: () => 'c1',
  vouched: () => false,
  ...over,
})

describe('consensus gate: a newcomer just added', () => {
  it('hears the leader of the cluster it joins before it adopted that cluster', () => {
    // before: dropped, so the commit index right behind its first entries was lost and it waited for a heartbeat
    expect(acceptsRaftFrom('m1', view({}))).toBe(true)
  })

  it('hears it after it adopted the cluster, as before', () => {
    expect(acceptsRaftFrom('m1', view({ clusterId: 'c1', joining: () => null }))).toBe(true)
  })

  it('does not hear a member of another cluster, nor an outsider of the one it joins', () => {
    expect(acceptsRaftFrom('m1', view({ peerCluster: 'c2' }))).toBe(false)
    expect(acceptsRaftFrom('m3', view({}))).toBe(false)
    expect(acceptsRaftFrom('m3', view({ vouched: () => true }))).toBe(true)
    expect(acceptsRaftFrom('m1', view({ joining: () => null }))).toBe(false)
  })
})
