// simple-peer in the browser: its prebuilt bundle, which carries its own
// Buffer/process/stream polyfills, so an app bundling meshkeeper needs no Node
// polyfills (the npm entry needs them). Uses the browser's RTCPeerConnection.
// Frames ride the mesh channel opened next to simple-peer's own
// (simple-peer-port.ts): the bundle's stream defers through setTimeout.
import SimplePeerBundle from 'simple-peer/simplepeer.min.js'
import type { PeerFactory, PeerLike } from './simple-peer-port'
import { withMeshChannel } from './simple-peer-port'

export const browserPeerFactory: PeerFactory = ({ initiator, config }) =>
  withMeshChannel(new SimplePeerBundle({ initiator, trickle: true, ...(config === undefined ? {} : { config }) }) as unknown as PeerLike)
