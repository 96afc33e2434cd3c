// simple-peer in Node: the npm package with a WebRTC implementation passed in
// (@roamhq/wrtc in our tests; it is a dev dependency, so the app brings it).
import SimplePeer from 'simple-peer'
import type { PeerFactory, PeerLike } from './simple-peer-port'

/** `wrtc`: the module object of @roamhq/wrtc (or any node-webrtc). */
export function nodePeerFactory(wrtc: unknown): PeerFactory {
  return ({ initiator, config }) =>
    new SimplePeer({ initiator, trickle: true, wrtc: wrtc as SimplePeer.Options['wrtc'], ...(config === undefined ? {} : { config }) }) as unknown as PeerLike
}
