// What the parts of a MeshTransport share (discovery.ts, attempts.ts,
// link-opening.ts, relay.ts): its options, identity, clock, the peer table
// and the penalty box, whether it is closed, and the two ways back to the
// app and to the transport as a whole (report an error, refuse a member).
// The parts call each other only through this and through the hooks their
// constructors take, so the files import each other in one direction.
import type { Clock } from '../shared/clock'
import type { TransportError } from './errors'
import type { MeshTransportOptions } from './mesh-options'
import type { PenaltyBox } from './penalties'
import type { PeerTable } from './peer-table'
import type { PeerHello } from './types'

export interface MeshContext {
  readonly opts: MeshTransportOptions
  readonly self: PeerHello
  /** our signaling id (`member/tab`) */
  readonly selfId: string
  readonly clock: Clock
  readonly table: PeerTable
  readonly penalties: PenaltyBox
  /** the transport was closed: nothing new is started */
  readonly closed: boolean
  /** tell the app (the transport's error event); `peer` is who it is about */
  report(err: unknown, peer: string): void
  /** drop bad signaling; the app hears of it at most once per sender per window. Returns null (for callers that return it) */
  reportSignaling(from: string, err: TransportError): null
  /** refuse a member that broke the protocol (MeshTransport.refuse) */
  refuse(member: string, reason: string): void
  /** does the node want a link to this member (Transport.setLinkPolicy)? We
   *  make and keep links only to those; a peer that wants one is answered */
  wants(member: string): boolean
}
