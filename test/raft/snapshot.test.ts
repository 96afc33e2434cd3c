import { describe, expect, it } from 'vitest'
import { RaftError } from '../../src/raft/index'
import { Network, text } from './network'
import type { Message } from '../../src/raft/types'

const ids = ['1', '2', '3']

/** 3 lags behind while 1 commits and compacts past 3's log. */
function laggingBehindCompaction(snapshotBytes: number, chunk: number): Network {
  const net = Network.cluster(ids, { maxSnapshotChunkSize: chunk })
  net.stabilize()
  net.elect('1')
  net.isolate('3')
  for (let i = 0; i < 10; i++) net.node('1').propose(text(`e${i}`))
  net.stabilize()
  const applied = net.node('1').status().applied
  const data = new Uint8Array(snapshotBytes).map((_, i) => i & 0xff)
  net.compact('1', applied, data)
  net.heal()
  return net
}

describe('§7 log compaction', () => {
  it('compact makes the applied state the snapshot and drops earlier entries', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('1')
    for (let i = 0; i < 5; i++) net.node('1').propose(text(`e${i}`))
    net.stabilize()
    const st = net.node('1').status()
    const snap = net.node('1').compact(st.applied, text('state'))
    expect(snap.meta.index).toBe(st.applied)
    expect(snap.meta.term).toBe(st.term)
    expect(snap.meta.conf.voters).toEqual(ids)
    expect(net.node('1').status().firstIndex).toBe(st.applied + 1)
    // replication goes on after compaction
    net.node('1').propose(text('after'))
    net.stabilize()
    expect(net.appliedData('2').at(-1)).toBe('after')
  })

  it('compact refuses an unapplied or already compacted index', () => {
    const net = Network.cluster(ids)
    net.stabilize()
    net.elect('1')
    const applied = net.node('1').status().applied
    expect(() => net.node('1').compact(applied + 1, text('s'))).toThrow(RaftError)
    net.node('1').compact(applied, text('s'))
    try {
      net.node('1').compact(applied, text('s'))
      expect.unreachable()
    } catch (e) {
      expect((e as RaftError).code).toBe('BAD_COMPACTION')
    }
  })

  it('a follower behind the first index receives the snapshot in chunks and installs it', () => {
    const net = laggingBehindCompaction(2500, 1000)
    const chunks: Message[] = []
    net.onDeliver = (m) => {
      if (m.type === 'MsgSnap') chunks.push(m)
    }
    net.tick('1')
    net.stabilize()
    expect(chunks.map((c) => [c.snapshot!.offset, c.snapshot!.data.length, c.snapshot!.total])).toEqual([
      [0, 1000, 2500],
      [1000, 1000, 2500],
      [2000, 500, 2500],
    ])
    const installed = net.get('3').disk.snapshot!
    expect(installed.data.length).toBe(2500)
    expect(installed.data[1234]).toBe(1234 & 0xff)
    expect(net.node('3').status().commit).toBe(net.node('1').status().commit)
    net.node('1').propose(text('later'))
    net.stabilize()
    expect(net.appliedData('3')).toEqual(['later'])
  })

  it('a lost chunk is resent after the next heartbeat', () => {
    const net = laggingBehindCompaction(2500, 1000)
    let dropped = false
    net.filter = (m) => {
      if (m.type === 'MsgSnap' && m.snapshot!.offset === 1000 && !dropped) {
        dropped = true
        return false
      }
      return true
    }
    net.tick('1')
    net.stabilize()
    expect(net.get('3').disk.snapshot).toBeNull()
    net.tick('1')
    net.stabilize()
    expect(net.get('3').disk.snapshot?.data.length).toBe(2500)
  })

  it('a gap restarts the transfer; chunks of a stale snapshot are discarded', () => {
    const net = laggingBehindCompaction(3000, 1000)
    const held: Message[] = []
    net.filter = (m) => {
      if (m.type === 'MsgSnap' && m.snapshot!.offset === 1000 && held.length === 0) {
        held.push(m)
        return false
      }
      return true
    }
    net.tick('1')
    net.processReady()
    net.deliverQueued() // chunk 0 arrives
    net.processReady()
    net.deliverQueued() // chunk 1 held back
    // the leader compacts again: the transfer restarts with the new snapshot
    for (let i = 0; i < 3; i++) net.node('1').propose(text(`more${i}`))
    net.stabilize()
    const applied = net.node('1').status().applied
    const newer = net.compact('1', applied, new Uint8Array(1500).fill(7))
    net.tick('1')
    net.stabilize()
    // the old chunk arrives late: ignored
    net.deliver(held[0]!)
    net.stabilize()
    net.tick('1')
    net.stabilize()
    const installed = net.get('3').disk.snapshot!
    expect(installed.meta.index).toBe(newer.meta.index)
    expect(installed.data.length).toBe(1500)
    expect(net.node('3').status().commit).toBe(net.node('1').status().commit)
  })

  it('a restarted member resumes from its snapshot and the entries after it', () => {
    const net = laggingBehindCompaction(10, 1000)
    net.tick('1')
    net.stabilize()
    net.node('1').propose(text('x'))
    net.stabilize()
    const m = net.restart('3')
    expect(m.node.status().firstIndex).toBe(net.get('3').disk.snapshot!.meta.index + 1)
    expect(m.node.status().conf.voters).toEqual(ids)
    net.stabilize()
    expect(net.appliedData('3')).toEqual(['x'])
  })
})
