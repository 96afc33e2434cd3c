// The in-memory records of the tree: znodes and sessions. Internal to src/tree
// (ztree.ts mutates them, snapshot.ts encodes them); readers get Stat copies.
import type { SessionDedup } from './dedup'
import type { Stat } from './types'

/** what kind of node: decides ownership and reaping */
export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl'
export const NODE_KINDS: readonly NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl']

export interface ZNode {
  data: Uint8Array
  czxid: number
  mzxid: number
  pzxid: number
  ctime: number
  mtime: number
  version: number
  cversion: number
  kind: NodeKind
  /** the owning session of an ephemeral, else null */
  owner: string | null
  /** a TTL node's ttl, else 0 */
  ttlMs: number
  /** command time of the last child creation or deletion (ctime until then): a TTL node is idle since max(mtime, ptime) */
  ptime: number
  /** child names; null until the first child (most nodes are leaves, and a Set per leaf is costly) */
  children: Set<string> | null
}

export interface SessionState {
  timeoutMs: number
  /** paths of the ephemerals it owns */
  ephemerals: Set<string>
  dedup: SessionDedup
}

/** The whole replicated state; equal states give equal snapshots and digests. */
export interface TreeState {
  nodes: Map<string, ZNode>
  sessions: Map<string, SessionState>
  /**
   * Ids of the last MAX_ENDED_SESSIONS sessions that ended (closed or
   * expired), oldest first. A member resends its open-session to each new
   * leader until it applies one, so a copy can commit after the session
   * ended; it must not bring the session back (a write its member gave up on
   * could land under it). ZooKeeper's leader hands out fresh ids; ours come
   * from the members, so the tree remembers which ones are spent.
   */
  ended: Set<string>
  /** zxid of the last applied entry */
  lastZxid: number
}

/** how many ended session ids the tree remembers: memory and snapshot size stay bounded (~50 KB at most);
 *  a late open-session copy arrives within a few leader changes, far fewer session ends than this */
export const MAX_ENDED_SESSIONS = 1024

export const childCount = (n: ZNode): number => (n.children === null ? 0 : n.children.size)

/** adds a child name, creating the set on the first child */
export const addChild = (n: ZNode, name: string): void => {
  if (n.children === null) n.children = new Set([name])
  else n.children.add(name)
}

export const statOf = (n: ZNode): Stat => ({
  czxid: n.czxid,
  mzxid: n.mzxid,
  pzxid: n.pzxid,
  ctime: n.ctime,
  mtime: n.mtime,
  version: n.version,
  cversion: n.cversion,
  ephemeralOwner: n.owner,
  dataLength: n.data.length,
  numChildren: childCount(n),
})

/** the root as a fresh tree has it: all counters zero */
export const newRoot = (): ZNode => ({
  data: new Uint8Array(0),
  czxid: 0,
  mzxid: 0,
  pzxid: 0,
  ctime: 0,
  mtime: 0,
  version: 0,
  cversion: 0,
  kind: 'persistent',
  owner: null,
  ttlMs: 0,
  ptime: 0,
  children: null,
})

/**
 * Whether a container or TTL node may be reaped at `now` (ZooKeeper's
 * ContainerManager): a container once had a child (cversion > 0) and has none;
 * a TTL node has no children and neither its data nor its children changed for
 * longer than its ttl.
 */
export const isReapable = (n: ZNode, now: number): boolean => {
  if (childCount(n) > 0) return false
  if (n.kind === 'container') return n.cversion > 0
  if (n.kind === 'ttl') return now - Math.max(n.mtime, n.ptime) > n.ttlMs
  return false
}
