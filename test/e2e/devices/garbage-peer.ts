// A hostile device for the e2e tests: a Node process that joins the room
// through the signaling server like any member (a real MeshTransport over
// @roamhq/wrtc, a valid hello), then sends seeded random bytes instead of
// speaking the protocol: as node messages inside well-formed link frames
// (spray), or straight onto the WebRTC data channels, under the link framing
// (sprayRaw).
import * as prng from 'lib0/prng'
import wrtc from '@roamhq/wrtc'
import WebSocket from 'ws'
import { createMeshTransport } from '../../../src/transport/create'
import { createMemberKey } from '../../../src/wire/member-key'
import { nodePeerFactory } from '../../../src/transport/simple-peer-node'
import type { MeshTransport } from '../../../src/transport/mesh-transport'
import type { PeerLike } from '../../../src/transport/simple-peer-port'
import type { WebSocketConstructor } from '../../../src/transport/websocket-signaling'

export interface GarbagePeer {
  readonly id: string
  readonly transport: MeshTransport
  /** members it has an open link to */
  linked(): string[]
  /** send `frames` random frames (1..256 bytes) on every open link; returns how many went out */
  spray(frames: number): number
  /** write `frames` chunks straight onto every connected data channel: a first byte
   *  no link frame starts with (0xff), then random bytes (1..256 in all); returns how many went out */
  sprayRaw(frames: number): number
  /** links that closed without us closing them (the far side dropped us) */
  dropped(): number
  close(): Promise<void>
}

export async function startGarbagePeer(room: string, signaling: string, seed: number): Promise<GarbagePeer> {
  // a garbage peer with a key of its own: it gets its links, then sends garbage on them
  const identity = await createMemberKey()
  const id = identity.id
  // the raw simple-peer objects under the transport, while connected
  const connected = new Set<PeerLike>()
  const wrtcPeers = nodePeerFactory(wrtc)
  let closing = false
  let dropped = 0
  const transport = await createMeshTransport({
    room,
    self: { member: id, tab: `t${seed}`, browser: `bgarbage${seed}` },
    identity,
    signaling,
    peerFactory: (opts) => {
      const peer = wrtcPeers(opts)
      peer.on('connect', () => connected.add(peer))
      peer.on('close', () => connected.delete(peer))
      return peer
    },
    broadcastChannel: false,
    websocket: { WebSocket: WebSocket as unknown as WebSocketConstructor },
  })
  const gen = prng.create(seed)
  transport.onLink((link) => {
    link.onClose(() => {
      if (!closing) dropped++
    })
  })
  return {
    id,
    transport,
    linked: () => [...transport.links().entries()].filter(([, l]) => l.open).map(([peer]) => peer).sort(),
    spray(frames) {
      let sent = 0
      for (const link of transport.links().values()) {
        for (let i = 0; i < frames && link.open; i++) {
          link.send(prng.uint8Array(gen, prng.uint32(gen, 1, 256)))
          sent++
        }
      }
      return sent
    },
    sprayRaw(frames) {
      let sent = 0
      for (const peer of connected) {
        for (let i = 0; i < frames; i++) {
          try {
            const chunk = prng.uint8Array(gen, prng.uint32(gen, 1, 256))
            chunk[0] = 0xff
            peer.write(chunk)
            sent++
          } catch {
            break // the channel closed under us
          }
        }
      }
      return sent
    },
    dropped: () => dropped,
    close: () => {
      closing = true
      return transport.close()
    },
  }
}
