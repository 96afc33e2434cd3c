// The transport layer's entry for the browser and for Node alike. The peer
// factories are separate entries so each environment loads only its own
// simple-peer: `./simple-peer-browser` (prebuilt bundle, no Node polyfills
// needed) or `./simple-peer-node` (npm package + a wrtc implementation).
export type { Link, PeerHello, Transport } from './types'
export { TransportError } from './errors'
export type { TransportErrorCode } from './errors'
export { FramedLink, DEFAULT_MAX_QUEUED_BYTES } from './link'
export type { FramePort, LinkOptions } from './link'
export { DEFAULT_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from './framing'
export type { SignalData, SignalingChannel } from './signaling'
export { BroadcastChannelSignaling } from './broadcast-channel-signaling'
export { WebSocketSignaling, websocketSignaling } from './websocket-signaling'
export type { WebSocketConstructor, WebSocketLike, WebSocketSignalingOptions } from './websocket-signaling'
export { MeshTransport } from './mesh-transport'
export type { MeshTransportOptions, PeerBounds } from './mesh-options'
export type { Clock } from '../shared/clock'
export { createMeshTransport } from './create'
export type { CreateTransportOptions } from './create'
export { MemoryHub, MemoryTransport } from './memory-transport'
export type { MemoryHubOptions } from './memory-transport'
export type { PeerFactory, PeerFactoryOptions, PeerLike } from './simple-peer-port'
