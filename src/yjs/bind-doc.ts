// bindDoc (shared/api.md, `meshkeeper/yjs`): a Y.Doc kept in sync through the
// mesh, on the public znode API only.
//
// Layout: every Yjs update is one persistent-sequential znode
//   /__yjs/<name>/u-0000000007   (data: a Yjs update, v1 encoding)
// A binding watches the directory, applies every child it has not applied yet,
// and writes its doc's local updates as new children. Yjs updates are
// idempotent and commutative, which is what keeps this simple and sound:
// - applying an update twice, or in any order, gives the same doc, so a
//   create retried after a lost answer, a re-read after a missed watch, or a
//   snapshot overlapping updates already applied are all harmless;
// - edits made on both sides of a partition are just more children once the
//   minority's writes commit after the heal, and every doc converges.
// Compaction folds the children into one: under a lock (so usually one
// member does it), the binding merges the updates it read and, in ONE multi,
// creates the merged node and deletes exactly the nodes it merged. The multi
// is what must stay true: a reader sees either all the old nodes or the new
// one (plus any newer), never a gap; if another compactor got there first a
// delete fails and the whole multi does nothing.
//
// Updates applied from the mesh carry this binding's origin, so its own
// 'update' listener does not write them back. Bytes read from znodes are
// untrusted (any member may write there): a malformed update is reported with
// BAD_MESSAGE and skipped.
import * as Y from 'yjs'
import { MeshError, toMeshError } from '../shared/errors'
import type { Mesh, MeshState } from '../shared/types'
import type { Awareness } from 'y-protocols/awareness'
import { syncAwareness } from './awareness'

/** where documents live; apps should not write under it */
export const YJS_ROOT = '/__yjs'
/** where compaction locks live (outside the document directories) */
export const YJS_LOCK_ROOT = '/__yjs-locks'
/** child name prefix of an update node (the sequential counter follows) */
export const UPDATE_PREFIX = 'u-'

/** local updates are merged into one znode up to this many bytes (the tree's data limit is 1 MiB) */
const MAX_BATCH_BYTES = 256 * 1024
/** a multi may hold at most 1024 ops: one create plus the deletes */
const MAX_COMPACTED_NODES = 1000

export interface BindDocOptions {
  /** compact once the directory holds more update nodes than this (default 64) */
  compactAfter?: number
  /** errors the binding meets in the background (default: the mesh's state
   *  decides; they are retried on the next change, local edit or leader/state event) */
  onError?: (err: MeshError) => void
  /** also sync this y-protocols Awareness (presence) through ephemeral znodes; see awareness.ts */
  awareness?: Awareness
}

export interface DocBinding {
  /** resolves once the doc holds every update stored under the name when it resolved */
  readonly synced: Promise<void>
  /** resolves once every local update made so far is committed; rejects with the error that stopped it */
  flush(): Promise<void>
  /** stop syncing (the doc and the znodes stay as they are) */
  destroy(): void
}

function isDecodableUpdate(update: Uint8Array): boolean {
  try {
    Y.decodeUpdate(update)
    return true
  } catch {
    return false
  }
}

/**
 * Sync `doc` with every other doc bound to `name` in the mesh's room.
 * `name` is one znode name (no '/').
 */
export function bindDoc(mesh: Mesh, name: string, doc: Y.Doc, options: BindDocOptions = {}): DocBinding {
  if (typeof name !== 'string' || name.length === 0 || name.includes('/') || name === '.' || name === '..') {
    throw new MeshError('BAD_ARGUMENTS', `bindDoc: the name must be one znode name, got ${JSON.stringify(name)}`)
  }
  if (!(doc instanceof Y.Doc)) throw new MeshError('BAD_ARGUMENTS', 'bindDoc: doc must be a Y.Doc')
  const compactAfter = options.compactAfter ?? 64
  const onError =
    options.onError ??
    (() => {
      // no hook: a background error is only retried, on the next change (see onError)
    })
  const dir = `${YJS_ROOT}/${name}`
  /** the origin of updates this binding applies, so it does not write them back */
  const origin = { binding: dir }

  /** child names whose update this doc holds (written here or applied) */
  const applied = new Set<string>()
  /** local updates not yet committed, oldest first */
  let pending: Uint8Array[] = []
  let destroyed = false
  let dirReady = false
  let stopWatch: (() => void) | null = null
  let resolveSynced!: () => void
  const synced = new Promise<void>((resolve) => (resolveSynced = resolve))

  const report = (err: unknown): MeshError => {
    const e = toMeshError(err, 'BAD_MESSAGE')
    if (!destroyed) onError(e)
    return e
  }

  // ---- the pump: one step at a time; a trigger during a step runs another ----
  let running: Promise<void> | null = null
  let again = false
  const kick = (): Promise<void> => {
    if (destroyed) return Promise.resolve()
    again = true
    running ??= (async () => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- destroy() may run during the loop's awaits
        while (again && !destroyed) {
          again = false
          await step()
        }
      } finally {
        running = null
      }
    })()
    return running
  }
  const trigger = (): void => {
    kick().catch(report)
  }

  async function step(): Promise<void> {
    if (!dirReady) {
      await ensureNode(YJS_ROOT)
      await ensureNode(dir)
      dirReady = true
      watchDirectory()
    }
    const count = await pull()
    resolveSynced()
    await push()
    if (count > compactAfter) await compact()
  }

  async function ensureNode(path: string): Promise<void> {
    if ((await mesh.exists(path)) !== null) return
    try {
      await mesh.create(path)
    } catch (err) {
      if (!(err instanceof MeshError && err.code === 'NODE_EXISTS')) throw err
    }
  }

  /** (Re)register the directory watch: a new session (restart) has no watches. */
  function watchDirectory(): void {
    stopWatch?.()
    stopWatch = mesh.watch(dir, trigger)
  }

  /** Apply every update node not applied yet; returns how many update nodes there are. */
  async function pull(): Promise<number> {
    let listed: string[]
    try {
      listed = await mesh.children(dir)
    } catch (err) {
      // the directory was deleted under us: the next step makes it again
      if (err instanceof MeshError && err.code === 'NO_NODE') dirReady = false
      throw err
    }
    const names = listed.filter((n) => n.startsWith(UPDATE_PREFIX))
    const present = new Set(names)
    // compacted names never come back (sequential counters only grow)
    for (const n of applied) if (!present.has(n)) applied.delete(n)
    for (const child of names) {
      if (destroyed) break
      if (applied.has(child)) continue
      let data: Uint8Array
      try {
        data = (await mesh.get(`${dir}/${child}`)).data
      } catch (err) {
        // compacted meanwhile: its merged node is in the next listing
        if (err instanceof MeshError && err.code === 'NO_NODE') continue
        throw err
      }
      applied.add(child)
      try {
        Y.applyUpdate(doc, data, origin)
      } catch (cause) {
        report(new MeshError('BAD_MESSAGE', `bindDoc: ${dir}/${child} is not a Yjs update`, { path: `${dir}/${child}`, cause }))
      }
    }
    return names.length
  }

  /** Write pending local updates, merged into batches of at most MAX_BATCH_BYTES. */
  async function push(): Promise<void> {
    while (pending.length > 0 && !destroyed) {
      let taken = 0
      let bytes = 0
      while (taken < pending.length && (taken === 0 || bytes + pending[taken]!.length <= MAX_BATCH_BYTES)) {
        bytes += pending[taken]!.length
        taken++
      }
      const batch = taken === 1 ? pending[0]! : Y.mergeUpdates(pending.slice(0, taken))
      // keep the merged form: a retry sends the same bytes
      pending = [batch, ...pending.slice(taken)]
      try {
        const path = await mesh.create(`${dir}/${UPDATE_PREFIX}`, batch, { mode: 'persistent-sequential' })
        applied.add(path.slice(dir.length + 1))
        pending = pending.slice(1)
      } catch (err) {
        if (err instanceof MeshError && err.code === 'TOO_LARGE') {
          // one update beyond the tree's data limit can never be written; the
          // others must not wait behind it (this doc keeps it locally)
          pending = pending.slice(1)
          report(err)
          continue
        }
        throw err
      }
    }
  }

  let compacting = false
  async function compact(): Promise<void> {
    if (compacting) return
    compacting = true
    try {
      const lease = await mesh.lock(`${YJS_LOCK_ROOT}/${name}`).tryAcquire()
      if (lease === null) return
      try {
        const names = (await mesh.children(dir)).filter((n) => n.startsWith(UPDATE_PREFIX)).slice(0, MAX_COMPACTED_NODES)
        if (names.length <= compactAfter) return
        const updates: Uint8Array[] = []
        for (const child of names) {
          const data = (await mesh.get(`${dir}/${child}`)).data
          // a malformed node (already reported by pull) is dropped with the
          // rest: no binding can apply it, and kept it would stop every merge
          if (isDecodableUpdate(data)) updates.push(data)
        }
        let merged: Uint8Array
        try {
          merged = Y.mergeUpdates(updates)
        } catch (cause) {
          throw new MeshError('BAD_MESSAGE', `bindDoc: the updates under ${dir} do not merge; not compacted`, { path: dir, cause })
        }
        await mesh.multi([
          { op: 'create', path: `${dir}/${UPDATE_PREFIX}`, data: merged, mode: 'persistent-sequential' },
          ...names.map((child) => ({ op: 'delete' as const, path: `${dir}/${child}` })),
        ])
      } finally {
        await lease.release().catch(() => {
          // a lease we fail to release ends with our session
        })
      }
    } catch (err) {
      // another compactor won (NO_NODE), or the merged doc is TOO_LARGE: the
      // updates stay as they are, which is always correct
      if (!(err instanceof MeshError && err.code === 'NO_NODE')) report(err)
    } finally {
      compacting = false
    }
  }

  // ---- wiring ----
  const onUpdate = (update: Uint8Array, updateOrigin: unknown): void => {
    if (updateOrigin === origin || destroyed) return
    pending.push(update)
    trigger()
  }
  // what the doc held before it was bound (e.g. offline edits) goes out too
  if (Y.encodeStateVector(doc).length > 1) pending.push(Y.encodeStateAsUpdate(doc))
  doc.on('update', onUpdate)
  const awarenessSync = options.awareness === undefined ? null : syncAwareness(mesh, name, options.awareness, ensureNode, report)
  const onStateChange = (state: MeshState): void => {
    if (state !== 'connected') return
    if (dirReady) watchDirectory()
    awarenessSync?.resync()
    trigger()
  }
  const offState = mesh.on('state', onStateChange)
  const offLeader = mesh.on('leader', trigger)
  const destroy = (): void => {
    if (destroyed) return
    destroyed = true
    doc.off('update', onUpdate)
    doc.off('destroy', destroy)
    offState()
    offLeader()
    stopWatch?.()
    stopWatch = null
    awarenessSync?.stop()
  }
  doc.on('destroy', destroy)
  trigger()

  return {
    synced,
    async flush() {
      while (!destroyed && (pending.length > 0 || running !== null || !dirReady)) {
        try {
          await kick()
        } catch (err) {
          throw toMeshError(err, 'BAD_MESSAGE')
        }
      }
    },
    destroy,
  }
}
