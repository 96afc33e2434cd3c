// Membership changes by joint consensus (etcd raft's confchange package), and
// the binary form of a ConfChange carried in 'conf' entries.
//
// What must stay true of every ConfState this module returns:
// - `voters` is non-empty;
// - a node is in at most one of voters / learners, and of learners / learnersNext;
// - `votersOutgoing` is non-empty exactly when the config is joint;
// - `learnersNext` nodes are outgoing voters that become learners on leave.
import * as encoding from 'lib0/encoding'
import * as checked from '../codec/checked-reader'
import { RaftError } from './errors'
import type { ConfChange, ConfChangeSingle, ConfChangeType, ConfState, NodeId } from './types'

export const emptyConfState = (): ConfState => ({
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
})

export const cloneConfState = (cs: ConfState): ConfState => ({
  voters: [...cs.voters],
  learners: [...cs.learners],
  votersOutgoing: [...cs.votersOutgoing],
  learnersNext: [...cs.learnersNext],
  autoLeave: cs.autoLeave,
})

export const isJoint = (cs: ConfState): boolean => cs.votersOutgoing.length > 0

/** Voters of either half of the config, each once. */
export function allVoters(cs: ConfState): NodeId[] {
  if (cs.votersOutgoing.length === 0) return cs.voters
  const out = [...cs.voters]
  for (const id of cs.votersOutgoing) if (!out.includes(id)) out.push(id)
  return out
}

/** Every member of the config: voters of both halves and learners. */
export function allMembers(cs: ConfState): NodeId[] {
  const out = [...allVoters(cs)]
  for (const id of cs.learners) if (!out.includes(id)) out.push(id)
  for (const id of cs.learnersNext) if (!out.includes(id)) out.push(id)
  return out
}

export function isVoter(cs: ConfState, id: NodeId): boolean {
  return cs.voters.includes(id) || cs.votersOutgoing.includes(id)
}

const remove = (list: NodeId[], id: NodeId): NodeId[] => list.filter((x) => x !== id)
const add = (list: NodeId[], id: NodeId): NodeId[] => (list.includes(id) ? list : [...list, id])

function applySingle(cs: ConfState, c: ConfChangeSingle): void {
  switch (c.type) {
    case 'addVoter':
      cs.learners = remove(cs.learners, c.node)
      cs.learnersNext = remove(cs.learnersNext, c.node)
      cs.voters = add(cs.voters, c.node)
      return
    case 'addLearner':
      cs.voters = remove(cs.voters, c.node)
      cs.learners = remove(cs.learners, c.node)
      cs.learnersNext = remove(cs.learnersNext, c.node)
      // an outgoing voter keeps voting until the joint config is left, then
      // becomes a learner (etcd's LearnersNext)
      if (cs.votersOutgoing.includes(c.node)) cs.learnersNext = add(cs.learnersNext, c.node)
      else cs.learners = add(cs.learners, c.node)
      return
    case 'remove':
      cs.voters = remove(cs.voters, c.node)
      cs.learners = remove(cs.learners, c.node)
      cs.learnersNext = remove(cs.learnersNext, c.node)
      return
  }
}

function symmetricDifference(a: readonly NodeId[], b: readonly NodeId[]): number {
  let n = 0
  for (const x of a) if (!b.includes(x)) n++
  for (const x of b) if (!a.includes(x)) n++
  return n
}

function checkInvariants(cs: ConfState): void {
  if (cs.voters.length === 0) throw new RaftError('INVALID_CONF_CHANGE', 'removing all voters')
  for (const id of cs.learners) {
    if (isVoter(cs, id)) throw new RaftError('INVALID_CONF_CHANGE', `${id} is both voter and learner`)
  }
  for (const id of cs.learnersNext) {
    if (!cs.votersOutgoing.includes(id)) throw new RaftError('INVALID_CONF_CHANGE', `${id} in learnersNext but not outgoing`)
  }
}

/** Does applying `cc` to `cs` take the joint path? */
export function entersJoint(cs: ConfState, cc: ConfChange): boolean {
  if (cc.changes.length === 0) return false
  if (cc.transition !== 'auto') return true
  const probe = cloneConfState(cs)
  for (const c of cc.changes) applySingle(probe, c)
  return symmetricDifference(cs.voters, probe.voters) > 1
}

/**
 * The config after `cc`. Throws RaftError('INVALID_CONF_CHANGE') when the
 * change is not allowed: entering a joint config while joint, leaving one
 * while not joint, a simple change of more than one voter, no voters left.
 */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  const next = cloneConfState(cs)
  if (cc.changes.length === 0) {
    // leave the joint configuration
    if (!isJoint(cs)) throw new RaftError('INVALID_CONF_CHANGE', 'not in a joint config, nothing to leave')
    for (const id of next.learnersNext) next.learners = add(next.learners, id)
    next.learnersNext = []
    next.votersOutgoing = []
    next.autoLeave = false
    checkInvariants(next)
    return next
  }
  if (isJoint(cs)) throw new RaftError('INVALID_CONF_CHANGE', 'config is joint; leave it first')
  if (entersJoint(cs, cc)) {
    next.votersOutgoing = [...cs.voters]
    next.autoLeave = cc.transition !== 'joint-explicit'
    for (const c of cc.changes) applySingle(next, c)
  } else {
    for (const c of cc.changes) applySingle(next, c)
    if (symmetricDifference(cs.voters, next.voters) > 1) {
      throw new RaftError('INVALID_CONF_CHANGE', 'more than one voter changed without joint consensus')
    }
  }
  checkInvariants(next)
  return next
}

// ---- binary form -----------------------------------------------------------

const CONF_CHANGE_VERSION = 1
const TYPES: readonly ConfChangeType[] = ['addVoter', 'addLearner', 'remove']
const TRANSITIONS: readonly ConfChange['transition'][] = ['auto', 'joint-implicit', 'joint-explicit']
/** Bounds on untrusted input: a mesh never has more members than this. */
export const MAX_CONF_CHANGES = 256
export const MAX_NODE_ID_LENGTH = 256

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, CONF_CHANGE_VERSION)
  encoding.writeUint8(enc, TRANSITIONS.indexOf(cc.transition))
  encoding.writeVarUint(enc, cc.changes.length)
  for (const c of cc.changes) {
    encoding.writeUint8(enc, TYPES.indexOf(c.type))
    encoding.writeVarString(enc, c.node)
  }
  return encoding.toUint8Array(enc)
}

const bad = (why: string): RaftError => new RaftError('BAD_CONF_CHANGE_ENCODING', why)

/** Decodes and validates; throws RaftError('BAD_CONF_CHANGE_ENCODING'), and
 *  only that: the reads are the one checked reader's, its DecodeError mapped here. */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  try {
    return checked.decodeAll(bytes, readConfChange, 'conf change', (err) => err instanceof RaftError)
  } catch (err) {
    if (err instanceof checked.DecodeError) throw bad(err.reason)
    throw err
  }
}

function readConfChange(dec: checked.Decoder): ConfChange {
  if (checked.readByte(dec, 'version') !== CONF_CHANGE_VERSION) throw bad('unknown version')
  const transition = checked.readEnum(dec, TRANSITIONS, 'transition')
  // each change takes at least a type byte and a length byte
  const n = checked.readCount(dec, MAX_CONF_CHANGES, 'changes', 2)
  const changes: ConfChangeSingle[] = []
  for (let i = 0; i < n; i++) {
    const type = checked.readEnum(dec, TYPES, 'change type')
    const node = checked.readCharBoundedString(dec, MAX_NODE_ID_LENGTH, 'node id')
    if (node.length === 0) throw bad('bad node id')
    changes.push({ type, node })
  }
  return { changes, transition }
}
