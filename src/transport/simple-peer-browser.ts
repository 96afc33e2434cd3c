// simple-peer in the browser: its prebuilt bundle, which carries its own
// Buffer/process/stream polyfills, so an app bundling meshkeeper needs no Node
// polyfills (the npm entry needs them). Uses the browser's RTCPeerConnection.
import SimplePeerBundle from 'simple-peer/simplepeer.min.js'
import type { PeerFactory, PeerLike } from './simple-peer-port'

export const browserPeerFactory: PeerFactory = ({ initiator, config }) =>
  new SimplePeerBundle({ initiator, trickle: true, ...(config === undefined ? {} : { config }) }) as unknown as PeerLike
