// NodeOps: the znode operations of a txn (create, set, delete, check, fence)
// and the two primitives every change of the tree's shape goes through
// (`link` a new node under its parent, `remove` one), each as ZooKeeper does
// it: the parent's cversion, pzxid and child count move, the owner session
// and the reap candidates follow, and a ChangeEvent is pushed for watches.
// Inside a multi each change pushes its inverse onto `undo`, so a later
// failing op takes every earlier one back (ZTree.runOps). Pure: the tree
// (ztree.ts) owns the state and calls in.
import { isEphemeralMode, isSequentialMode, isTtlMode, opProblem } from './command'
import { TreeError } from './errors'
import { nameOf, parentOf, pathProblem, sequenceSuffix } from './paths'
import { addChild, childCount, statOf } from './znode'
import type { NodeKind, TreeState, ZNode } from './znode'
import type { ChangeEvent, CreateMode, OpResult, TxnOp } from './types'

/** the inverses of a multi's changes so far (null outside a multi: nothing to take back) */
export type Undo = (() => void)[] | null

const fail = (code: TreeError['code'], message: string, path?: string): never => {
  throw new TreeError(code, message, path)
}

const kindOf = (mode: CreateMode): NodeKind =>
  isEphemeralMode(mode) ? 'ephemeral' : mode === 'container' ? 'container' : isTtlMode(mode) ? 'ttl' : 'persistent'

/** a node as its create makes it: every zxid this entry's, every counter zero */
const newNode = (data: Uint8Array, kind: NodeKind, owner: string | null, ttlMs: number, zxid: number, time: number): ZNode => ({
  data,
  czxid: zxid,
  mzxid: zxid,
  pzxid: zxid,
  ctime: time,
  mtime: time,
  version: 0,
  cversion: 0,
  kind,
  owner,
  ttlMs,
  ptime: time,
  children: null,
})

export class NodeOps {
  constructor(
    private readonly state: TreeState,
    /** paths of container and TTL nodes (the tree's, kept current here) */
    private readonly reapCandidates: Set<string>,
    private readonly maxDataBytes: number,
  ) {}

  /** one op: checks everything first, then mutates; pushes its inverse onto undo (multi only) */
  apply(op: TxnOp, zxid: number, time: number, session: string, undo: Undo, events: ChangeEvent[]): OpResult {
    const nodes = this.state.nodes
    // a path naming an existing node is valid (every stored path was validated): skip re-checking it
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- ops are decoded from the log or peer messages
    const known = op?.op !== 'create' && typeof op?.path === 'string' && nodes.has(op.path)
    const problem = opProblem(op, !known)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- ops are decoded from the log or peer messages
    if (problem !== null) fail('BAD_ARGUMENTS', problem, typeof op?.path === 'string' ? op.path : undefined)
    switch (op.op) {
      case 'create':
        return this.create(op, zxid, time, session, undo, events)
      case 'set': {
        if (op.data.length > this.maxDataBytes) fail('TOO_LARGE', `data of ${op.data.length} bytes exceeds ${this.maxDataBytes}`, op.path)
        const n = nodes.get(op.path) ?? fail('NO_NODE', `no node ${op.path}`, op.path)
        if (op.version !== -1 && op.version !== n.version) fail('BAD_VERSION', `version ${n.version}, expected ${op.version}`, op.path)
        if (undo !== null) {
          const { data, version, mzxid, mtime } = n
          undo.push(() => Object.assign(n, { data, version, mzxid, mtime }))
        }
        n.data = op.data.slice()
        n.version++
        n.mzxid = zxid
        n.mtime = time
        events.push({ type: 'data', path: op.path, zxid })
        return { op: 'set', stat: statOf(n) }
      }
      case 'delete': {
        if (op.path === '/') fail('BAD_ARGUMENTS', 'the root cannot be deleted', op.path)
        const n = nodes.get(op.path) ?? fail('NO_NODE', `no node ${op.path}`, op.path)
        if (op.version !== -1 && op.version !== n.version) fail('BAD_VERSION', `version ${n.version}, expected ${op.version}`, op.path)
        if (childCount(n) > 0) fail('NOT_EMPTY', `${op.path} has children`, op.path)
        this.remove(op.path, n, zxid, time, events, undo)
        return { op: 'delete' }
      }
      case 'check': {
        const n = nodes.get(op.path) ?? fail('NO_NODE', `no node ${op.path}`, op.path)
        if (op.version !== -1 && op.version !== n.version) fail('BAD_VERSION', `version ${n.version}, expected ${op.version}`, op.path)
        return { op: 'check' }
      }
      case 'fence': {
        const n = nodes.get(op.path)
        if (n?.czxid !== op.token) fail('FENCED', `fencing token ${op.token} no longer holds ${op.path}`, op.path)
        return { op: 'fence' }
      }
    }
  }

  private create(
    op: Extract<TxnOp, { op: 'create' }>,
    zxid: number,
    time: number,
    session: string,
    undo: Undo,
    events: ChangeEvent[],
  ): OpResult {
    if (op.data.length > this.maxDataBytes) fail('TOO_LARGE', `data of ${op.data.length} bytes exceeds ${this.maxDataBytes}`, op.path)
    const sequential = isSequentialMode(op.mode)
    // for a sequential create the given path is a prefix; '/q/' names children '/q/0000000000', …
    if (!sequential && op.path === '/') fail('NODE_EXISTS', 'the root exists', op.path)
    const parentPath = sequential && op.path.endsWith('/') ? op.path.slice(0, -1) || '/' : parentOf(op.path)
    const nodes = this.state.nodes
    // Every check comes before the first change (a create outside a multi has
    // no undo): the ancestors `parents` will make are only listed here.
    const missing = op.parents === undefined ? [] : this.missingAncestors(parentPath)
    const parent = nodes.get(parentPath)
    if (parent === undefined && missing.length === 0) fail('NO_NODE', `no parent node ${parentPath}`, op.path)
    // a parent made now has counted no child yet: its first sequential child is 0000000000
    const path = sequential ? op.path + sequenceSuffix(parent?.cversion ?? 0) : op.path
    if (sequential && pathProblem(path) !== null) fail('BAD_ARGUMENTS', `bad sequential path ${path}`, path)
    if (nodes.has(path)) fail('NODE_EXISTS', `${path} exists`, path)
    // the existing node that gets the first new child: the parent, or the ancestor above the made ones
    const host = missing.length === 0 ? parentPath : parentOf(missing[0]!)
    if (nodes.get(host)!.kind === 'ephemeral') fail('NO_CHILDREN_FOR_EPHEMERALS', `${host} is ephemeral`, path)
    for (const ancestor of missing) this.link(ancestor, newNode(new Uint8Array(0), op.parents!, null, 0, zxid, time), zxid, time, undo, events)
    const kind = kindOf(op.mode)
    const node = newNode(op.data.slice(), kind, kind === 'ephemeral' ? session : null, kind === 'ttl' ? op.ttlMs! : 0, zxid, time)
    this.link(path, node, zxid, time, undo, events)
    return { op: 'create', path, stat: statOf(node) }
  }

  /** the ancestors of a node at `parentPath`, itself included, that do not exist yet: top-down */
  private missingAncestors(parentPath: string): string[] {
    const missing: string[] = []
    for (let at = parentPath; !this.state.nodes.has(at); at = parentOf(at)) missing.push(at)
    return missing.reverse()
  }

  /** Links a new node under its (existing) parent, as a ZooKeeper create does: the parent's cversion, pzxid move. */
  private link(path: string, node: ZNode, zxid: number, time: number, undo: Undo, events: ChangeEvent[]): void {
    const nodes = this.state.nodes
    const parentPath = parentOf(path)
    const parent = nodes.get(parentPath)!
    const name = nameOf(path)
    const { cversion, pzxid, ptime } = parent
    nodes.set(path, node)
    addChild(parent, name)
    parent.cversion++
    parent.pzxid = zxid
    parent.ptime = time
    const owner = node.owner !== null ? this.state.sessions.get(node.owner)! : null
    owner?.ephemerals.add(path)
    if (node.kind === 'container' || node.kind === 'ttl') this.reapCandidates.add(path)
    if (undo !== null) {
      undo.push(() => {
        nodes.delete(path)
        parent.children!.delete(name)
        Object.assign(parent, { cversion, pzxid, ptime })
        owner?.ephemerals.delete(path)
        this.reapCandidates.delete(path)
      })
    }
    events.push({ type: 'created', path, zxid }, { type: 'children', path: parentPath, zxid })
  }

  /**
   * Unlinks a node (the caller checked it may go). As ZooKeeper's delete: the
   * parent's pzxid moves and numChildren drops; its cversion does not (only
   * child creations count, so sequential names never repeat anyway).
   */
  remove(path: string, n: ZNode, zxid: number, time: number, events: ChangeEvent[], undo: Undo): void {
    const nodes = this.state.nodes
    const parentPath = parentOf(path)
    const parent = nodes.get(parentPath)!
    const name = nameOf(path)
    const { pzxid, ptime } = parent
    nodes.delete(path)
    parent.children!.delete(name)
    parent.pzxid = zxid
    parent.ptime = time
    const owner = n.owner !== null ? this.state.sessions.get(n.owner) : undefined
    owner?.ephemerals.delete(path)
    const candidate = this.reapCandidates.delete(path)
    if (undo !== null) {
      undo.push(() => {
        nodes.set(path, n)
        addChild(parent, name)
        Object.assign(parent, { pzxid, ptime })
        owner?.ephemerals.add(path)
        if (candidate) this.reapCandidates.add(path)
      })
    }
    events.push({ type: 'deleted', path, zxid }, { type: 'children', path: parentPath, zxid })
  }
}
