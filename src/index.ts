// The `meshkeeper` entry (browser). joinMesh lands with the browser layer;
// recipes with src/recipes.
export { MeshError, toMeshError, isMeshErrorCode } from './client/errors'
export type * from './client/types'
