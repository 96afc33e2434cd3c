// The transport of a member in a browser tab: WebRTC data channels
// (simple-peer's browser bundle) found through BroadcastChannel signaling
// (always: the tabs of this browser) and WebSocket signaling servers (when
// given: other browsers and devices), sealed with the room key when the room
// has a secret.
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'
import { BroadcastChannelSignaling } from '../transport/broadcast-channel-signaling'
import { MeshTransport } from '../transport/mesh-transport'
import { browserPeerFactory } from '../transport/simple-peer-browser'
import { withTabPipes } from './piped-peer'
import type { PipeLocks } from './tab-pipe'
import type { SignalingChannel } from '../transport/signaling'
import { reportSignalingErrors } from '../transport/signaling-errors'
import type { PeerHello } from '../transport/types'
import { websocketSignaling } from '../transport/websocket-signaling'
import type { MemberKey } from '../wire/member-key'
import type { RoomKey } from '../wire/room-key'

export interface BrowserTransportOptions {
  room: string
  signaling?: string | string[]
  iceServers?: RTCIceServer[]
  /** the room secret's key: seals signaling, hellos and link traffic */
  roomKey?: RoomKey
  /** timers and time of the transport and its signaling (default: real time) */
  clock?: Clock
  /** Web Locks for tab pipes (default: navigator.locks; absent, tabs link over WebRTC only) */
  locks?: PipeLocks
}

/** `identity` is the member's key: `self.member` must be its id. */
export function openBrowserTransport(self: PeerHello, identity: MemberKey, opts: BrowserTransportOptions): MeshTransport {
  const clock = opts.clock ?? realClock
  const channels: SignalingChannel[] = [new BroadcastChannelSignaling(undefined, clock)]
  if (opts.signaling !== undefined && opts.signaling.length > 0) channels.push(...websocketSignaling(opts.signaling, { clock }))
  const transport = new MeshTransport({
    clock,
    self,
    identity,
    room: opts.room,
    signaling: channels,
    // tabs of this browser link through a pipe, in a millisecond; others over WebRTC
    peerFactory: withTabPipes(browserPeerFactory, opts.locks ?? pageLocks()),
    ...(opts.iceServers === undefined ? {} : { iceServers: opts.iceServers }),
    ...(opts.roomKey === undefined ? {} : { roomKey: opts.roomKey }),
  })
  // an unreachable or wrong signaling URL becomes an `error` event
  return reportSignalingErrors(transport, channels)
}


/** navigator.locks where there is one (a page; not every runtime that loads this module) */
function pageLocks(): PipeLocks | undefined {
  return (globalThis.navigator as Partial<Navigator> | undefined)?.locks
}
