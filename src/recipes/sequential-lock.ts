// The engine under mutex, read-write lock, semaphore and election: each
// contender creates an ephemeral-sequential node under the lock path and waits
// until a rule over the ordered contenders lets it hold. A contender watches
// only the node the rule names (no herd), or the children when any departure
// may admit it (semaphore).
//
// Protection (Curator's protection mode): node names carry a marker unique to
// this acquire, so a create whose answer never arrived (it failed with its
// outcome unknown, and committed all the same) can still be found and
// removed: every acquire of the session sweeps the lock's children for nodes
// of this session whose marker belongs to no acquire in progress and no lease
// still held, and deletes them before it decides. Without the sweep such an
// orphan blocked the lock until the tab closed (found by the browser chaos
// run, seed 17).
import { MeshError } from '../shared/errors'
import type { AcquireOpts, Data, MeshCore, Mutex } from '../shared/types'
import { NodeLease } from './lease'
import { baseName, bySequence, childPath, createWithParents, Deadline, markerFor, markerSessionPart, watchOnce } from './support'
import type { Clock } from '../shared/clock'

export interface Contender {
  /** child name */
  name: string
  /** the prefix this contender used ('lock-', 'read-', 'write-', ...) */
  kind: string
}

/** What a contender must wait for: nothing (it holds), one node's deletion,
 *  or any change of the children. */
export type Blocker = { hold: true } | { node: string } | { children: true }

export type HoldRule = (contenders: Contender[], mine: number) => Blocker

const PROTECTION = '_c_'

/** Per session (a Mesh): the markers of acquires in progress (null) and of
 *  leases handed out; a node of the session with any other marker, or of a
 *  lease that is no longer held, is an orphan. */
const markersInUse = new WeakMap<MeshCore, Map<string, NodeLease | null>>()

function inUse(mesh: MeshCore): Map<string, NodeLease | null> {
  let m = markersInUse.get(mesh)
  if (m === undefined) markersInUse.set(mesh, (m = new Map<string, NodeLease | null>()))
  return m
}

/** This session's nodes under the lock that nobody of ours waits on or holds. */
function orphansOf(mesh: MeshCore, children: string[]): string[] {
  const ours = `${PROTECTION}${markerSessionPart(mesh)}.`
  const used = inUse(mesh)
  // leases no longer held are forgotten (their nodes, if any are left, are orphans below)
  for (const [marker, lease] of used) if (lease !== null && lease.state === 'lost') used.delete(marker)
  return children.filter((name) => {
    if (!name.startsWith(ours)) return false
    const marker = name.slice(PROTECTION.length, name.indexOf('-'))
    return !used.has(marker)
  })
}

export interface SequentialLockOpts {
  /** the lock node's directory */
  path: string
  /** this mutex's node prefix; `kinds` lists every prefix sharing the directory */
  kind: string
  kinds: string[]
  rule: HoldRule
  /** data stored in the contender's node (an election's candidate) */
  data?: () => Data | undefined
}


export class SequentialLock implements Mutex {
  constructor(
    private readonly mesh: MeshCore,
    private readonly opts: SequentialLockOpts,
    /** times `acquire`'s deadline */
    private readonly clock: Clock,
  ) {
    if (!opts.path.startsWith('/')) throw new MeshError('BAD_ARGUMENTS', `lock path must be absolute: ${opts.path}`, { path: opts.path })
  }

  acquire(opts: AcquireOpts = {}): Promise<NodeLease> {
    return this.run(opts, true) as Promise<NodeLease>
  }

  tryAcquire(): Promise<NodeLease | null> {
    return this.run({}, false)
  }

  private contenders(children: string[]): Contender[] {
    const out: Contender[] = []
    for (const name of bySequence(children)) {
      const kind = this.opts.kinds.find((k) => kindOf(name) === k)
      if (kind !== undefined) out.push({ name, kind })
    }
    return out
  }

  private async run(opts: AcquireOpts, wait: boolean): Promise<NodeLease | null> {
    const mesh = this.mesh
    const deadline = new Deadline(this.clock, opts.signal, opts.timeoutMs)
    const marker = markerFor(mesh)
    const used = inUse(mesh)
    used.set(marker, null)
    const prefix = childPath(this.opts.path, `${PROTECTION}${marker}-${this.opts.kind}`)
    let ours: string | null = null
    let settled = false
    let holding = false
    // One commit: the node, its missing parents, and its stat (the czxid is
    // the fencing token); who holds is then a local read of the children.
    // Our create may commit after we gave up (the answer was late): remove the
    // node then, whenever that is.
    const creating = createWithParents(mesh, prefix, this.opts.data?.(), 'ephemeral-sequential')
    creating.then(
      (created) => {
        ours = created.path
        if (settled && !holding) void removeQuietly(mesh, created.path)
      },
      () => { /* a failed create is seen by the race below */ },
    )
    try {
      deadline.check()
      const { path, stat: created } = await deadline.race(creating)
      const name = baseName(path)
      for (;;) {
        deadline.check()
        const children = await deadline.race(mesh.children(this.opts.path))
        const orphans = orphansOf(mesh, children)
        if (orphans.length > 0) {
          // a failed delete fails the acquire (NO_QUORUM...): looping at once would spin
          for (const o of orphans) await deadline.race(removeOrphan(mesh, childPath(this.opts.path, o)))
          continue // look again
        }
        const contenders = this.contenders(children)
        const mine = contenders.findIndex((c) => c.name === name)
        if (mine < 0) {
          throw new MeshError(mesh.state === 'lost' ? 'SESSION_EXPIRED' : 'NO_NODE', `lock node ${path} vanished while waiting`, { path })
        }
        const blocker = this.opts.rule(contenders, mine)
        if ('hold' in blocker) break
        if (!wait) {
          await removeQuietly(mesh, path)
          return null
        }
        const w = watchOnce()
        if ('node' in blocker) {
          const stat = await deadline.race(mesh.exists(childPath(this.opts.path, blocker.node), { watch: w.watch }))
          if (stat === null) continue // gone already: look again
        } else {
          await deadline.race(mesh.children(this.opts.path, { watch: w.watch }))
        }
        await deadline.race(w.fired)
      }
      // a local read: our node must still be there (not a node re-made at the path) as the lease starts watching it
      const stat = await deadline.race(mesh.exists(path))
      if (stat?.czxid !== created.czxid) throw new MeshError('NO_NODE', `lock node ${path} vanished`, { path })
      holding = true
      const lease = new NodeLease(mesh, path, created.czxid)
      used.set(marker, lease)
      return lease
    } catch (err) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the create's callback, which narrowing does not see
      if (ours !== null) await removeQuietly(mesh, ours)
      throw err
    } finally {
      settled = true
      if (!holding) used.delete(marker)
      deadline.dispose()
    }
  }
}

async function removeOrphan(mesh: MeshCore, path: string): Promise<void> {
  try {
    await mesh.delete(path)
  } catch (err) {
    if (!(err instanceof MeshError && err.code === 'NO_NODE')) throw err
  }
}

async function removeQuietly(mesh: MeshCore, path: string): Promise<void> {
  try {
    await mesh.delete(path)
  } catch {
    // already gone, or the session died and took it
  }
}

/** 'lock-' from '_c_<marker>-lock-0000000007' */
function kindOf(name: string): string {
  const body = name.startsWith(PROTECTION) ? name.slice(name.indexOf('-') + 1) : name
  return body.slice(0, body.length - 10)
}

