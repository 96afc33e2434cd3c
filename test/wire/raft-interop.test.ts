// The codec against the real raft core: every message the core sends in a
// run that exercises elections (with PreVote), replication, rejections,
// ReadIndex, leadership transfer, membership changes and chunked snapshots
// crosses the wire codec, must be accepted by the receiver's validation, and
// must decode to exactly what was sent. A rule of validateRaftMessage that
// an honest core breaks would show up here as a refused message.
import { describe, expect, it } from 'vitest'
import type { Message, MessageType } from '../../src/raft/types'
import { decodeRaftMessage, encodeRaftMessage, RAFT_MESSAGE_TYPES } from '../../src/wire/raft-codec'
import { Network, text } from '../raft/network'

describe('raft codec with the raft core', () => {
  it('every message of a busy run round-trips through the codec', () => {
    const seen = new Map<MessageType, number>()
    const refused: string[] = []
    const net = Network.cluster(['m1', 'm2', 'm3'], { preVote: true, checkQuorum: true, maxSnapshotChunkSize: 512 })
    net.filter = (m: Message) => {
      seen.set(m.type, (seen.get(m.type) ?? 0) + 1)
      try {
        expect(decodeRaftMessage(encodeRaftMessage(m))).toEqual(m)
      } catch (err) {
        refused.push(`${m.type} ${m.from}->${m.to}: ${String(err)}`)
      }
      return true
    }
    net.stabilize()
    net.elect('m1')
    for (let i = 0; i < 20; i++) net.node('m1').propose(text(`value ${i}`))
    net.stabilize()

    // a follower falls behind, misses entries, comes back: rejections and backtracking
    net.isolate('m3')
    for (let i = 0; i < 10; i++) net.node('m1').propose(text(`while m3 away ${i}`))
    net.stabilize()
    net.heal()
    net.tickAll(2)
    net.stabilize()

    // a linearizable read from a follower
    net.node('m2').readIndex(text('read-1'))
    net.stabilize()

    // forward a proposal from a follower to the leader
    net.node('m2').propose(text('from a follower'))
    net.stabilize()

    // compaction, then a newcomer catches up by chunked snapshot
    const applied = net.node('m1').status().applied
    net.get('m1').disk.snapshot = net.node('m1').compact(applied, new Uint8Array(3000).map((_, i) => i & 0xff))
    net.add('m4', { preVote: true, checkQuorum: true, maxSnapshotChunkSize: 512 })
    net.node('m1').proposeConfChange({ changes: [{ type: 'addLearner', node: 'm4' }], transition: 'auto' })
    for (let i = 0; i < 30; i++) {
      net.tickAll()
      net.stabilize()
    }

    // hand leadership over (MsgTransferLeader from a follower, MsgTimeoutNow)
    net.node('m2').transferLeadership('m2')
    for (let i = 0; i < 5; i++) {
      net.tickAll()
      net.stabilize()
    }

    // an election after the leader vanishes: PreVote, then Vote
    const lead = net.leader()
    expect(lead).not.toBeNull()
    net.isolate(lead as string)
    for (let i = 0; i < 40 && (net.leader() === lead || net.leader() === null); i++) {
      net.tickAll()
      net.stabilize()
    }

    expect(refused).toEqual([])
    const unseen = RAFT_MESSAGE_TYPES.filter((t) => !seen.has(t))
    // every type the core can send in this run was exercised
    expect(unseen).toEqual([])
  })
})
