// ZTree: the znode tree as a pure, deterministic state machine over committed
// entries. apply(zxid, command) is the only way state changes; zxid is the
// Raft index of the entry (strictly increasing) and every op of a multi shares
// it. No clock, no randomness, no I/O: time is the leader-stamped `time` of
// each command, so every replica applying the same log reaches the same state
// (compare with digest()). The ops that change nodes live in node-ops.ts.
import { digest as sha256 } from 'lib0/hash/sha256'
import { MAX_OPS_PER_TXN, commandProblem } from './command'
import { acknowledge, lookup, newSessionDedup, record } from './dedup'
import { TreeError } from './errors'
import { decodeState, encodeState } from './snapshot'
import { PLANTED_BUGS } from './planted-bugs'
import { NodeOps } from './node-ops'
import type { Undo } from './node-ops'
import { MAX_ENDED_SESSIONS, isReapable, newRoot, statOf } from './znode'
import type { NodeKind, TreeState } from './znode'
import type {
  ApplyOutcome,
  ChangeEvent,
  Command,
  OpResult,
  SessionInfo,
  Stat,
  TreeBugs,
  TreeOptions,
  TxnResult,
} from './types'

export const DEFAULT_MAX_DATA_BYTES = 1024 * 1024

const OK_EMPTY: TxnResult = Object.freeze({ ok: true, results: Object.freeze([]) as unknown as OpResult[] })

export class ZTree {
  private readonly state: TreeState
  private readonly maxDataBytes: number
  /** paths of container and TTL nodes: the only ones reapable() must look at */
  private readonly reapCandidates = new Set<string>()
  /** every change of a node goes through these */
  private readonly ops: NodeOps
  private cachedDigest: string | null = null
  /** planted bugs (tests only): see TreeBugs */
  private readonly bugs: TreeBugs

  constructor(opts: TreeOptions = {}, state?: TreeState) {
    this.bugs = opts.bugs ?? {}
    const max = opts.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES
    if (!Number.isSafeInteger(max) || max < 0) throw new TreeError('BAD_ARGUMENTS', 'maxDataBytes must be a non-negative integer')
    this.maxDataBytes = max
    this.state = state ?? { nodes: new Map([['/', newRoot()]]), sessions: new Map(), ended: new Set(), lastZxid: 0 }
    for (const [path, n] of this.state.nodes) if (n.kind === 'container' || n.kind === 'ttl') this.reapCandidates.add(path)
    this.ops = new NodeOps(this.state, this.reapCandidates, max)
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
        // an ended session stays ended (TreeState.ended); re-opening a live one only renews its timeout
        if (s === undefined && this.state.ended.has(cmd.session)) {
          return { result: { ok: false, code: 'SESSION_EXPIRED', message: `session ${cmd.session} has ended: its id cannot be opened again` }, events, deduped: false }
        }
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
          this.ops.remove(path, n, zxid, cmd.time, events, null)
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
    for (const path of [...s.ephemerals].sort()) this.ops.remove(path, this.state.nodes.get(path)!, zxid, time, events, null)
    this.state.sessions.delete(id)
    const ended = this.state.ended
    ended.add(id)
    if (ended.size > MAX_ENDED_SESSIONS) ended.delete(ended.values().next().value!)
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
        results.push(this.ops.apply(ops[i]!, zxid, cmd.time, cmd.session, undo, events))
      } catch (err) {
        if (!(err instanceof TreeError)) throw err
        if (undo !== null) for (let u = undo.length - 1; u >= 0; u--) undo[u]!()
        events.length = 0
        return multi ? new TreeError(err.code, err.message, err.path, i).toResult() : err.toResult()
      }
    }
    return { ok: true, results }
  }
}
