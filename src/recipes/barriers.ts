// Curator's DistributedBarrier and DistributedDoubleBarrier.
import { MeshError } from '../shared/errors'
import type { Barrier, DoubleBarrier, MeshCore } from '../shared/types'
import { bySequence, childPath, createWithParents, Deadline, isCode, markerFor, watchOnce } from './support'
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'

/** A barrier is a node: while it exists, `wait` blocks; `remove` lets everyone through. */
/** `clock` times waits (default the platform's timers; a Mesh's `barrier` gets its own) */
export function barrier(mesh: MeshCore, path: string, clock: Clock = realClock): Barrier {
  return {
    async set() {
      try {
        await createWithParents(mesh, path, undefined, 'persistent')
      } catch (err) {
        if (!isCode(err, 'NODE_EXISTS')) throw err
      }
    },
    async remove() {
      try {
        await mesh.delete(path)
      } catch (err) {
        if (!isCode(err, 'NO_NODE')) throw err
      }
    },
    async wait(opts = {}) {
      const deadline = new Deadline(clock, opts.signal, undefined)
      try {
        // catch up first: a barrier set by another tab must not be missed
        await deadline.race(mesh.sync(path))
        for (;;) {
          const w = watchOnce()
          if ((await deadline.race(mesh.exists(path, { watch: w.watch }))) === null) return
          await deadline.race(w.fired)
        }
      } finally {
        deadline.dispose()
      }
    },
  }
}

const READY = 'ready'

/**
 * `count` participants enter together and leave together. Entering creates an
 * ephemeral node; the one that completes the count creates `ready`. Leaving
 * follows Curator's algorithm: the lowest node waits for the highest to go,
 * every other deletes its own node and waits for the lowest, so no herd forms.
 */
export function doubleBarrier(mesh: MeshCore, path: string, count: number, clock: Clock = realClock): DoubleBarrier {
  if (!Number.isSafeInteger(count) || count < 1) throw new MeshError('BAD_ARGUMENTS', `count must be a positive integer, got ${count}`, { path })
  const readyPath = childPath(path, READY)
  let ours: string | null = null

  return {
    async enter(opts = {}) {
      const deadline = new Deadline(clock, opts.signal, undefined)
      try {
        const ready = watchOnce()
        const readyExists = (await deadline.race(mesh.exists(readyPath, { watch: ready.watch }))) !== null
        ours = (await deadline.race(createWithParents(mesh, childPath(path, `p-${markerFor(mesh)}-`), undefined, 'ephemeral-sequential'))).path
        if (readyExists) return
        const present = (await deadline.race(mesh.children(path))).filter((n) => n !== READY)
        if (present.length >= count) {
          try {
            await deadline.race(mesh.create(readyPath))
          } catch (err) {
            if (!isCode(err, 'NODE_EXISTS')) throw err
          }
          return
        }
        await deadline.race(ready.fired)
      } finally {
        deadline.dispose()
      }
    },

    async leave(opts = {}) {
      const deadline = new Deadline(clock, opts.signal, undefined)
      const mine = ours === null ? null : ours.slice(ours.lastIndexOf('/') + 1)
      try {
        for (;;) {
          const present = bySequence((await deadline.race(mesh.children(path))).filter((n) => n !== READY))
          const index = mine === null ? -1 : present.indexOf(mine)
          if (present.length === 0) break
          if (present.length === 1 && index === 0) {
            await deleteQuietly(mesh, ours!)
            break
          }
          const w = watchOnce()
          let target: string
          if (index === 0) {
            target = present[present.length - 1]! // the lowest waits for the highest
          } else {
            if (index > 0) await deleteQuietly(mesh, ours!)
            target = present[0]!
          }
          const stat = await deadline.race(mesh.exists(childPath(path, target), { watch: w.watch }))
          if (stat !== null) await deadline.race(w.fired)
        }
        ours = null
        // Everyone is out: remove `ready` so the barrier can be used again.
        await deleteQuietly(mesh, readyPath)
      } finally {
        deadline.dispose()
      }
    },
  }
}

async function deleteQuietly(mesh: MeshCore, path: string): Promise<void> {
  try {
    await mesh.delete(path)
  } catch (err) {
    if (!isCode(err, 'NO_NODE')) throw err
  }
}
