// Curator's DistributedQueue: items are persistent-sequential nodes; a taker
// claims the oldest by deleting it with its version, so exactly one taker gets
// each item — an item is never delivered twice, and an acknowledged `put` is
// never lost (it stays until someone's delete commits).
import type { Data, MeshCore, NodeData, Queue } from '../client/types'
import { bySequence, childPath, createWithParents, Deadline, isCode, timersOf, watchOnce } from './support'

export function queue(mesh: MeshCore, path: string): Queue {
  return {
    put: (data: Data) => createWithParents(mesh, childPath(path, 'item-'), data, { mode: 'persistent-sequential' }),

    async take(opts = {}): Promise<NodeData> {
      const deadline = new Deadline(timersOf(mesh), opts.signal, undefined)
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
            try {
              const node = await deadline.race(mesh.get(item))
              // Not raced against the deadline: once the claim is sent we wait
              // for its answer, or an abort could drop an item we took.
              await mesh.delete(item, { version: node.stat.version })
              return node
            } catch (err) {
              // another taker won this one: try the next
              if (!isCode(err, 'NO_NODE', 'BAD_VERSION')) throw err
            }
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
