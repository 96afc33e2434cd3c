// Attack: a follower (or learner) that refuses every MsgSnap. Each refusal
// made the leader send the first chunk again at once, and each heartbeat
// answer resent the current chunk: ~30 KB of answers became 550 MiB of
// snapshot chunks. Now a refusal backs off exponentially (in ticks) and each
// follower gets at most a byte budget of snapshot per election timeout.
import { describe, expect, it } from 'vitest'
import { Network, text } from '../raft/network'
import type { Message } from '../../src/raft/types'

const ELECTION_TICK = 10
const CHUNK = 1_000

describe('attack: a follower refuses every snapshot chunk', () => {
  it('the leader sends a bounded number of snapshot bytes, however many refusals arrive', () => {
    const net = Network.cluster(['1', '2', '3'], { maxSnapshotChunkSize: CHUNK, electionTick: ELECTION_TICK, heartbeatTick: 1 })
    net.stabilize()
    net.elect('1')
    net.isolate('3')
    for (let i = 0; i < 10; i++) net.node('1').propose(text(`e${i}`))
    net.stabilize()
    net.compact('1', net.node('1').status().applied, new Uint8Array(100 * CHUNK))
    net.heal()

    // 3 answers every chunk with a refusal (and never sees the chunk)
    let chunkBytes = 0
    let refusals = 0
    net.filter = (m: Message) => {
      if (m.type !== 'MsgSnap' || m.to !== '3') return true
      chunkBytes += m.snapshot!.data.length
      refusals++
      net.queue.push({ ...m, type: 'MsgSnapResp', from: '3', to: '1', reject: true, rejectHint: m.snapshot!.meta.index, snapshot: null, index: 0, commit: 0 })
      return false
    }
    const ticks = 50 * ELECTION_TICK
    for (let t = 0; t < ticks; t++) {
      net.tick('1')
      for (let round = 0; round < 50; round++) {
        const a = net.processReady()
        if (!a && net.deliverQueued() === 0) break
      }
    }
    // the budget: 32 chunks per election timeout, at most
    const windows = ticks / ELECTION_TICK + 1
    if (process.env.SHOW_FIGURES) console.log(`snapshot bytes sent: ${chunkBytes} over ${refusals} refusals`)
    expect(refusals).toBeGreaterThan(0)
    expect(chunkBytes).toBeLessThanOrEqual(windows * 32 * CHUNK)
    // and the back-off keeps it far below that: a few chunks per timeout at most once it has grown
    expect(chunkBytes).toBeLessThanOrEqual(windows * 4 * CHUNK)
    // the honest follower still follows
    net.node('1').propose(text('after'))
    for (let round = 0; round < 50; round++) {
      net.processReady()
      net.deliverQueued()
    }
    expect(net.appliedData('2').at(-1)).toBe('after')
  })
})
