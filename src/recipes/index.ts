// The recipes (Curator's vocabulary), built only on the public znode API
// (`MeshCore`), so they behave the same on a browser mesh and on
// `createSimulatedCluster`.
import type { Mesh, MeshCore } from '../shared/types'
import { barrier, doubleBarrier } from './barriers'
import { counter } from './counter'
import { election } from './election'
import { mutex, readWriteLock, semaphore } from './locks'
import { queue } from './queue'

export { barrier, counter, doubleBarrier, election, mutex, queue, readWriteLock, semaphore }
export { NodeLease } from './lease'

type RecipeMethods = Omit<Mesh, keyof MeshCore>

/** The recipe methods of a Mesh, bound to a MeshCore. */
export function recipesFor(mesh: MeshCore): RecipeMethods {
  return {
    lock: (path) => mutex(mesh, path),
    readWriteLock: (path) => readWriteLock(mesh, path),
    semaphore: (path, permits) => semaphore(mesh, path, permits),
    election: (path) => election(mesh, path),
    barrier: (path) => barrier(mesh, path),
    doubleBarrier: (path, count) => doubleBarrier(mesh, path, count),
    queue: (path) => queue(mesh, path),
    counter: (path) => counter(mesh, path),
  }
}
