// The recipes (Curator's vocabulary), built only on the public znode API
// (`MeshCore`), so they behave the same on a browser mesh and on
// `createSimulatedCluster`.
//
// RECIPES is the registry: one line per recipe, saying how a Mesh's method is
// made from the Mesh's znode API and its clock. The client attaches every
// entry to every Mesh it assembles (client/assemble.ts), so a new recipe is its
// own file, one line here and its method on the public `Mesh`
// (shared/types.ts). The registry's type is derived from that `Mesh`: tsc
// refuses a method on the Mesh without a line here, and a line here that the
// Mesh does not declare.
import type { Clock } from '../shared/clock'
import type { Mesh, MeshCore } from '../shared/types'
import { barrier, doubleBarrier } from './barriers'
import { counter } from './counter'
import { election } from './election'
import { mutex, readWriteLock, semaphore } from './locks'
import { queue } from './queue'

export { barrier, counter, doubleBarrier, election, mutex, queue, readWriteLock, semaphore }
export { NodeLease } from './lease'

/** The recipe methods of a Mesh: everything the public Mesh has beyond its znode API. */
export type RecipeMethods = Omit<Mesh, keyof MeshCore>

/** How one recipe method is made for a Mesh, from its znode API and the clock its waits run on. */
export type RecipeMaker<K extends keyof RecipeMethods> = (mesh: MeshCore, clock: Clock) => RecipeMethods[K]

export const RECIPES: { readonly [K in keyof RecipeMethods]: RecipeMaker<K> } = {
  lock: (mesh, clock) => (path) => mutex(mesh, path, clock),
  readWriteLock: (mesh, clock) => (path) => readWriteLock(mesh, path, clock),
  semaphore: (mesh, clock) => (path, permits) => semaphore(mesh, path, permits, clock),
  election: (mesh, clock) => (path) => election(mesh, path, clock),
  barrier: (mesh, clock) => (path) => barrier(mesh, path, clock),
  doubleBarrier: (mesh, clock) => (path, count) => doubleBarrier(mesh, path, count, clock),
  queue: (mesh, clock) => (path) => queue(mesh, path, clock),
  counter: (mesh) => (path) => counter(mesh, path),
}
