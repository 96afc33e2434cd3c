// The signaling protocol: JSON text frames between a browser and the
// signaling server. The client side (src/transport) is written against
// exactly these shapes.
//
// client -> server
//   { type: 'join', room, peer }        enter a room as `peer`
//   { type: 'signal', room, to, data }  relay opaque `data` to peer `to` of `room`
//   { type: 'leave', room }
//   { type: 'ping' }
// server -> client
//   { type: 'peers', room, peers }      answer to join: the others in the room
//   { type: 'joined', room, peer }      someone entered a room you are in
//   { type: 'left', room, peer }        someone left it (or their socket closed)
//   { type: 'signal', room, from, data } `from` is set by the server from the
//                                        sender's join, never taken from the sender
//   { type: 'pong' }
//   { type: 'error', code, message, room? }
import type { SignalingLimits } from './limits'

export type SignalingErrorCode = 'TOO_LARGE' | 'RATE_LIMITED' | 'ROOM_FULL' | 'BAD_MESSAGE' | 'DUPLICATE_PEER'

export type ClientMessage =
  | { type: 'join'; room: string; peer: string }
  | { type: 'signal'; room: string; to: string; data: unknown }
  | { type: 'leave'; room: string }
  | { type: 'ping' }

export type ServerMessage =
  | { type: 'peers'; room: string; peers: string[] }
  | { type: 'joined'; room: string; peer: string }
  | { type: 'left'; room: string; peer: string }
  | { type: 'signal'; room: string; from: string; data: unknown }
  | { type: 'pong' }
  | { type: 'error'; code: SignalingErrorCode; message: string; room?: string }

/** Close codes the server uses when it drops a socket (RFC 6455 §7.4.1). */
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_UNSUPPORTED_DATA = 1003
export const CLOSE_INVALID_PAYLOAD = 1007
export const CLOSE_POLICY_VIOLATION = 1008
export const CLOSE_TOO_LARGE = 1009
export const CLOSE_INTERNAL_ERROR = 1011

/** The relayed signal as text: `dataText` is the sender's `data` exactly as
 *  it wrote it (already parsed and depth-checked), spliced rather than
 *  re-serialised. `room` and `from` are validated ids. */
export function encodeRelayedSignal(room: string, from: string, dataText: string): string {
  return `{"type":"signal","room":${JSON.stringify(room)},"from":${JSON.stringify(from)},"data":${dataText}}`
}

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; reason: string }

type IdLimits = Pick<SignalingLimits, 'idPattern' | 'maxRoomNameLength' | 'maxPeerIdLength'>

/** Validate a parsed JSON value as a client message. Every field is checked;
 *  unknown extra fields (such as a client-supplied `from`) are ignored. */
export function parseClientMessage(value: unknown, limits: IdLimits): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' }
  const v = value as Record<string, unknown>
  const room = (): string | null => validId(v.room, limits.maxRoomNameLength, limits.idPattern)
  switch (v.type) {
    case 'ping':
      return { ok: true, message: { type: 'ping' } }
    case 'join': {
      const r = room()
      const peer = validId(v.peer, limits.maxPeerIdLength, limits.idPattern)
      if (r === null) return { ok: false, reason: 'bad room name' }
      if (peer === null) return { ok: false, reason: 'bad peer id' }
      return { ok: true, message: { type: 'join', room: r, peer } }
    }
    case 'signal': {
      const r = room()
      const to = validId(v.to, limits.maxPeerIdLength, limits.idPattern)
      if (r === null) return { ok: false, reason: 'bad room name' }
      if (to === null) return { ok: false, reason: 'bad target peer id' }
      if (v.data === undefined) return { ok: false, reason: 'signal without data' }
      return { ok: true, message: { type: 'signal', room: r, to, data: v.data } }
    }
    case 'leave': {
      const r = room()
      if (r === null) return { ok: false, reason: 'bad room name' }
      return { ok: true, message: { type: 'leave', room: r } }
    }
    default:
      return { ok: false, reason: 'unknown message type' }
  }
}

function validId(x: unknown, maxLength: number, pattern: RegExp): string | null {
  if (typeof x !== 'string' || x.length === 0 || x.length > maxLength || !pattern.test(x)) return null
  return x
}
