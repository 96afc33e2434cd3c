// Curator's DistributedQueue: items are persistent-sequential nodes; a taker
// claims the oldest by deleting it with its version, so exactly one taker gets
// each item — an item is never delivered twice.
//
// The claim also creates an ephemeral receipt in the same multi. A claim whose
// answer was lost (TIMEOUT, or NO_QUORUM with outcome 'unknown': the write
// may still commit) is retried until its outcome is known, and the receipt tells "our earlier attempt took it" from
// "another taker took it". So an acknowledged `put` is delivered exactly once
// to a live taker; only a taker whose tab dies mid-claim (its call rejects
// with CLOSED) can take an item with it, as with any consumer that dies.
import type { Data, MeshCore, NodeData, Queue } from '../shared/types'
import { MeshError } from '../shared/errors'
import { bySequence, childPath, createWithParents, Deadline, isCode, markerFor, watchOnce } from './support'
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'


/** `clock` times `take`'s deadline (default the platform's timers; a Mesh's `queue` gets its own) */
export function queue(mesh: MeshCore, path: string, clock: Clock = realClock): Queue {
  return {
    // one commit: the item, with the queue's node if it is missing
    put: async (data: Data) => (await createWithParents(mesh, childPath(path, 'item-'), data, 'persistent-sequential')).path,

    async take(opts = {}): Promise<NodeData> {
      const deadline = new Deadline(clock, opts.signal, undefined)
      try {
        for (;;) {
          const w = watchOnce()
          let names: string[] = []
          try {
            names = bySequence(await deadline.race(mesh.children(path, { watch: w.watch })))
          } catch (err) {
            if (!isCode(err, 'NO_NODE')) throw err
            // no queue yet: wait for it to appear
            if ((await deadline.race(mesh.exists(path, { watch: w.watch }))) !== null) continue
          }
          for (const name of names) {
            const item = childPath(path, name)
            let node: NodeData
            try {
              node = await deadline.race(mesh.get(item))
            } catch (err) {
              if (isCode(err, 'NO_NODE')) continue // taken meanwhile
              throw err
            }
            // Not raced against the deadline: once a claim is sent we wait
            // for its outcome, or an abort could drop an item we took.
            if (await claim(mesh, path, item, node.stat.version)) return node
          }
          if (names.length === 0) await deadline.race(w.fired)
        }
      } finally {
        deadline.dispose()
      }
    },

    async size() {
      await mesh.sync(path)
      try {
        return bySequence(await mesh.children(path)).length
      } catch (err) {
        if (isCode(err, 'NO_NODE')) return 0
        throw err
      }
    },
  }
}

/** Take `item` for this tab: true when ours, false when another taker won. */
async function claim(mesh: MeshCore, queuePath: string, item: string, version: number): Promise<boolean> {
  const receipt = childPath(queuePath, `receipt-${markerFor(mesh)}-taken`)
  for (;;) {
    try {
      await mesh.multi([
        { op: 'delete', path: item, version },
        { op: 'create', path: receipt, mode: 'ephemeral' },
      ])
      break
    } catch (err) {
      // Outcome unknown (TIMEOUT, or NO_QUORUM after it was sent): ask again.
      // A NO_QUORUM without `outcome` was never sent and surely did not
      // apply: the take fails with it (retrying at once spun forever on a
      // member failing fast without a quorum, a loop of microtasks only).
      if (isCode(err, 'TIMEOUT') || (isCode(err, 'NO_QUORUM') && (err as MeshError).outcome === 'unknown')) continue
      if (!(err instanceof MeshError) || err.opIndex !== 0 || !isCode(err, 'NO_NODE', 'BAD_VERSION')) throw err
      // The item is gone or changed: taken by us (an earlier attempt whose
      // answer we missed — its receipt is here) or by someone else.
      if ((await mesh.exists(receipt)) === null) return false
      break
    }
  }
  try {
    await mesh.delete(receipt)
  } catch {
    // ephemeral: it goes with the session at the latest
  }
  return true
}
