// One call from joinMesh options to a running MeshTransport: BroadcastChannel
// signaling (tabs of this browser) whenever the platform has it, WebSocket
// signaling for each server URL given, and the room secret's key. The
// channels run on the transport's clock and jitter (`clock`, `random`) unless
// `websocket` names its own.
import { deriveRoomKey } from '../wire/room-key'
import type { DeriveOptions } from '../wire/room-key'
import { BroadcastChannelSignaling } from './broadcast-channel-signaling'
import { TransportError } from './errors'
import { MeshTransport } from './mesh-transport'
import type { MeshTransportOptions } from './mesh-options'
import type { SignalingChannel } from './signaling'
import { reportSignalingErrors } from './signaling-errors'
import { websocketSignaling } from './websocket-signaling'
import type { WebSocketSignalingOptions } from './websocket-signaling'

export interface CreateTransportOptions extends Omit<MeshTransportOptions, 'signaling' | 'roomKey'> {
  /** signaling server URL(s); without any only same-browser tabs meet */
  signaling?: string | string[]
  /** the room secret: signaling, hellos and every link message are sealed, peers without it refused */
  secret?: string
  /** PBKDF2 rounds for the secret (every member of the room must use the same) */
  secretIterations?: DeriveOptions['iterations']
  /** WebSocket implementation and reconnect tuning for the signaling servers */
  websocket?: WebSocketSignalingOptions
  /** BroadcastChannel signaling (default: on wherever BroadcastChannel exists) */
  broadcastChannel?: boolean
}

export async function createMeshTransport(opts: CreateTransportOptions): Promise<MeshTransport> {
  const { signaling, secret, secretIterations, websocket, broadcastChannel, ...rest } = opts
  const channels: SignalingChannel[] = []
  const { clock, random } = rest
  if (broadcastChannel ?? typeof globalThis.BroadcastChannel === 'function') channels.push(new BroadcastChannelSignaling(undefined, clock))
  if (signaling !== undefined) channels.push(...websocketSignaling(signaling, { ...(clock === undefined ? {} : { clock }), ...(random === undefined ? {} : { random }), ...websocket }))
  if (channels.length === 0) throw new TransportError('BAD_ARGUMENTS', 'no signaling: no BroadcastChannel here and no signaling URL given')
  const base: MeshTransportOptions = { ...rest, signaling: channels }
  if (secret === undefined) return reportSignalingErrors(new MeshTransport(base), channels)
  const key = await deriveRoomKey(secret, opts.room, secretIterations === undefined ? {} : { iterations: secretIterations })
  return reportSignalingErrors(new MeshTransport({ ...base, roomKey: key }), channels)
}
