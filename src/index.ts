// The `meshkeeper` entry (browser). joinMesh lands with the browser layer;
// recipes with src/recipes.
export { MeshError, toMeshError, isMeshErrorCode } from './client/errors'
export type * from './client/types'
// the parts joinMesh composes, for hosts that bring their own storage/transport
export { startMesh } from './client/start'
export type { StartMeshOptions } from './client/start'
