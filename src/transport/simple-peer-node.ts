// simple-peer in Node: the npm package with a WebRTC implementation passed in
// (@roamhq/wrtc in our tests; it is a dev dependency, so the app brings it).
// The mesh channel is opened as in the browser, so a browser's frames are
// heard; wrtc's channel cannot pace a sender, so ours go on the stream
// (simple-peer-port.ts).
import SimplePeer from 'simple-peer'
import type { PeerFactory, PeerLike } from './simple-peer-port'
import { withMeshChannel } from './simple-peer-port'

/** `wrtc`: the module object of @roamhq/wrtc (or any node-webrtc). */
export function nodePeerFactory(wrtc: unknown): PeerFactory {
  return ({ initiator, config }) =>
    withMeshChannel(new SimplePeer({ initiator, trickle: true, wrtc: wrtc as SimplePeer.Options['wrtc'], ...(config === undefined ? {} : { config }) }) as unknown as PeerLike)
}
