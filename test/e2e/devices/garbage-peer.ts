// A hostile device for the e2e tests: a Node process that joins the room
// through the signaling server like any member (a real MeshTransport over
// @roamhq/wrtc, a valid hello), then sends seeded random bytes as node
// messages on every link instead of speaking the protocol.
import * as prng from 'lib0/prng'
import wrtc from '@roamhq/wrtc'
import WebSocket from 'ws'
import { createMeshTransport } from '../../../src/transport/create'
import { nodePeerFactory } from '../../../src/transport/simple-peer-node'
import type { MeshTransport } from '../../../src/transport/mesh-transport'
import type { WebSocketConstructor } from '../../../src/transport/websocket-signaling'

export interface GarbagePeer {
  readonly id: string
  readonly transport: MeshTransport
  /** members it has an open link to */
  linked(): string[]
  /** send `frames` random frames (1..256 bytes) on every open link; returns how many went out */
  spray(frames: number): number
  close(): Promise<void>
}

export async function startGarbagePeer(room: string, signaling: string, seed: number): Promise<GarbagePeer> {
  const id = `garbage${seed}`
  const transport = await createMeshTransport({
    room,
    self: { member: id, tab: `t${id}`, browser: `b${id}` },
    signaling,
    peerFactory: nodePeerFactory(wrtc),
    broadcastChannel: false,
    websocket: { WebSocket: WebSocket as unknown as WebSocketConstructor },
  })
  const gen = prng.create(seed)
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
    close: () => transport.close(),
  }
}
