// restoreDiverged: after this member's cluster lost a meet (README, "Clusters
// that meet"), put back on the winning side what the lost tree had and the
// winner lacks — without overwriting anything.
//
// Only persistent nodes come back (sequential ones under their full name):
// an ephemeral died with its session, a container or TTL node is the
// server's to reap. Nodes go parent first. A node the winner already has is
// left alone: `unchanged` when its data is the same, a conflict otherwise
// (the winner's data stays). A node whose parent the winner lacks (because
// the parent was not persistent, or could not be restored) is a conflict too.
// The app reads the report and decides; nothing here merges data.
import { parentOf, validatePath } from '../tree/paths'
import { MeshError, toMeshError } from '../shared/errors'
import type { DivergedEvent, DivergedNode, MeshCore, RestoreOptions, RestoreReport } from '../shared/types'

const depth = (path: string): number => path.split('/').length

/**
 * Re-create on `mesh`'s (winning) cluster the lost tree's persistent nodes it
 * lacks, parent first, reporting each conflict instead of overwriting.
 * Throws BAD_ARGUMENTS (before writing anything) when `diverged` is not a
 * diverged event's shape.
 */
export async function restoreDiverged(mesh: MeshCore, diverged: Pick<DivergedEvent, 'nodes'>, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const nodes = checkedNodes(diverged)
  const report: RestoreReport = { created: [], unchanged: [], skipped: [], conflicts: [] }
  // reads below are local: first catch up with the winner's commit
  await mesh.sync()
  // parents first whatever order we were given (a stable sort keeps siblings' order)
  const ordered = nodes.map((node, i) => ({ node, i })).sort((a, b) => depth(a.node.path) - depth(b.node.path) || a.i - b.i)
  for (const { node } of ordered) {
    if (opts.filter !== undefined && !opts.filter(node)) continue
    if (node.kind !== 'persistent') {
      report.skipped.push({ path: node.path, kind: node.kind })
      continue
    }
    await restoreOne(mesh, node, report)
  }
  return report
}

async function restoreOne(mesh: MeshCore, node: DivergedNode, report: RestoreReport): Promise<void> {
  const { path } = node
  if (await existing(mesh, node, report)) return
  const parent = parentOf(path)
  if (parent !== '/' && (await mesh.exists(parent)) === null) {
    report.conflicts.push({ path, reason: 'parent-missing', node })
    return
  }
  try {
    await mesh.create(path, node.data, { mode: 'persistent' })
    report.created.push(path)
  } catch (err) {
    const error = toMeshError(err)
    // someone created it meanwhile (or the parent went): report what is there now
    if (error.code === 'NODE_EXISTS' && (await existing(mesh, node, report))) return
    report.conflicts.push({ path, reason: error.code === 'NO_NODE' ? 'parent-missing' : 'failed', node, error })
  }
}

/** true (and reported) when the winner already has a node at the path */
async function existing(mesh: MeshCore, node: DivergedNode, report: RestoreReport): Promise<boolean> {
  if ((await mesh.exists(node.path)) === null) return false
  let data: Uint8Array
  try {
    data = (await mesh.get(node.path)).data
  } catch (err) {
    const error = toMeshError(err)
    if (error.code === 'NO_NODE') return false // deleted between the two reads
    throw error
  }
  if (sameBytes(data, node.data)) report.unchanged.push(node.path)
  else report.conflicts.push({ path: node.path, reason: 'exists-with-other-data', node })
  return true
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const KINDS: readonly DivergedNode['kind'][] = ['persistent', 'ephemeral', 'container', 'ttl']

/** The event may have travelled (stored, posted from a page): check its shape before writing anything. */
function checkedNodes(diverged: Pick<DivergedEvent, 'nodes'>): DivergedNode[] {
  const nodes: unknown = (diverged as { nodes?: unknown } | null | undefined)?.nodes
  if (!Array.isArray(nodes)) throw new MeshError('BAD_ARGUMENTS', 'restoreDiverged needs a diverged event: { nodes: [...] }')
  const seen = new Set<string>()
  for (const n of nodes as unknown[]) {
    const node = n as Partial<DivergedNode> | null
    const path = node?.path
    if (typeof path !== 'string') throw new MeshError('BAD_ARGUMENTS', 'a diverged node needs a string path')
    try {
      validatePath(path)
    } catch (err) {
      throw new MeshError('BAD_ARGUMENTS', `a diverged node has an invalid path: ${toMeshError(err).message}`, { path, cause: err })
    }
    if (path === '/') throw new MeshError('BAD_ARGUMENTS', 'the root is not restored', { path })
    if (!(node!.data instanceof Uint8Array)) throw new MeshError('BAD_ARGUMENTS', 'a diverged node needs Uint8Array data', { path })
    if (!KINDS.includes(node!.kind!)) throw new MeshError('BAD_ARGUMENTS', `unknown node kind ${String(node!.kind)}`, { path })
    if (seen.has(path)) throw new MeshError('BAD_ARGUMENTS', 'a path appears twice', { path })
    seen.add(path)
  }
  return nodes as DivergedNode[]
}
