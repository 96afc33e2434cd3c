// The `meshkeeper/node` entry (Node): the member a tab runs, run in a Node
// process as a device of its own — memory storage (or any StorageProvider),
// WebSocket signaling through `ws`, WebRTC through the node-webrtc module the
// caller passes in (`@roamhq/wrtc`; never imported here).
//
//   import { joinMeshFromNode } from 'meshkeeper/node'
//   import wrtc from '@roamhq/wrtc'
//   const mesh = await joinMeshFromNode({ room: 'demo', signaling: 'ws://localhost:4444/signal', wrtc })
export { joinMeshFromNode } from './node-runtime'
export type { NodeJoinOptions } from './node-runtime'
// a member's key: its id is the member id (pass it back as `identity` after a restart)
export { createMemberKey } from '../wire/member-key'
export type { MemberKey } from '../wire/member-key'
export { MeshError, toMeshError, isMeshErrorCode } from '../shared/errors'
export type * from '../shared/types'
// storage a Node member may be given (`storage:`): memory, or your own provider
export { MemoryStorageProvider } from '../storage/memory'
export type { StorageProvider } from '../storage/types'
// recipes on the public znode API (also reachable as mesh.lock(...) etc.)
export { barrier, counter, doubleBarrier, election, mutex, queue, readWriteLock, semaphore } from '../recipes/index'
