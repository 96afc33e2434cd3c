// This member's watches, delivered at apply time.
//
// The member hands every applied entry's ChangeEvents here before it applies
// the next entry and before any read can run, so a callback always runs
// before the app can read the state that fired it, and callbacks run in zxid
// order. Matching follows ZooKeeper:
//   - one-shot 'data' watch (get):       data changes and deletion of the path
//   - one-shot 'exists' watch (exists):  creation, data change, deletion
//   - one-shot 'children' watch:         child list changes, deletion of the path
//   - persistent watch:                  every event on the path
//   - persistent recursive watch:        created/deleted/data on the path and
//                                        every descendant (no 'children' events)
// One-shot watches fire at most once; an event reaches each callback once
// even if several registrations match it.
//
// After a snapshot install the events in between are unknown; `resync`
// compares the trees before and after (ZooKeeper's setWatches: what changed
// since the last zxid we saw fires).
import type { ChangeEvent } from '../tree/types'
import type { ZTree } from '../tree/ztree'
import type { WatchEvent } from '../client/types'

export type OneShotKind = 'data' | 'exists' | 'children'

type Callback = (e: WatchEvent) => void

interface Registration {
  kind: OneShotKind | 'persistent' | 'recursive'
  path: string
  fn: Callback
}

export class LocalWatches {
  private readonly byPath = new Map<string, Set<Registration>>()
  private readonly recursive = new Set<Registration>()

  /** `onCallbackError`: an app callback threw; the apply loop carries on */
  constructor(private readonly onCallbackError: (err: unknown) => void) {}

  /** a one-shot watch; returns its removal */
  once(kind: OneShotKind, path: string, fn: Callback): () => void {
    return this.add({ kind, path, fn })
  }

  /** a persistent watch, recursive or not; returns its removal */
  persistent(path: string, recursive: boolean, fn: Callback): () => void {
    return this.add({ kind: recursive ? 'recursive' : 'persistent', path, fn })
  }

  get size(): number {
    let n = this.recursive.size
    for (const set of this.byPath.values()) n += set.size
    return n
  }

  /** Fire the events of applied entries, in order. */
  deliver(events: ChangeEvent[]): void {
    if (events.length === 0 || this.size === 0) return
    for (const e of events) {
      const called = new Set<Callback>()
      const fire = (r: Registration): void => {
        if (called.has(r.fn)) return
        called.add(r.fn)
        try {
          r.fn({ type: e.type, path: e.path, zxid: e.zxid })
        } catch (err) {
          this.onCallbackError(err)
        }
      }
      const exact = this.byPath.get(e.path)
      if (exact !== undefined) {
        for (const r of [...exact]) {
          if (!matches(r.kind, e.type)) continue
          if (r.kind !== 'persistent' && r.kind !== 'recursive') this.remove(r)
          fire(r)
        }
      }
      if (e.type !== 'children') {
        for (const r of [...this.recursive]) if (isWithin(e.path, r.path)) fire(r)
      }
    }
  }

  /**
   * After a snapshot install: fire, for every watched path, what differs
   * between the tree we had and the tree we have now. The zxid is the node's
   * (or the snapshot's last zxid for a deletion).
   */
  resync(before: ZTree, after: ZTree): void {
    const events: ChangeEvent[] = []
    const zxid = after.lastZxid
    const paths = new Set<string>(this.byPath.keys())
    for (const r of this.recursive) for (const p of descendants(before, r.path).concat(descendants(after, r.path))) paths.add(p)
    for (const path of [...paths].sort()) {
      const a = before.stat(path)
      const b = after.stat(path)
      if (a === null && b !== null) events.push({ type: 'created', path, zxid: b.czxid })
      else if (a !== null && b === null) events.push({ type: 'deleted', path, zxid })
      else if (a !== null && b !== null) {
        if (a.czxid !== b.czxid) {
          events.push({ type: 'deleted', path, zxid: b.czxid }, { type: 'created', path, zxid: b.czxid })
          continue
        }
        if (a.mzxid !== b.mzxid) events.push({ type: 'data', path, zxid: b.mzxid })
        if (a.pzxid !== b.pzxid) events.push({ type: 'children', path, zxid: b.pzxid })
      }
    }
    events.sort((x, y) => x.zxid - y.zxid)
    this.deliver(events)
  }

  private add(r: Registration): () => void {
    if (r.kind === 'recursive') {
      this.recursive.add(r)
      return () => this.recursive.delete(r)
    }
    let set = this.byPath.get(r.path)
    if (set === undefined) this.byPath.set(r.path, (set = new Set()))
    set.add(r)
    return () => this.remove(r)
  }

  private remove(r: Registration): void {
    const set = this.byPath.get(r.path)
    if (set === undefined) return
    set.delete(r)
    if (set.size === 0) this.byPath.delete(r.path)
  }
}

function matches(kind: Registration['kind'], type: ChangeEvent['type']): boolean {
  switch (kind) {
    case 'data':
      return type === 'data' || type === 'deleted'
    case 'exists':
      return type === 'created' || type === 'data' || type === 'deleted'
    case 'children':
      return type === 'children' || type === 'deleted'
    case 'persistent':
      return true
    case 'recursive':
      return type !== 'children'
  }
}

function isWithin(path: string, root: string): boolean {
  if (root === '/') return true
  return path === root || (path.startsWith(root) && path.charCodeAt(root.length) === 0x2f)
}

function descendants(tree: ZTree, root: string): string[] {
  const out: string[] = []
  const walk = (p: string): void => {
    const names = tree.children(p)
    if (names === null) return
    out.push(p)
    for (const n of names) walk(p === '/' ? `/${n}` : `${p}/${n}`)
  }
  walk(root)
  return out
}
