// This member's watches, delivered at apply time.
//
// The member hands every applied entry's ChangeEvents here before it applies
// the next entry and before any read can run, so a callback always runs
// before the app can read the state that fired it, and callbacks run in zxid
// order. Who hears what is the tree's WatchTable (ZooKeeper's semantics:
// one-shot data / exists / children watches, persistent and
// persistent-recursive ones); this class keeps the callbacks behind its keys.
//
// After a snapshot install the events in between are unknown: `resync` asks
// the WatchTable what was missed since the zxid we had (ZooKeeper's
// setWatches) and fires that.
import { WatchTable } from '../tree/watches'
import type { Delivery, WatchKind, WatchRegistration } from '../tree/watches'
import type { ChangeEvent } from '../tree/types'
import type { ZTree } from '../tree/ztree'
import type { WatchEvent } from '../shared/types'

export type OneShotKind = 'data' | 'exists' | 'children'

type Callback = (e: WatchEvent) => void

export class LocalWatches {
  private table = new WatchTable()
  private readonly callbacks = new Map<string, { fn: Callback; oneShot: boolean; reg: WatchRegistration }>()
  private nextKey = 1

  /**
   * `owner`: who registers here (this member); `onCallbackError`: an app
   * callback threw — the apply loop carries on.
   */
  constructor(
    private readonly owner: string,
    private readonly onCallbackError: (err: unknown) => void,
  ) {}

  /** a one-shot watch; returns its removal */
  once(kind: OneShotKind, path: string, fn: Callback): () => void {
    return this.add(kind, path, fn, true)
  }

  /** a persistent watch, recursive or not; returns its removal */
  persistent(path: string, recursive: boolean, fn: Callback): () => void {
    return this.add(recursive ? 'persistent-recursive' : 'persistent', path, fn, false)
  }

  get size(): number {
    return this.callbacks.size
  }

  /** Fire the events of an applied entry (or entries), in zxid order. */
  deliver(events: readonly ChangeEvent[]): void {
    if (events.length === 0 || this.callbacks.size === 0) return
    this.run(this.table.fire(events))
  }

  /** After a snapshot replaced `before` with `after`: fire what changed in between. */
  resync(before: ZTree, after: ZTree): void {
    if (this.callbacks.size === 0) return
    const registrations = this.table.registrations()
    this.table = new WatchTable()
    this.run(this.table.missedSince(registrations, before.lastZxid, after))
  }

  private add(kind: WatchKind, path: string, fn: Callback, oneShot: boolean): () => void {
    const key = String(this.nextKey++)
    const reg: WatchRegistration = { owner: this.owner, key, path, kind }
    this.table.add(reg)
    this.callbacks.set(key, { fn, oneShot, reg })
    return () => {
      const entry = this.callbacks.get(key)
      if (entry === undefined) return
      this.callbacks.delete(key)
      this.table.remove(entry.reg)
    }
  }

  private run(deliveries: Delivery[]): void {
    for (const d of deliveries) {
      const entry = this.callbacks.get(d.key)
      if (entry === undefined) continue
      if (entry.oneShot) this.callbacks.delete(d.key)
      try {
        entry.fn({ type: d.event.type, path: d.event.path, zxid: d.event.zxid })
      } catch (err) {
        this.onCallbackError(err)
      }
    }
  }
}
