// The leader's housekeeping: TTL nodes past their time and empty containers
// are deleted by a `reap` entry the leader proposes. The tree decides what
// qualifies (`reapable(now)`) and re-checks each node when the entry applies,
// so a node touched in between survives; the leader only picks the moment.
import type { Command } from '../tree/types'
import type { ZTree } from '../tree/ztree'

export class Housekeeping {
  private lastProposedAt = -Infinity

  constructor(private readonly everyMs: number) {}

  /** the reap command to propose now, if any; at most one per `everyMs` */
  due(tree: ZTree, now: number): Command | null {
    if (now - this.lastProposedAt < this.everyMs) return null
    const nodes = tree.reapable(now)
    if (nodes.length === 0) return null
    this.lastProposedAt = now
    return { type: 'reap', nodes, time: now }
  }
}
