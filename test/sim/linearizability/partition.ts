// P-compositionality (Herlihy & Wing; Porcupine's partitioning): a history is
// linearizable iff each sub-history over independent state is. We split the
// history by union-find over the "keys" each operation reads or writes, so
// that no operation's answer depends on state outside its partition.
//
// Keys and what must stay true:
// - every operation touches the paths it names;
// - a node whose children matter is "coupled": it is a proper ancestor of a
//   path some operation names (its existence and ephemerality decide a
//   child's create, its children decide its own delete), or the parent of a
//   children read or of a sequential create (its cversion names the child).
//   The root counts only for the last two reasons: it always exists, is never
//   ephemeral and is never deleted, so creates of top-level nodes stay apart;
//   - an operation on a path whose parent is coupled touches the parent too;
//   - a sequential create touches its parent (the name is not known before);
// - an ephemeral create touches its session ("session:<id>"), which must be alive;
// - closing a session touches the session and everything its ephemeral
//   creates touch (it deletes them);
// - a multi touches all its sub-operations' keys.
//
// Operations the checker cannot or must not check are set aside:
// - local reads (`local: true`): sequentially consistent, allowed to be stale;
// - reads that timed out: they neither changed nor observed anything;
// - SESSION_EXPIRED answers of operations that create no ephemeral node: the
//   model does not track which session issued them, and the answer says the
//   operation had no effect, which leaving it out asserts.
import type { CreateOp, History, ModelOp, MultiSubOp, Operation } from './history'
import { isRead } from './history'
import { isEphemeral, isSequential, parentOf, ROOT } from './model'

export interface Partition {
  /** the paths (and "session:<id>") its operations touch, sorted */
  keys: string[]
  /** in history order */
  operations: Operation[]
}

export interface Partitioning {
  partitions: Partition[]
  /** operations left out of the check (see above) */
  skipped: Operation[]
}

export const sessionKey = (session: string): string => `session:${session}`

const createsOf = (op: ModelOp): CreateOp[] => {
  if (op.kind === 'create') return [op]
  if (op.kind === 'multi') return op.ops.filter((sub): sub is CreateOp => sub.kind === 'create')
  return []
}

const namedPaths = (op: Operation): string[] => {
  const input = op.input
  const paths: string[] = []
  if (input.kind === 'multi') paths.push(...input.ops.map(sub => sub.path))
  else if (input.kind !== 'close-session') paths.push(input.path)
  // a sequential create's actual path is known only from its answer
  const value = op.output?.ok === true ? op.output.value : null
  if (value?.kind === 'create') paths.push(value.path)
  if (value?.kind === 'multi') for (const sub of value.results) if (sub.kind === 'create') paths.push(sub.path)
  return paths
}

export const isCheckable = (op: Operation): boolean => {
  if (isRead(op.input) && (op.input.local === true || op.output === null)) return false
  if (op.output !== null && !op.output.ok && op.output.code === 'SESSION_EXPIRED') {
    return createsOf(op.input).some(isEphemeral)
  }
  return true
}

const coupledNodes = (operations: readonly Operation[]): Set<string> => {
  const coupled = new Set<string>()
  for (const op of operations) {
    for (const path of namedPaths(op)) {
      for (let ancestor = parentOf(path); ancestor !== ROOT; ancestor = parentOf(ancestor)) coupled.add(ancestor)
    }
    if (op.input.kind === 'children') coupled.add(op.input.path)
    for (const create of createsOf(op.input)) if (isSequential(create)) coupled.add(parentOf(create.path))
  }
  return coupled
}

class KeyFinder {
  private readonly ephemeralKeys = new Map<string, Set<string>>()

  constructor (operations: readonly Operation[], private readonly coupled: ReadonlySet<string>) {
    for (const op of operations) {
      for (const create of createsOf(op.input)) {
        if (!isEphemeral(create)) continue
        let keys = this.ephemeralKeys.get(create.session)
        if (keys === undefined) this.ephemeralKeys.set(create.session, keys = new Set())
        for (const key of this.createKeys(create)) keys.add(key)
      }
      // an ephemeral's actual (sequential) path, when the answer tells it
      const value = op.output?.ok === true ? op.output.value : null
      const created = value?.kind === 'create' ? [value] : value?.kind === 'multi' ? value.results : []
      const creates = createsOf(op.input)
      created.forEach((result, index) => {
        const create = op.input.kind === 'multi' ? op.input.ops[index] : creates[0]
        if (result.kind === 'create' && create?.kind === 'create' && isEphemeral(create)) {
          for (const key of this.pathKeys(result.path)) this.ephemeralKeys.get(create.session)!.add(key)
        }
      })
    }
  }

  pathKeys (path: string): string[] {
    return path !== ROOT && this.coupled.has(parentOf(path)) ? [path, parentOf(path)] : [path]
  }

  createKeys (create: CreateOp): string[] {
    const keys = isSequential(create) ? [parentOf(create.path)] : this.pathKeys(create.path)
    return isEphemeral(create) ? [...keys, sessionKey(create.session)] : keys
  }

  keysOf (op: ModelOp | MultiSubOp): string[] {
    switch (op.kind) {
      case 'create': return this.createKeys(op)
      case 'children': return [op.path, ...this.pathKeys(op.path)]
      case 'multi': return op.ops.flatMap(sub => this.keysOf(sub))
      case 'close-session': return [sessionKey(op.session), ...(this.ephemeralKeys.get(op.session) ?? [])]
      default: return this.pathKeys(op.path)
    }
  }
}

/** Union-find over dense indexes, with path halving. */
class DisjointSets {
  private readonly parent: number[] = []

  add (): number {
    this.parent.push(this.parent.length)
    return this.parent.length - 1
  }

  find (index: number): number {
    while (this.parent[index] !== index) {
      this.parent[index] = this.parent[this.parent[index]!]!
      index = this.parent[index]!
    }
    return index
  }

  union (a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b)
  }
}

export const partitionHistory = (history: History): Partitioning => {
  const checkable = history.filter(isCheckable)
  const skipped = history.filter(op => !isCheckable(op))
  const finder = new KeyFinder(checkable, coupledNodes(checkable))
  const sets = new DisjointSets()
  const keyIndex = new Map<string, number>()
  const indexOf = (key: string): number => {
    let index = keyIndex.get(key)
    if (index === undefined) keyIndex.set(key, index = sets.add())
    return index
  }
  const firstKeyOf = checkable.map(op => {
    const keys = finder.keysOf(op.input)
    const first = indexOf(keys[0]!)
    for (const key of keys) sets.union(first, indexOf(key))
    return first
  })
  const byRoot = new Map<number, Partition>()
  checkable.forEach((op, index) => {
    const root = sets.find(firstKeyOf[index]!)
    let partition = byRoot.get(root)
    if (partition === undefined) byRoot.set(root, partition = { keys: [], operations: [] })
    partition.operations.push(op)
  })
  for (const [key, index] of keyIndex) byRoot.get(sets.find(index))?.keys.push(key)
  for (const partition of byRoot.values()) partition.keys.sort()
  return { partitions: [...byRoot.values()], skipped }
}
