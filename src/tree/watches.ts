// WatchTable: which registered watcher hears which change, with ZooKeeper's
// semantics. Pure bookkeeping: the tree reports ChangeEvents, the table says
// who gets each one (Delivery); running callbacks is the caller's business.
//
// Kinds (ZooKeeper's names in brackets):
//   data        one-shot, fires on 'data' and 'deleted'             [getData watch]
//   exists      one-shot, fires on 'created', 'deleted' and 'data'   [exists watch]
//   children    one-shot, fires on 'children' and 'deleted'          [getChildren watch]
//   persistent  stays, fires on every event of its path              [AddWatchMode.PERSISTENT]
//   persistent-recursive  stays, fires on 'created', 'deleted', 'data' of its
//               path and every descendant, never on 'children'       [PERSISTENT_RECURSIVE]
// A watcher is (owner, key): owner is the member or tab that registered it,
// key names its callback there. As in ZooKeeper, one event reaches a watcher
// once even when several of its registrations match (say a data and a child
// watch on a deleted node), and every matching one-shot registration is used up.
import { joinPath, validatePath } from './paths'
import type { ChangeEvent, Stat } from './types'

export type WatchKind = 'data' | 'exists' | 'children' | 'persistent' | 'persistent-recursive'

export interface WatchRegistration {
  owner: string
  key: string
  path: string
  kind: WatchKind
}

/** one event for one watcher */
export interface Delivery {
  owner: string
  key: string
  event: ChangeEvent
}

/** What missedSince reads of the tree. ZTree satisfies it. */
export interface WatchTreeView {
  readonly lastZxid: number
  stat(path: string): Stat | null
  children(path: string): string[] | null
}

const KINDS: readonly WatchKind[] = ['data', 'exists', 'children', 'persistent', 'persistent-recursive']

/** which kinds an event of each type triggers on the event's own path */
const TRIGGERS: Record<ChangeEvent['type'], readonly WatchKind[]> = {
  created: ['exists', 'persistent', 'persistent-recursive'],
  deleted: ['data', 'exists', 'children', 'persistent', 'persistent-recursive'],
  data: ['data', 'exists', 'persistent', 'persistent-recursive'],
  children: ['children', 'persistent'],
}

const isOneShot = (k: WatchKind): boolean => k === 'data' || k === 'exists' || k === 'children'
const watcherId = (owner: string, key: string): string => `${owner.length}:${owner}${key}`

export class WatchTable {
  /** kind → path → watcher id → registration (Maps keep registration order: deliveries are deterministic) */
  private readonly byKind = new Map<WatchKind, Map<string, Map<string, WatchRegistration>>>(
    KINDS.map((k) => [k, new Map<string, Map<string, WatchRegistration>>()]),
  )
  private count = 0

  /** number of registrations */
  get size(): number {
    return this.count
  }

  /** registers a watch; registering the same (owner, key, path, kind) twice keeps one. Throws BAD_ARGUMENTS on a bad path or kind. */
  add(reg: WatchRegistration): void {
    validatePath(reg.path)
    const byPath = this.byKind.get(reg.kind)
    if (byPath === undefined) throw new TypeError(`unknown watch kind ${reg.kind}`)
    let watchers = byPath.get(reg.path)
    if (watchers === undefined) byPath.set(reg.path, (watchers = new Map<string, WatchRegistration>()))
    const id = watcherId(reg.owner, reg.key)
    if (!watchers.has(id)) this.count++
    watchers.set(id, { owner: reg.owner, key: reg.key, path: reg.path, kind: reg.kind })
  }

  /** removes one registration; true if it was there (ZooKeeper's removeWatches) */
  remove(reg: WatchRegistration): boolean {
    const byPath = this.byKind.get(reg.kind)
    if (byPath === undefined) return false
    const watchers = byPath.get(reg.path)
    if (!watchers?.delete(watcherId(reg.owner, reg.key))) return false
    if (watchers.size === 0) byPath.delete(reg.path)
    this.count--
    return true
  }

  /** removes every registration of an owner (a tab or member that left); returns how many */
  removeOwner(owner: string): number {
    let removed = 0
    for (const reg of this.registrations(owner)) if (this.remove(reg)) removed++
    return removed
  }

  /** the registrations, of one owner or all, in a deterministic order */
  registrations(owner?: string): WatchRegistration[] {
    const out: WatchRegistration[] = []
    for (const byPath of this.byKind.values()) {
      for (const watchers of byPath.values()) {
        for (const reg of watchers.values()) if (owner === undefined || reg.owner === owner) out.push({ ...reg })
      }
    }
    return out
  }

  /**
   * Who hears which of these events, in zxid order (events of one zxid in the
   * order given). One-shot registrations that fire are removed.
   */
  fire(events: readonly ChangeEvent[]): Delivery[] {
    const ordered = isSortedByZxid(events) ? events : [...events].sort((a, b) => a.zxid - b.zxid)
    const out: Delivery[] = []
    const recursive = this.byKind.get('persistent-recursive')!
    for (const event of ordered) {
      const heard = new Set<string>()
      const deliver = (watchers: Map<string, WatchRegistration>, consume: boolean): void => {
        for (const [id, reg] of watchers) {
          if (!heard.has(id)) {
            heard.add(id)
            out.push({ owner: reg.owner, key: reg.key, event })
          }
          if (consume) {
            watchers.delete(id)
            this.count--
          }
        }
      }
      for (const kind of TRIGGERS[event.type]) {
        const byPath = this.byKind.get(kind)!
        const watchers = byPath.get(event.path)
        if (watchers !== undefined) {
          deliver(watchers, isOneShot(kind))
          if (watchers.size === 0) byPath.delete(event.path)
        }
      }
      // recursive watches of ancestors hear everything but child-list changes
      if (event.type !== 'children' && recursive.size > 0) {
        for (let p = event.path; p !== '/'; ) {
          p = p.slice(0, Math.max(1, p.lastIndexOf('/')))
          const watchers = recursive.get(p)
          if (watchers !== undefined) deliver(watchers, false)
        }
      }
    }
    return out
  }

  /**
   * ZooKeeper's setWatches: a client that reconnects (maybe to another member)
   * re-registers its watches with the last zxid it saw. Changes it missed fire
   * now, judged from the tree's stats; the rest are registered. One-shots that
   * fire are not registered. Deliveries come in zxid order.
   *   data:      node gone → deleted; mzxid > lastZxid → data
   *   exists:    czxid > lastZxid → created; else mzxid > lastZxid → data
   *   children:  node gone → deleted; pzxid > lastZxid → children
   *   persistent: created / data / children as above (both data and children may fire)
   *   persistent-recursive: created or data for the node and each descendant
   * Limits (as ZooKeeper's): a node created and deleted in between leaves no
   * trace, so exists, persistent and recursive watches cannot report it; a
   * deletion is stamped with the tree's lastZxid, the real zxid being gone.
   */
  missedSince(registrations: readonly WatchRegistration[], lastZxid: number, tree: WatchTreeView): Delivery[] {
    const out: Delivery[] = []
    const push = (reg: WatchRegistration, type: ChangeEvent['type'], path: string, zxid: number): void => {
      out.push({ owner: reg.owner, key: reg.key, event: { type, path, zxid } })
    }
    for (const reg of registrations) {
      validatePath(reg.path)
      const stat = tree.stat(reg.path)
      let fired = false
      switch (reg.kind) {
        case 'data':
          if (stat === null) push(reg, 'deleted', reg.path, tree.lastZxid)
          else if (stat.mzxid > lastZxid) push(reg, 'data', reg.path, stat.mzxid)
          fired = stat === null || stat.mzxid > lastZxid
          break
        case 'exists':
          if (stat !== null && stat.czxid > lastZxid) push(reg, 'created', reg.path, stat.czxid)
          else if (stat !== null && stat.mzxid > lastZxid) push(reg, 'data', reg.path, stat.mzxid)
          fired = stat !== null && stat.mzxid > lastZxid // mzxid ≥ czxid
          break
        case 'children':
          if (stat === null) push(reg, 'deleted', reg.path, tree.lastZxid)
          else if (stat.pzxid > lastZxid) push(reg, 'children', reg.path, stat.pzxid)
          fired = stat === null || stat.pzxid > lastZxid
          break
        case 'persistent':
          if (stat !== null) {
            if (stat.czxid > lastZxid) push(reg, 'created', reg.path, stat.czxid)
            else if (stat.mzxid > lastZxid) push(reg, 'data', reg.path, stat.mzxid)
            if (stat.pzxid > lastZxid && stat.pzxid !== stat.czxid) push(reg, 'children', reg.path, stat.pzxid)
          }
          break
        case 'persistent-recursive': {
          const stack = stat === null ? [] : [reg.path]
          while (stack.length > 0) {
            const path = stack.pop()!
            const s = tree.stat(path)
            if (s === null) continue
            if (s.czxid > lastZxid) push(reg, 'created', path, s.czxid)
            else if (s.mzxid > lastZxid) push(reg, 'data', path, s.mzxid)
            for (const name of tree.children(path) ?? []) stack.push(joinPath(path, name))
          }
          break
        }
        default:
          throw new TypeError(`unknown watch kind ${String((reg as { kind: unknown }).kind)}`)
      }
      if (!fired || !isOneShot(reg.kind)) this.add(reg)
    }
    // stable sort: equal zxids keep registration order
    return out.sort((a, b) => a.event.zxid - b.event.zxid)
  }
}

const isSortedByZxid = (events: readonly ChangeEvent[]): boolean => {
  for (let i = 1; i < events.length; i++) if (events[i]!.zxid < events[i - 1]!.zxid) return false
  return true
}
