// The `meshkeeper` entry (browser): joinMesh, MeshError, the public types, recipes.
export { MeshError, toMeshError, isMeshErrorCode } from './shared/errors'
// joinMesh: the browser member (src/browser/join.ts, identity by Web Locks)
export { joinMesh } from './browser/join'
export type * from './shared/types'
// the parts joinMesh composes, for hosts that bring their own storage/transport
export { startMesh } from './client/assemble'
export type { StartMeshOptions } from './client/assemble'
// recipes on the public znode API (also reachable as mesh.lock(...) etc.)
export { barrier, counter, doubleBarrier, election, mutex, queue, readWriteLock, semaphore } from './recipes/index'
// after a lost meet: put the lost tree's persistent nodes back on the winning side (also mesh.restoreDiverged)
export { restoreDiverged } from './client/restore-diverged'
