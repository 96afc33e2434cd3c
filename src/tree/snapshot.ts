// The snapshot codec of the tree's state: deterministic (children and sessions
// in sorted order, so equal states give equal bytes) and validated on the way
// in (a snapshot may come from a peer: every field, bound and cross-reference
// is checked; garbage throws TreeError BAD_ARGUMENTS).
//
// Layout (lib0): version byte; lastZxid; node count; nodes in pre-order, each
// as (index of its parent in that order, name, fields) — the root first with
// no parent index or name; session count; sessions sorted by id, each with its
// timeout and dedup table (floor, results sorted by seq); since version 2,
// the ended session ids (TreeState.ended), oldest first. Version 1 snapshots
// (written before ended ids were kept) still restore, with none.
import * as encoding from 'lib0/encoding'
import { CheckedReader, decodeChecked, MAX_SESSION_ID_LENGTH, readTxnResult, writeString, writeTxnResult } from './codec'
import { MAX_OPS_PER_TXN, MAX_SESSION_TIMEOUT_MS, MAX_TTL_MS, sessionIdProblem } from './command'
import { MAX_RESULTS_PER_SESSION } from './dedup'
import { badArguments } from './errors'
import { MAX_PATH_LENGTH, isInvalidChar, joinPath } from './paths'
import { MAX_ENDED_SESSIONS, NODE_KINDS, addChild } from './znode'
import type { SessionState, TreeState, ZNode } from './znode'
import type { TxnResult } from './types'

export const SNAPSHOT_FORMAT_VERSION = 2
/** the oldest format still restored (snapshots on disk outlive the code that wrote them) */
const OLDEST_FORMAT_VERSION = 1

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export function encodeState(state: TreeState): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, SNAPSHOT_FORMAT_VERSION)
  encoding.writeVarUint(e, state.lastZxid)
  encoding.writeVarUint(e, state.nodes.size)
  // iterative pre-order walk: a deep chain must not overflow the call stack
  const stackPaths: string[] = ['/']
  const stackParents: number[] = [-1]
  let index = 0
  while (stackPaths.length > 0) {
    const path = stackPaths.pop()!
    const parentIndex = stackParents.pop()!
    const n = state.nodes.get(path)!
    if (parentIndex >= 0) {
      encoding.writeVarUint(e, parentIndex)
      writeString(e, path.slice(path.lastIndexOf('/') + 1))
    }
    writeNode(e, n)
    if (n.children !== null && n.children.size > 0) {
      const names = [...n.children].sort(byString)
      // push in reverse so children come out in sorted order
      for (let i = names.length - 1; i >= 0; i--) {
        stackPaths.push(joinPath(path, names[i]!))
        stackParents.push(index)
      }
    }
    index++
  }
  const ids = [...state.sessions.keys()].sort(byString)
  encoding.writeVarUint(e, ids.length)
  for (const id of ids) {
    const s = state.sessions.get(id)!
    writeString(e, id)
    encoding.writeVarUint(e, s.timeoutMs)
    encoding.writeVarUint(e, s.dedup.floor)
    const seqs = [...s.dedup.results.keys()].sort((a, b) => a - b)
    encoding.writeVarUint(e, seqs.length)
    for (const seq of seqs) {
      encoding.writeVarUint(e, seq)
      writeTxnResult(e, s.dedup.results.get(seq)!)
    }
  }
  // in the order they ended: the order decides which is forgotten first, so it is state
  encoding.writeVarUint(e, state.ended.size)
  for (const id of state.ended) writeString(e, id)
  return encoding.toUint8Array(e)
}

const writeNode = (e: encoding.Encoder, n: ZNode): void => {
  encoding.writeVarUint8Array(e, n.data)
  encoding.writeVarUint(e, n.czxid)
  encoding.writeVarUint(e, n.mzxid)
  encoding.writeVarUint(e, n.pzxid)
  encoding.writeVarUint(e, n.ctime)
  encoding.writeVarUint(e, n.mtime)
  encoding.writeVarUint(e, n.ptime)
  encoding.writeVarUint(e, n.version)
  encoding.writeVarUint(e, n.cversion)
  encoding.writeUint8(e, NODE_KINDS.indexOf(n.kind))
  if (n.kind === 'ephemeral') writeString(e, n.owner!)
  if (n.kind === 'ttl') encoding.writeVarUint(e, n.ttlMs)
}

const readNode = (r: CheckedReader, lastZxid: number): ZNode => {
  // a view into the restored copy of the snapshot (see decodeState), not a copy per node
  const data = r.bytesField('data')
  const czxid = r.uint('czxid', lastZxid)
  const mzxid = r.uint('mzxid', lastZxid)
  const pzxid = r.uint('pzxid', lastZxid)
  const ctime = r.uint('ctime')
  const mtime = r.uint('mtime')
  const ptime = r.uint('ptime')
  const version = r.uint('version')
  const cversion = r.uint('cversion')
  const kind = NODE_KINDS[r.u8()]
  if (kind === undefined) throw badArguments('snapshot: unknown node kind')
  const owner = kind === 'ephemeral' ? r.string('ephemeralOwner', MAX_SESSION_ID_LENGTH) : null
  const ttlMs = kind === 'ttl' ? r.uint('ttlMs', MAX_TTL_MS) : 0
  if (kind === 'ttl' && ttlMs === 0) throw badArguments('snapshot: ttl of 0')
  return { data, czxid, mzxid, pzxid, ctime, mtime, ptime, version, cversion, kind, owner, ttlMs, children: null }
}

/** Decodes and validates a snapshot; throws TreeError BAD_ARGUMENTS on garbage. */
export function decodeState(bytes: Uint8Array): TreeState {
  if (!(bytes instanceof Uint8Array)) throw badArguments('snapshot: not bytes')
  // one private copy whose subarrays become the nodes' data: the caller may reuse its bytes,
  // and 100,000 small copies would cost more than one large one. Memory: a node's data keeps
  // the copy alive until it is set again; at most the snapshot's size.
  return decodeChecked(bytes.slice(), 'snapshot', readState)
}

const readState = (r: CheckedReader): TreeState => {
  const version = r.u8()
  if (version < OLDEST_FORMAT_VERSION || version > SNAPSHOT_FORMAT_VERSION) throw badArguments(`snapshot: unknown format version ${version}`)
  const lastZxid = r.uint('lastZxid')
  // each node takes at least 10 bytes (data length, 8 counters, kind)
  const count = r.count('nodes', Number.MAX_SAFE_INTEGER, 10)
  if (count < 1) throw badArguments('snapshot: no root')
  const nodes = new Map<string, ZNode>()
  const paths = new Array<string>(count)
  const root = readNode(r, lastZxid)
  if (root.kind !== 'persistent') throw badArguments('snapshot: root must be persistent')
  nodes.set('/', root)
  paths[0] = '/'
  // pre-order, as encodeState writes it: each node's parent is the previous node or one of its
  // ancestors (the open path), and children of one parent come in strictly increasing name order
  const lastChildName = new Array<string | undefined>(count)
  const openPath: number[] = [0]
  for (let i = 1; i < count; i++) {
    const parentIndex = r.uint('parent index', i - 1)
    while (openPath.length > 0 && openPath[openPath.length - 1] !== parentIndex) openPath.pop()
    if (openPath.length === 0) throw badArguments('snapshot: nodes not in pre-order')
    openPath.push(i)
    const name = r.string('name', MAX_PATH_LENGTH)
    const parentPath = paths[parentIndex]!
    const parent = nodes.get(parentPath)!
    const prev = lastChildName[parentIndex]
    if (prev !== undefined && !(prev < name)) throw badArguments('snapshot: children out of order')
    lastChildName[parentIndex] = name
    const path = joinPath(parentPath, name)
    if (!isValidName(name) || path.length > MAX_PATH_LENGTH) throw badArguments(`snapshot: bad node name ${JSON.stringify(name)}`)
    if (parent.kind === 'ephemeral') throw badArguments('snapshot: child of an ephemeral')
    const n = readNode(r, lastZxid)
    addChild(parent, name)
    nodes.set(path, n)
    paths[i] = path
  }
  const sessionCount = r.count('sessions', Number.MAX_SAFE_INTEGER, 4)
  const sessions = new Map<string, SessionState>()
  let prevId: string | undefined
  for (let i = 0; i < sessionCount; i++) {
    const id = r.string('session id', MAX_SESSION_ID_LENGTH)
    const problem = sessionIdProblem(id)
    if (problem !== null) throw badArguments(`snapshot: ${problem}`)
    if (prevId !== undefined && !(prevId < id)) throw badArguments('snapshot: sessions out of order')
    prevId = id
    const timeoutMs = r.uint('timeoutMs', MAX_SESSION_TIMEOUT_MS)
    if (timeoutMs === 0) throw badArguments('snapshot: session timeout 0')
    const floor = r.uint('dedup floor')
    const n = r.count('dedup results', MAX_RESULTS_PER_SESSION, 2)
    const results = new Map<number, TxnResult>()
    let prevSeq = -1
    for (let j = 0; j < n; j++) {
      const seq = r.uint('seq')
      if (seq <= prevSeq || seq < floor) throw badArguments('snapshot: dedup seqs out of order or below floor')
      prevSeq = seq
      results.set(seq, readTxnResult(r, MAX_OPS_PER_TXN))
    }
    sessions.set(id, { timeoutMs, ephemerals: new Set(), dedup: { floor, results } })
  }
  // every ephemeral belongs to a live session
  for (let i = 1; i < count; i++) {
    const path = paths[i]!
    const n = nodes.get(path)!
    if (n.owner === null) continue
    const s = sessions.get(n.owner)
    if (s === undefined) throw badArguments(`snapshot: ephemeral ${path} of unknown session`)
    s.ephemerals.add(path)
  }
  const ended = new Set<string>()
  if (version >= 2) {
    const n = r.count('ended sessions', MAX_ENDED_SESSIONS, 1)
    for (let i = 0; i < n; i++) {
      const id = r.string('ended session id', MAX_SESSION_ID_LENGTH)
      const problem = sessionIdProblem(id)
      if (problem !== null) throw badArguments(`snapshot: ${problem}`)
      if (ended.has(id) || sessions.has(id)) throw badArguments('snapshot: an ended session listed twice or still live')
      ended.add(id)
    }
  }
  return { nodes, sessions, ended, lastZxid }
}

/** a path segment: non-empty, no '/', not '.' or '..', no character ZooKeeper refuses */
const isValidName = (name: string): boolean => {
  if (name.length === 0 || name === '.' || name === '..') return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x2f || isInvalidChar(c)) return false
  }
  return true
}
