// ZTree: the znode tree as a pure, deterministic state machine over committed
// entries. apply(zxid, command) is the only way state changes; zxid is the
// Raft index of the entry (strictly increasing) and every op of a multi shares
// it. No clock, no randomness, no I/O: time is the leader-stamped `time` of
// each command, so every replica applying the same log reaches the same state
// (compare with digest()).
import { digest as sha256 } from 'lib0/hash/sha256'
import { MAX_OPS_PER_TXN, commandProblem, isEphemeralMode, isSequentialMode, isTtlMode, opProblem } from './command'
import { acknowledge, lookup, newSessionDedup, record } from './dedup'
import { TreeError } from './errors'
import { nameOf, parentOf, pathProblem, sequenceSuffix } from './paths'
import { decodeState, encodeState } from './snapshot'
import { PLANTED_BUGS } from './planted-bugs'
import { addChild, childCount, isReapable, newRoot, statOf } from './znode'
import type { NodeKind, TreeState, ZNode } from './znode'
import type {
  ApplyOutcome,
  ChangeEvent,
  Command,
  CreateMode,
  OpResult,
  SessionInfo,
  Stat,
  TreeBugs,
  TreeOptions,
  TxnOp,
  TxnResult,
} from './types'

export const DEFAULT_MAX_DATA_BYTES = 1024 * 1024

type Undo = (() => void)[] | null

const OK_EMPTY: TxnResult = Object.freeze({ ok: true, results: Object.freeze([]) as unknown as OpResult[] })
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

export class ZTree {
  private readonly state: TreeState
  private readonly maxDataBytes: number
  /** paths of container and TTL nodes: the only ones reapable() must look at */
  private readonly reapCandidates = new Set<string>()
  private cachedDigest: string | null = null
  /** planted bugs (tests only): see TreeBugs */
  private readonly bugs: TreeBugs

  constructor(opts: TreeOptions = {}, state?: TreeState) {
    this.bugs = opts.bugs ?? {}
    const max = opts.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES
    if (!Number.isSafeInteger(max) || max < 0) throw new TreeError('BAD_ARGUMENTS', 'maxDataBytes must be a non-negative integer')
    this.maxDataBytes = max
    this.state = state ?? { nodes: new Map([['/', newRoot()]]), sessions: new Map(), lastZxid: 0 }
    for (const [path, n] of this.state.nodes) if (n.kind === 'container' || n.kind === 'ttl') this.reapCandidates.add(path)
  }

  /** zxid of the last applied entry (0 for a fresh tree) */
  get lastZxid(): number {
    return this.state.lastZxid
  }

  /** number of znodes, the root included */
  get nodeCount(): number {
    return this.state.nodes.size
  }

  // ---- reads (local, as ZooKeeper's) ----

  /** data and stat of the node, or null. The data is a copy the caller owns:
   *  changing it must not change this replica (its digest would leave the others'). */
  get(path: string): { data: Uint8Array; stat: Stat } | null {
    const n = this.state.nodes.get(path)
    return n === undefined ? null : { data: n.data.slice(), stat: statOf(n) }
  }

  /** what kind of node (decides ownership and reaping), or null if there is none */
  kind(path: string): NodeKind | null {
    return this.state.nodes.get(path)?.kind ?? null
  }

  /** a TTL node's ttl in ms (0 for other kinds), or null if there is no node */
  ttlMs(path: string): number | null {
    return this.state.nodes.get(path)?.ttlMs ?? null
  }

  stat(path: string): Stat | null {
    const n = this.state.nodes.get(path)
    return n === undefined ? null : statOf(n)
  }

  /** sorted child names, or null if there is no node */
  children(path: string): string[] | null {
    const n = this.state.nodes.get(path)
    return n === undefined ? null : n.children === null ? [] : [...n.children].sort()
  }

  session(id: string): SessionInfo | null {
    const s = this.state.sessions.get(id)
    return s === undefined ? null : { id, timeoutMs: s.timeoutMs, ephemerals: [...s.ephemerals].sort() }
  }

  /** ids of the live sessions, sorted */
  sessions(): string[] {
    return [...this.state.sessions.keys()].sort()
  }

  /**
   * Nodes the leader should reap at `now` (its clock): TTL nodes childless and
   * unchanged for longer than their ttl, and containers whose last child went.
   * Sorted by path. The leader proposes them in a `reap` command; each replica
   * re-checks at the command's time, so a node that changed meanwhile stays.
   */
  reapable(now: number): { path: string; czxid: number }[] {
    const out: { path: string; czxid: number }[] = []
    for (const path of this.reapCandidates) {
      const n = this.state.nodes.get(path)!
      if (isReapable(n, now)) out.push({ path, czxid: n.czxid })
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  // ---- snapshots ----

  /** compact deterministic encoding of the whole state: tree, sessions, dedup table, lastZxid */
  snapshot(): Uint8Array {
    return encodeState(this.state)
  }

  /** rebuilds a tree from snapshot(); throws TreeError BAD_ARGUMENTS on garbage */
  static restore(bytes: Uint8Array, opts: TreeOptions = {}): ZTree {
    return new ZTree(opts, decodeState(bytes))
  }

  /** SHA-256 (hex) of the snapshot: replicas with equal state have equal digests */
  digest(): string {
    if (this.cachedDigest === null) {
      const h = sha256(this.snapshot())
      let s = ''
      for (const b of h) s += b.toString(16).padStart(2, '0')
      this.cachedDigest = s
    }
    return this.cachedDigest
  }

  // ---- apply ----

  /**
   * Applies one committed entry. Never throws for a well-formed Command; a
   * malformed one, or a zxid not after lastZxid (an entry already applied),
   * yields a BAD_ARGUMENTS result. A failing txn changes nothing.
   */
  apply(zxid: number, cmd: Command): ApplyOutcome {
    if (!Number.isSafeInteger(zxid) || zxid <= this.state.lastZxid) {
      return {
        result: { ok: false, code: 'BAD_ARGUMENTS', message: `zxid ${zxid} is not after lastZxid ${this.state.lastZxid}` },
        events: [],
        deduped: true,
      }
    }
    this.state.lastZxid = zxid
    this.cachedDigest = null
    const events: ChangeEvent[] = []
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- commands are decoded from the log or peer messages
    if (cmd?.type === 'txn') return this.applyTxn(zxid, cmd, events)
    const problem = commandProblem(cmd)
    if (problem !== null) return { result: { ok: false, code: 'BAD_ARGUMENTS', message: problem }, events, deduped: false }
    switch (cmd.type) {
      case 'open-session': {
        const s = this.state.sessions.get(cmd.session)
        // re-opening a live session only renews its timeout (ids must never be reused after close)
        if (s !== undefined) s.timeoutMs = cmd.timeoutMs
        else this.state.sessions.set(cmd.session, { timeoutMs: cmd.timeoutMs, ephemerals: new Set(), dedup: newSessionDedup() })
        return { result: OK_EMPTY, events, deduped: false }
      }
      case 'close-session':
        this.endSession(cmd.session, zxid, cmd.time, events)
        return { result: OK_EMPTY, events, deduped: false }
      case 'expire-sessions':
        for (const id of cmd.sessions) this.endSession(id, zxid, cmd.time, events)
        return { result: OK_EMPTY, events, deduped: false }
      case 'reap': {
        const results: OpResult[] = []
        for (const { path, czxid } of cmd.nodes) {
          const n = this.state.nodes.get(path)
          if (n?.czxid !== czxid || !isReapable(n, cmd.time)) continue
          this.removeNode(path, n, zxid, cmd.time, events, null)
          results.push({ op: 'delete' })
        }
        return { result: { ok: true, results }, events, deduped: false }
      }
      case 'noop':
        return { result: OK_EMPTY, events, deduped: false }
    }
  }

  /** deletes the session and all its ephemerals at this zxid; unknown sessions are ignored */
  private endSession(id: string, zxid: number, time: number, events: ChangeEvent[]): void {
    const s = this.state.sessions.get(id)
    if (s === undefined) return
    for (const path of [...s.ephemerals].sort()) this.removeNode(path, this.state.nodes.get(path)!, zxid, time, events, null)
    this.state.sessions.delete(id)
  }

  private applyTxn(zxid: number, cmd: Extract<Command, { type: 'txn' }>, events: ChangeEvent[]): ApplyOutcome {
    const session = typeof cmd.session === 'string' ? this.state.sessions.get(cmd.session) : undefined
    if (session === undefined) {
      const problem = commandProblem({ ...cmd, ops: [] , multi: true })
      const result: TxnResult = problem !== null
        ? { ok: false, code: 'BAD_ARGUMENTS', message: problem }
        : { ok: false, code: 'SESSION_EXPIRED', message: `session ${cmd.session} is closed or expired` }
      return { result, events, deduped: false }
    }
    if (!Number.isSafeInteger(cmd.seq) || cmd.seq < 0 || !Number.isSafeInteger(cmd.ackedBelow) || cmd.ackedBelow < 0) {
      return { result: { ok: false, code: 'BAD_ARGUMENTS', message: 'seq and ackedBelow must be non-negative integers' }, events, deduped: false }
    }
    acknowledge(session.dedup, cmd.ackedBelow)
    const seen = lookup(session.dedup, cmd.seq)
    // planted bug (tests only, see TreeBugs): a retry falls through and runs its ops again
    if (seen.kind === 'replay' && !(PLANTED_BUGS && this.bugs.applyRetriesTwice === true)) return { result: seen.result, events, deduped: true }
    if (seen.kind === 'stale') {
      return {
        result: { ok: false, code: 'BAD_ARGUMENTS', message: `seq ${cmd.seq} was already applied and acknowledged` },
        events,
        deduped: true,
      }
    }
    const result = this.runOps(zxid, cmd, events)
    record(session.dedup, cmd.seq, result)
    return { result, events, deduped: false }
  }

  /** all ops or none: on the first failure, undo the earlier ones and report its index */
  private runOps(zxid: number, cmd: Extract<Command, { type: 'txn' }>, events: ChangeEvent[]): TxnResult {
    const { ops, multi } = cmd
    if (!Number.isSafeInteger(cmd.time) || cmd.time < 0 || !Array.isArray(ops) || typeof multi !== 'boolean') {
      return { ok: false, code: 'BAD_ARGUMENTS', message: 'malformed txn: time, ops or multi' }
    }
    if (ops.length > MAX_OPS_PER_TXN) return { ok: false, code: 'BAD_ARGUMENTS', message: `more than ${MAX_OPS_PER_TXN} ops` }
    if (!multi && ops.length !== 1) return { ok: false, code: 'BAD_ARGUMENTS', message: 'a txn that is not a multi carries exactly one op' }
    const undo: Undo = multi ? [] : null
    const results: OpResult[] = []
    for (let i = 0; i < ops.length; i++) {
      try {
        results.push(this.applyOp(ops[i]!, zxid, cmd.time, cmd.session, undo, events))
      } catch (err) {
        if (!(err instanceof TreeError)) throw err
        if (undo !== null) for (let u = undo.length - 1; u >= 0; u--) undo[u]!()
        events.length = 0
        return multi ? new TreeError(err.code, err.message, err.path, i).toResult() : err.toResult()
      }
    }
    return { ok: true, results }
  }

  /** one op: checks everything first, then mutates; pushes its inverse onto undo (multi only) */
  private applyOp(op: TxnOp, zxid: number, time: number, session: string, undo: Undo, events: ChangeEvent[]): OpResult {
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
        this.removeNode(op.path, n, zxid, time, events, undo)
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
  private removeNode(path: string, n: ZNode, zxid: number, time: number, events: ChangeEvent[], undo: Undo): void {
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
