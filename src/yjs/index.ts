// The `meshkeeper/yjs` entry (browser and Node): a Y.Doc synced over the mesh.
// yjs is a peer dependency: the app's own copy is used.
export { bindDoc, YJS_ROOT, YJS_LOCK_ROOT, UPDATE_PREFIX } from './bind-doc'
export type { BindDocOptions, DocBinding } from './bind-doc'
export { AWARENESS_ROOT } from './awareness'
