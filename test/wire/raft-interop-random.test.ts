// The codec against the raft core's randomized runs (test/raft/random-cluster:
// loss, reordering, duplication, partitions, crashes, compaction, joint
// membership changes, chunked snapshots). Every message delivered in those
// runs is passed through encode → decode first; a message the honest core
// sends that our validation refuses, or that does not come back equal, is a
// bug in one of the two.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message, MessageType } from '../../src/raft/types'
import { decodeRaftMessage, encodeRaftMessage } from '../../src/wire/raft-codec'
import { Network } from '../raft/network'
import { simulate } from '../raft/random-cluster'

const originalDeliver = Network.prototype.deliver
const refused: string[] = []
const seen = new Map<MessageType, number>()
let jointSnapshots = 0

beforeAll(() => {
  Network.prototype.deliver = function deliverThroughTheWire(this: Network, m: Message): void {
    seen.set(m.type, (seen.get(m.type) ?? 0) + 1)
    if (m.snapshot !== null && m.snapshot.meta.conf.votersOutgoing.length > 0) jointSnapshots++
    let wire: Message
    try {
      wire = decodeRaftMessage(encodeRaftMessage(m))
      expect(wire).toEqual(m)
    } catch (err) {
      if (refused.length < 10) refused.push(`${m.type} ${m.from}->${m.to}: ${String(err)}`)
      return
    }
    originalDeliver.call(this, wire) // the receiver gets the decoded copy, as on a real link
  }
})

afterAll(() => {
  Network.prototype.deliver = originalDeliver
})

describe('raft codec under the core’s randomized runs', () => {
  it('every delivered message of 20 seeds × 3000 steps crosses the codec unchanged', () => {
    let committed = 0
    for (let seed = 1; seed <= 20; seed++) {
      const out = simulate(seed, 3000, {}, undefined, true)
      expect(out.violation, `seed ${seed}`).toBeNull()
      committed += out.committed
    }
    expect(refused).toEqual([])
    // the runs did real work: commits, and the rarer shapes appeared
    expect(committed).toBeGreaterThan(100)
    for (const t of ['MsgApp', 'MsgAppResp', 'MsgVote', 'MsgSnap', 'MsgHeartbeat'] as const) expect(seen.get(t) ?? 0, t).toBeGreaterThan(0)
    console.log(`messages through the codec: ${JSON.stringify(Object.fromEntries(seen))}; snapshots of a joint config: ${jointSnapshots}`)
  })
})
