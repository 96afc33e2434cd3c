// The `meshkeeper` entry (browser): joinMesh, MeshError, the public types, recipes.
export { MeshError, toMeshError, isMeshErrorCode } from './client/errors'
// joinMesh: the browser member (src/client/join.ts, identity by Web Locks)
export { joinMesh } from './client/join'
export type * from './client/types'
// the parts joinMesh composes, for hosts that bring their own storage/transport
export { startMesh } from './client/start'
export type { StartMeshOptions } from './client/start'
// recipes on the public znode API (also reachable as mesh.lock(...) etc.)
export { barrier, counter, doubleBarrier, election, mutex, queue, readWriteLock, semaphore } from './recipes/index'
// after a lost meet: put the lost tree's persistent nodes back on the winning side (also mesh.restoreDiverged)
export { restoreDiverged } from './client/restore-diverged'
