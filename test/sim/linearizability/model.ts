// The sequential specification of the znode tree: what one correct, single
// threaded ZooKeeper answers to each operation, and how the tree changes.
//
// It is deliberately a second, small implementation, written from ZooKeeper's
// documented behaviour and not from src/tree, so that a bug in src/tree shows
// up as a disagreement. Rules it encodes (ZooKeeper's PrepRequestProcessor order):
// - an invalid path is BAD_ARGUMENTS, and so is deleting the root "/", which
//   always exists; creating it is NODE_EXISTS;
// - create: a node's parent must exist (else NO_NODE), the node must not
//   (NODE_EXISTS), and the parent must not be ephemeral (NO_CHILDREN_FOR_EPHEMERALS);
// - a new node has version 0; each successful set adds 1; set/delete/check
//   with version -1 skip the version check, otherwise a mismatch is BAD_VERSION;
// - delete checks the version before NOT_EMPTY;
// - a sequential create appends the parent's cversion before the create, as
//   10 zero-padded digits; cversion counts creates of children only (deletes
//   do not lower or bump it), so numbers are never reused;
// - an ephemeral create needs a live session (else SESSION_EXPIRED, for a
//   multi as a whole, before any sub-operation); closing a session deletes its
//   ephemerals and the session stays closed;
// - a multi applies its sub-operations in order, all or nothing: the first
//   failure is the answer (code and opIndex) and nothing changes.
//
// States are immutable values with an incrementally kept hash and structural
// equality, so the checker can memoise (linearized set, state) pairs cheaply.
import type {
  CheckOp, CreateOp, DeleteOp, ModelOp, ModelResult, MultiSubOp, OkValue, SetOp, ZnodeErrorCode,
} from './history'
import { ANY_VERSION, fail, isRead, ok } from './history'

export const ROOT = '/'

export interface Znode {
  readonly data: string
  readonly version: number
  /** counts creates of children; names sequential children */
  readonly cversion: number
  /** the session of an ephemeral node, null for a persistent one */
  readonly owner: string | null
}

export class TreeState {
  constructor (
    readonly nodes: ReadonlyMap<string, Znode>,
    readonly closedSessions: ReadonlySet<string>,
    /** XOR of nodeHash over the nodes and sessionHash over the closed sessions, kept up to date by Draft */
    readonly hash: number,
  ) {}

  /** The tree holding only the root. */
  static empty (): TreeState {
    const root: Znode = { data: '', version: 0, cversion: 0, owner: null }
    return new TreeState(new Map([[ROOT, root]]), new Set(), nodeHash(ROOT, root))
  }

  /** Structural equality (the hash only narrows the candidates). */
  equals (other: TreeState): boolean {
    if (this === other) return true
    if (this.hash !== other.hash || this.nodes.size !== other.nodes.size || this.closedSessions.size !== other.closedSessions.size) return false
    for (const [path, node] of this.nodes) {
      const theirs = other.nodes.get(path)
      if (theirs === undefined || theirs.data !== node.data || theirs.version !== node.version ||
        theirs.cversion !== node.cversion || theirs.owner !== node.owner) return false
    }
    for (const session of this.closedSessions) if (!other.closedSessions.has(session)) return false
    return true
  }

  /** Sorted names of path's children. */
  childNames (path: string): string[] {
    const names: string[] = []
    for (const candidate of this.nodes.keys()) {
      if (candidate !== ROOT && parentOf(candidate) === path) names.push(nameOf(candidate))
    }
    return names.sort()
  }

  describe (): string {
    const nodes = [...this.nodes.keys()].sort().map(path => {
      const node = this.nodes.get(path)!
      const owner = node.owner === null ? '' : ` ephemeral(${node.owner})`
      return `${path}=${JSON.stringify(node.data)} v${node.version} cv${node.cversion}${owner}`
    })
    const closed = this.closedSessions.size === 0 ? '' : `; closed sessions: ${[...this.closedSessions].sort().join(', ')}`
    return `{ ${nodes.join(', ')} }${closed}`
  }
}

/** FNV-1a over a string, continuing from `hash`; a separator keeps fields apart. */
const fnv = (text: string, hash = 0x811c9dc5): number => {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return Math.imul(hash ^ 0xffff, 0x01000193)
}

const nodeHash = (path: string, node: Znode): number =>
  fnv(node.owner ?? '', fnv(String(node.cversion), fnv(String(node.version), fnv(node.data, fnv(path))))) >>> 0

const sessionHash = (session: string): number => fnv(session, 0x2545f491) >>> 0

export const parentOf = (path: string): string => {
  const slash = path.lastIndexOf('/')
  return slash <= 0 ? ROOT : path.slice(0, slash)
}

export const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1)

export const isSequential = (op: CreateOp): boolean => op.mode.endsWith('-sequential')
export const isEphemeral = (op: CreateOp): boolean => op.mode.startsWith('ephemeral')

/** Sequential suffix: ZooKeeper's %010d of the parent's cversion. */
export const sequenceSuffix = (counter: number): string => String(counter).padStart(10, '0')

/**
 * A path as ZooKeeper accepts it: "/" or "/"-separated non-empty names. A
 * sequential create's prefix may end in "/" (the name is then only digits).
 */
export const isValidPath = (path: string, sequentialPrefix = false): boolean => {
  if (path === ROOT) return !sequentialPrefix
  if (!path.startsWith('/')) return false
  const names = path.slice(1).split('/')
  return names.every((name, index) => name.length > 0 || (sequentialPrefix && index === names.length - 1))
}

/** A copy of a state that operations change in place; `freeze` makes the next immutable state. */
class Draft {
  // copied on the first change: most failing operations change nothing
  private nodes: ReadonlyMap<string, Znode>
  private closedSessions: ReadonlySet<string>
  private copied = false
  private hash: number

  constructor (state: TreeState) {
    this.nodes = state.nodes
    this.closedSessions = state.closedSessions
    this.hash = state.hash
  }

  private writable (): { nodes: Map<string, Znode>, closedSessions: Set<string> } {
    if (!this.copied) {
      this.nodes = new Map(this.nodes)
      this.closedSessions = new Set(this.closedSessions)
      this.copied = true
    }
    return { nodes: this.nodes as Map<string, Znode>, closedSessions: this.closedSessions as Set<string> }
  }

  freeze (): TreeState {
    return new TreeState(this.nodes, this.closedSessions, this.hash)
  }

  private put (path: string, node: Znode): void {
    const old = this.nodes.get(path)
    if (old !== undefined) this.hash ^= nodeHash(path, old)
    this.writable().nodes.set(path, node)
    this.hash = (this.hash ^ nodeHash(path, node)) >>> 0
  }

  private remove (path: string): void {
    const old = this.nodes.get(path)
    if (old === undefined) return
    this.writable().nodes.delete(path)
    this.hash = (this.hash ^ nodeHash(path, old)) >>> 0
  }

  hasChildren (path: string): boolean {
    for (const candidate of this.nodes.keys()) {
      if (candidate !== ROOT && parentOf(candidate) === path) return true
    }
    return false
  }

  bumpChildVersion (parent: string): void {
    const node = this.nodes.get(parent)!
    this.put(parent, { ...node, cversion: node.cversion + 1 })
  }

  create (op: CreateOp): OkValue | ZnodeErrorCode {
    if (op.path === ROOT && !isSequential(op)) return 'NODE_EXISTS'
    if (!isValidPath(op.path, isSequential(op))) return 'BAD_ARGUMENTS'
    const parentPath = parentOf(op.path)
    const parent = this.nodes.get(parentPath)
    if (parent === undefined) return 'NO_NODE'
    const path = isSequential(op) ? op.path + sequenceSuffix(parent.cversion) : op.path
    if (this.nodes.has(path)) return 'NODE_EXISTS'
    if (parent.owner !== null) return 'NO_CHILDREN_FOR_EPHEMERALS'
    this.put(path, { data: op.data, version: 0, cversion: 0, owner: isEphemeral(op) ? op.session : null })
    this.bumpChildVersion(parentPath)
    return { kind: 'create', path }
  }

  set (op: SetOp): OkValue | ZnodeErrorCode {
    if (!isValidPath(op.path)) return 'BAD_ARGUMENTS'
    const node = this.nodes.get(op.path)
    if (node === undefined) return 'NO_NODE'
    if (op.version !== ANY_VERSION && op.version !== node.version) return 'BAD_VERSION'
    this.put(op.path, { ...node, data: op.data, version: node.version + 1 })
    return { kind: 'set', version: node.version + 1 }
  }

  delete (op: DeleteOp): OkValue | ZnodeErrorCode {
    if (!isValidPath(op.path) || op.path === ROOT) return 'BAD_ARGUMENTS'
    const node = this.nodes.get(op.path)
    if (node === undefined) return 'NO_NODE'
    if (op.version !== ANY_VERSION && op.version !== node.version) return 'BAD_VERSION'
    if (this.hasChildren(op.path)) return 'NOT_EMPTY'
    this.remove(op.path)
    return { kind: 'delete' }
  }

  check (op: CheckOp): OkValue | ZnodeErrorCode {
    if (!isValidPath(op.path)) return 'BAD_ARGUMENTS'
    const node = this.nodes.get(op.path)
    if (node === undefined) return 'NO_NODE'
    if (op.version !== ANY_VERSION && op.version !== node.version) return 'BAD_VERSION'
    return { kind: 'check' }
  }

  apply (op: MultiSubOp): OkValue | ZnodeErrorCode {
    switch (op.kind) {
      case 'create': return this.create(op)
      case 'set': return this.set(op)
      case 'delete': return this.delete(op)
      case 'check': return this.check(op)
    }
  }

  closeSession (session: string): void {
    for (const [path, node] of [...this.nodes]) {
      // ephemerals have no children, so deleting them in any order is safe
      if (node.owner === session) this.remove(path)
    }
    if (this.closedSessions.has(session)) return
    this.hash = (this.hash ^ sessionHash(session)) >>> 0
    this.writable().closedSessions.add(session)
  }
}

export interface StepOutcome {
  state: TreeState
  result: ModelResult
}

/** Applies one operation to a state: the single correct answer and the next state. */
export const step = (state: TreeState, op: ModelOp): StepOutcome => {
  // the session is checked for the whole transaction, before any sub-operation
  const creates = op.kind === 'create' ? [op] : op.kind === 'multi' ? op.ops : []
  if (creates.some(sub => sub.kind === 'create' && isEphemeral(sub) && state.closedSessions.has(sub.session))) {
    return unchanged(state, fail('SESSION_EXPIRED'))
  }
  if (isRead(op) && !isValidPath(op.path)) return unchanged(state, fail('BAD_ARGUMENTS'))
  switch (op.kind) {
    case 'get': {
      const node = state.nodes.get(op.path)
      return unchanged(state, node === undefined ? fail('NO_NODE') : ok({ kind: 'get', data: node.data, version: node.version }))
    }
    case 'exists':
      return unchanged(state, ok({ kind: 'exists', version: state.nodes.get(op.path)?.version ?? null }))
    case 'children':
      return unchanged(state, state.nodes.has(op.path) ? ok({ kind: 'children', names: state.childNames(op.path) }) : fail('NO_NODE'))
    case 'close-session': {
      const draft = new Draft(state)
      draft.closeSession(op.session)
      return { state: draft.freeze(), result: ok({ kind: 'close-session' }) }
    }
    case 'multi': {
      const draft = new Draft(state)
      const results: OkValue[] = []
      for (const [index, sub] of op.ops.entries()) {
        const outcome = draft.apply(sub)
        if (typeof outcome === 'string') return unchanged(state, fail(outcome, index))
        results.push(outcome)
      }
      return { state: draft.freeze(), result: ok({ kind: 'multi', results }) }
    }
    default: {
      const draft = new Draft(state)
      const outcome = draft.apply(op)
      if (typeof outcome === 'string') return unchanged(state, fail(outcome))
      return { state: draft.freeze(), result: ok(outcome) }
    }
  }
}

const unchanged = (state: TreeState, result: ModelResult): StepOutcome => ({ state, result })

/**
 * Structural equality of two results (what the client saw vs what the model
 * answers). An error without opIndex matches the same code at any index, for
 * workloads that do not record it.
 */
export const sameResult = (a: ModelResult, b: ModelResult): boolean => {
  if (!a.ok || !b.ok) {
    return !a.ok && !b.ok && a.code === b.code && (a.opIndex === undefined || b.opIndex === undefined || a.opIndex === b.opIndex)
  }
  return sameValue(a.value, b.value)
}

const sameValue = (a: OkValue, b: OkValue): boolean => {
  switch (a.kind) {
    case 'create': return b.kind === 'create' && a.path === b.path
    case 'set': return b.kind === 'set' && a.version === b.version
    case 'get': return b.kind === 'get' && a.data === b.data && a.version === b.version
    case 'exists': return b.kind === 'exists' && a.version === b.version
    case 'children': return b.kind === 'children' && a.names.length === b.names.length && a.names.every((name, i) => name === b.names[i])
    case 'multi': return b.kind === 'multi' && a.results.length === b.results.length && a.results.every((r, i) => sameValue(r, b.results[i]!))
    case 'delete': case 'check': case 'close-session': return b.kind === a.kind
  }
}

export const describeOp = (op: ModelOp | MultiSubOp): string => {
  switch (op.kind) {
    case 'create': return `create(${op.path}, ${JSON.stringify(op.data)}, ${op.mode}${isEphemeral(op) ? `, session ${op.session}` : ''})`
    case 'set': return `set(${op.path}, ${JSON.stringify(op.data)}, version ${op.version})`
    case 'delete': return `delete(${op.path}, version ${op.version})`
    case 'check': return `check(${op.path}, version ${op.version})`
    case 'get': case 'exists': case 'children': return `${op.kind}(${op.path})`
    case 'multi': return `multi[${op.ops.map(describeOp).join('; ')}]`
    case 'close-session': return `close-session(${op.session})`
  }
}

export const describeResult = (result: ModelResult | null): string => {
  if (result === null) return 'no answer (timed out)'
  if (!result.ok) return result.opIndex === undefined ? result.code : `${result.code} at op ${result.opIndex}`
  return describeValue(result.value)
}

const describeValue = (value: OkValue): string => {
  switch (value.kind) {
    case 'create': return `created ${value.path}`
    case 'set': return `version ${value.version}`
    case 'get': return `${JSON.stringify(value.data)} v${value.version}`
    case 'exists': return value.version === null ? 'absent' : `exists v${value.version}`
    case 'children': return `[${value.names.join(', ')}]`
    case 'multi': return `ok[${value.results.map(describeValue).join('; ')}]`
    case 'delete': case 'check': case 'close-session': return 'ok'
  }
}
