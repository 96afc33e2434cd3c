// joinMeshFromNode: the same member joinMesh runs in a tab, run in a Node
// process — a device of its own (no Web Locks, no IndexedDB, no
// BroadcastChannel neighbours): memory storage (or any StorageProvider),
// WebSocket signaling through the `ws` package (Node 20 has no global
// WebSocket), WebRTC through a node-webrtc module the caller passes in
// (`@roamhq/wrtc`; it is a native dev dependency, so we never import it here).
//
// It chooses the member's identity, storage and transport (createMeshTransport)
// and hands them to the one Mesh assembler (client/assemble.ts), as joinMesh
// does (the one code path, invariant 7): nothing about the member differs from
// a tab's, only the parts around it. As with every Mesh, transport refusals —
// UNAUTHORIZED for a peer that cannot prove the room secret or the key of the
// id it claims, BAD_MESSAGE — reach the app as `error` events
// (client/transport-errors.ts).
//
// Like a tab's, a Node member's id is the id of its key (src/wire/member-key.ts):
// a fresh key each start by default (memory storage: a new member each start);
// a process that keeps its storage across restarts keeps its key too and
// passes it back as `identity` (createMemberKey(); the private key is not
// extractable, so keep the process's CryptoKey, or make the key extractable
// yourself if you must persist it outside the process).
//
//   import wrtc from '@roamhq/wrtc'
//   const mesh = await joinMeshFromNode({ room: 'demo', signaling: 'ws://localhost:4444/signal', wrtc })
import WebSocket from 'ws'
import { assembleMesh, memberSettings } from '../client/assemble'
import type { Mesh, WhenNoQuorum } from '../shared/types'
import { MemoryStorageProvider } from '../storage/memory'
import type { StorageProvider } from '../storage/types'
import { createMeshTransport } from '../transport/create'
import type { MeshTransport } from '../transport/mesh-transport'
import { nodePeerFactory } from '../transport/simple-peer-node'
import type { WebSocketConstructor } from '../transport/websocket-signaling'
import { createMemberKey, isMemberKey } from '../wire/member-key'
import type { MemberKey } from '../wire/member-key'
import { randomId } from '../shared/random-id'
import { realClock } from '../shared/clock'
import { MEMBER_SETTING_RULES, ROOM_RULES, boolean, checkOptions, memberId, refuse } from '../driver/option-checks'
import type { OptionRule } from '../driver/option-checks'
import { BROWSER_TIMING } from '../driver/options'

export interface NodeJoinOptions {
  room: string
  /** signaling server URL(s): the only way a Node member finds browsers */
  signaling: string | string[]
  /** the module object of @roamhq/wrtc (or any node-webrtc) */
  wrtc: unknown
  /** the room secret, as the tabs of the room were given it */
  secret?: string
  /** default: a fresh MemoryStorageProvider (the member is new on every start) */
  storage?: StorageProvider
  /** the member's key (createMemberKey()); default: a new one. The member id is its id. */
  identity?: MemberKey
  /** the member id, if given, must be identity.id (ids are derived from keys: a restart
   *  with persistent storage passes the old identity) */
  member?: string
  /** default: a new random id — a Node process is a device of its own */
  browser?: string
  /** found a new cluster instead of joining one (default false: wait to be added by a leader) */
  bootstrap?: boolean
  sessionTimeoutMs?: number
  maxVoters?: number
  iceServers?: RTCIceServer[]
  /** what writes do while this member cannot reach a quorum (default 'fail'), as joinMesh's */
  whenNoQuorum?: WhenNoQuorum
  /** record each entry's commit stages for `mesh.commitTimeline()`, as joinMesh's */
  timeline?: boolean
}

/** what `storage:` takes in Node: a provider, not joinMesh's 'indexeddb' | 'memory' */
const storageProvider: OptionRule = (option, value) => {
  if (typeof value !== 'object' || value === null || typeof (value as { open?: unknown }).open !== 'function') {
    refuse(option, 'a StorageProvider (an object with open(room, member), e.g. new MemoryStorageProvider()); leave it out for memory storage', value)
  }
}

const NODE_JOIN_RULES: Readonly<Record<string, OptionRule>> = {
  ...ROOM_RULES,
  ...MEMBER_SETTING_RULES,
  wrtc: (option, value) => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) refuse(option, 'the node-webrtc module object (@roamhq/wrtc)', value)
  },
  storage: storageProvider,
  member: memberId,
  identity: (option, value) => {
    if (!isMemberKey(value)) refuse(option, 'a member key (createMemberKey())', value)
  },
  browser: memberId,
  bootstrap: boolean,
}

export async function joinMeshFromNode(opts: NodeJoinOptions): Promise<Mesh> {
  checkOptions('joinMeshFromNode', opts, NODE_JOIN_RULES, ['room', 'signaling', 'wrtc'])
  // a member id is the id of its key: a restart passes its identity back
  if (opts.member !== undefined && opts.identity?.id !== opts.member) refuse('member', 'the id of `identity` (a member id is the id of its key: pass identity, from createMemberKey())', opts.member)
  const identity = opts.identity ?? (await createMemberKey())
  const memberId = identity.id
  const hello = { member: memberId, tab: randomId('t'), browser: opts.browser ?? randomId('node') }
  const provider = opts.storage ?? new MemoryStorageProvider()
  const storage = await provider.open(opts.room, memberId)
  const clock = realClock
  let transport: MeshTransport
  try {
    transport = await createMeshTransport({
      room: opts.room,
      self: hello,
      identity,
      signaling: opts.signaling,
      peerFactory: nodePeerFactory(opts.wrtc),
      // the member's clock below is the transport's and its signaling's too (one clock)
      clock,
      // a Node process is a device of its own: no same-browser neighbours
      broadcastChannel: false,
      websocket: { WebSocket: WebSocket as unknown as WebSocketConstructor },
      ...(opts.secret === undefined || opts.secret === '' ? {} : { secret: opts.secret }),
      ...(opts.iceServers === undefined ? {} : { iceServers: opts.iceServers }),
    })
  } catch (err) {
    await storage.close() // a bad signaling URL or secret: leave nothing open
    throw err
  }
  try {
    const { mesh } = await assembleMesh({
      hello,
      storage,
      transport,
      bootstrap: opts.bootstrap ?? false,
      scheduler: clock,
      // the tabs' timing, so a Node member's heartbeats and elections keep the browsers' pace
      timing: { ...BROWSER_TIMING },
      ...memberSettings(opts),
    })
    return mesh
  } catch (err) {
    await transport.close()
    await storage.close()
    throw err
  }
}
