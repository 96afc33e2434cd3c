// A hostile peer for attack tests: it links to every member of a simulated
// cluster (cluster.connectPeer: over the members' own transport), claims to belong to the members' cluster
// (the id every member broadcasts, so it is public), and sends whatever node
// messages a test gives it.
import type { SimulatedCluster } from '../../src/testing/index'
import type { Link } from '../../src/transport/types'
import type { NodeMessage } from '../../src/wire/node-messages'
import { encodeNodeMessage } from '../../src/wire/node-messages'
import { encodeRaftMessage } from '../../src/wire/raft-codec'
import type { Message } from '../../src/raft/types'
import * as encoding from 'lib0/encoding'
import { msg } from '../wire/helpers'

/**
 * Our encoder refuses terms above MAX_RAFT_NUMBER; an attacker's does not.
 * Encode with term 0, then splice in the varuint of the real term (it sits
 * after the one-byte type tag and the two length-prefixed short ids).
 */
export function encodeAnyTerm(m: Message): Uint8Array {
  const base = encodeRaftMessage({ ...m, term: 0 })
  const at = 1 + 1 + m.from.length + 1 + m.to.length
  const term = encoding.encode((e) => encoding.writeVarUint(e, m.term))
  const out = new Uint8Array(base.length - 1 + term.length)
  out.set(base.subarray(0, at))
  out.set(term, at)
  out.set(base.subarray(at + 1), at + term.length)
  return out
}

export interface Attacker {
  readonly id: string
  readonly links: Link[]
  /** send one node message on every link */
  sendAll(m: NodeMessage): void
  /** send a raft message (from the attacker, to each member) on every link */
  raftAll(over: Partial<Message> & Pick<Message, 'type'>): void
}

/** The cluster id the members of `cluster` announce (read from a live member). */
export function clusterIdOf(cluster: SimulatedCluster): string {
  for (const mesh of cluster.meshes) {
    let member: { clusterId: string | null; isStopped: boolean }
    try {
      member = cluster.memberOf(mesh) as unknown as typeof member
    } catch {
      continue // crashed
    }
    if (!member.isStopped && member.clusterId !== null) return member.clusterId
  }
  throw new Error('no live member has a cluster id')
}

/** Link `id` to every member and introduce it as a member of their cluster. */
export async function connectAttacker(cluster: SimulatedCluster, id = 'evil', browser = 'evil'): Promise<Attacker> {
  const { links } = await cluster.connectPeer({ member: id, tab: 't', browser })
  const sendAll = (m: NodeMessage): void => {
    for (const link of links) if (link.open) link.send(encodeNodeMessage(m))
  }
  sendAll({ type: 'cluster', clusterId: clusterIdOf(cluster), browser, commit: 0, yieldTo: '' })
  return {
    id,
    links,
    sendAll,
    raftAll(over) {
      for (const link of links) {
        if (link.open) link.send(encodeNodeMessage({ type: 'raft', bytes: encodeAnyTerm(msg({ from: id, to: link.peer, ...over })) }))
      }
    },
  }
}
