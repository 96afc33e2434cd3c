// The app's explicit takeover (Mesh.forceNewCluster, etcd's
// --force-new-cluster): quorum is gone for good (a crashed device of two), so
// this member makes itself the only voter — a term of its own, one removal per
// other voter committed at once (raft forceSoleVoter) — and then leads. What
// the others had committed and we lack is lost; a member that returns with it
// diverges with `forced: true` (cluster-identity.ts).
import { MeshError } from '../shared/errors'
import type { MemberContext } from './member-context'

/** Resolves once this member leads as the only voter; BAD_ARGUMENTS if it cannot take over, NO_QUORUM if it did not lead in time. */
export async function forceNewCluster(ctx: MemberContext, pump: () => void): Promise<void> {
  if (ctx.stopped) throw new MeshError('CLOSED', 'the mesh is closed')
  if (!ctx.running) throw new MeshError('NO_QUORUM', 'the member is starting over and cannot take a cluster over')
  let upTo: number
  try {
    upTo = ctx.raft.forceSoleVoter()
  } catch (err) {
    throw new MeshError('BAD_ARGUMENTS', `cannot take the cluster over: ${err instanceof Error ? err.message : String(err)}`)
  }
  pump()
  const deadline = ctx.clock.now() + ctx.timing.requestTimeoutMs
  await new Promise<void>((resolve, reject) => {
    const poll = (): void => {
      if (ctx.stopped) reject(new MeshError('CLOSED', 'the mesh was closed'))
      else if (ctx.isLeader && ctx.appliedIndex >= upTo) resolve()
      else if (ctx.clock.now() >= deadline) reject(new MeshError('NO_QUORUM', 'the takeover did not lead in time'))
      else {
        // the removals take effect as they are applied; then we are the only voter
        if (ctx.appliedIndex >= upTo) ctx.raft.campaignIfOnlyVoter()
        pump()
        ctx.clock.setTimeout(poll, ctx.timing.tickMs)
      }
    }
    poll()
  })
}
