// Curator's DistributedAtomicInteger: the value is a node's decimal text;
// `add` is a versioned compare-and-set, retried on conflict, so concurrent
// adds never lose an acknowledged increment.
import { MeshError } from '../shared/errors'
import type { Counter, MeshCore } from '../shared/types'
import { createWithParents, isCode } from './support'

function parse(text: string, path: string): number {
  const n = Number(text)
  if (text === '' || !Number.isSafeInteger(n)) throw new MeshError('BAD_ARGUMENTS', `counter ${path} holds ${JSON.stringify(text.slice(0, 32))}, not an integer`, { path })
  return n
}

export function counter(mesh: MeshCore, path: string): Counter {
  return {
    async get() {
      await mesh.sync(path)
      try {
        return parse((await mesh.get(path)).text(), path)
      } catch (err) {
        if (isCode(err, 'NO_NODE')) return 0
        throw err
      }
    },

    async add(delta: number) {
      if (!Number.isSafeInteger(delta)) throw new MeshError('BAD_ARGUMENTS', `delta must be a safe integer, got ${delta}`, { path })
      for (;;) {
        try {
          const node = await mesh.get(path)
          const next = parse(node.text(), path) + delta
          if (!Number.isSafeInteger(next)) throw new MeshError('BAD_ARGUMENTS', `counter ${path} would overflow`, { path })
          await mesh.set(path, String(next), { version: node.stat.version })
          return next
        } catch (err) {
          if (isCode(err, 'BAD_VERSION')) {
            // our local view was behind: catch up before the next try
            await mesh.sync(path)
            continue
          }
          if (!isCode(err, 'NO_NODE')) throw err
        }
        try {
          await createWithParents(mesh, path, String(delta), 'persistent')
          return delta
        } catch (err) {
          if (!isCode(err, 'NODE_EXISTS')) throw err
        }
      }
    },
  }
}
