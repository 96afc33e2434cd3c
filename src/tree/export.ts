// A tree as plain data anyone can read: every znode but the root, parent
// first (pre-order, children by name), each with its path, a copy of its data,
// its Stat and its kind. This is what an app receives when its cluster lost a
// meet (`diverged`): no internals, no codec, nothing to decode.
import { joinPath } from './paths'
import type { ZTree } from './ztree'
import type { NodeKind } from './znode'
import type { Stat } from './types'

export type { NodeKind }

/** One znode as plain data. */
export interface ExportedNode {
  path: string
  /** a copy: changing it changes nothing else */
  data: Uint8Array
  stat: Stat
  /** 'persistent' (sequential ones too), 'ephemeral', 'container' or 'ttl' */
  kind: NodeKind
  /** a TTL node's ttl in ms, else 0 */
  ttlMs: number
}

/** Every znode of the tree except the root, parents before their children. */
export function exportNodes(tree: ZTree): ExportedNode[] {
  const out: ExportedNode[] = []
  // iterative: a deep chain must not overflow the call stack
  const stack: string[] = [...(tree.children('/') ?? [])].reverse().map((name) => joinPath('/', name))
  while (stack.length > 0) {
    const path = stack.pop()!
    const node = tree.get(path)!
    // get() hands out a copy of the data: the app may keep or change it
    out.push({ path, data: node.data, stat: node.stat, kind: tree.kind(path)!, ttlMs: tree.ttlMs(path)! })
    const children = tree.children(path) ?? []
    for (let i = children.length - 1; i >= 0; i--) stack.push(joinPath(path, children[i]!))
  }
  return out
}
