// A device that listens and never founds, for the e2e tests of founding
// (src/browser/founding.ts): a Node process that joins the room through the
// signaling server like a first tab in its discovery wait (a real
// MeshTransport over @roamhq/wrtc, a valid hello), with a member id below any
// the devices can draw, and says nothing on its links. The devices' first
// tabs defer to it as to the lowest listener; `close` makes it go before it
// founds, as a first tab that crashes or closes in its wait does.
import wrtc from '@roamhq/wrtc'
import WebSocket from 'ws'
import { createMeshTransport } from '../../../src/transport/create'
import { createMemberKey } from '../../../src/wire/member-key'
import type { MemberKey } from '../../../src/wire/member-key'
import { nodePeerFactory } from '../../../src/transport/simple-peer-node'
import type { WebSocketConstructor } from '../../../src/transport/websocket-signaling'

export interface SilentListener {
  readonly id: string
  /** members it has an open link to */
  linked(): string[]
  close(): Promise<void>
}

/** A key whose id sorts below nearly every key-derived id: ids are `k` and base32 (a-z, 2-7), and '2' is the lowest (about 1,000 keys). */
async function lowKey(): Promise<MemberKey> {
  for (;;) {
    const key = await createMemberKey()
    if (key.id.startsWith('k22')) return key
  }
}

export async function startSilentListener(room: string, signaling: string): Promise<SilentListener> {
  const identity = await lowKey()
  const transport = await createMeshTransport({
    room,
    self: { member: identity.id, tab: 'tsilent', browser: 'bsilent' },
    identity,
    signaling,
    peerFactory: nodePeerFactory(wrtc),
    broadcastChannel: false,
    websocket: { WebSocket: WebSocket as unknown as WebSocketConstructor },
  })
  return {
    id: identity.id,
    linked: () => [...transport.links().entries()].filter(([, l]) => l.open).map(([peer]) => peer).sort(),
    close: () => transport.close(),
  }
}
