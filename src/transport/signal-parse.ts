// The shape of a signal between two mesh transports, checked before use:
// signaling channels and relaying neighbours are untrusted, and what they
// hand over reaches simple-peer (and through it the browser's WebRTC stack)
// only once it is one of the shapes simple-peer sends.
//   { a: attemptId, k: 'knock' }            please initiate to me
//   { a: attemptId, k: 'sdp', s: <signal> } an offer, answer or candidate,
//                                           or a tab pipe's name (browser/tab-pipe.ts)
import { isPlainObject } from './signaling'

/** a signal is an SDP or a candidate: a few KiB; more is not one */
const MAX_SIGNAL_JSON = 12 * 1024
const ATTEMPT_ID = /^[A-Za-z0-9]{1,32}$/
/** `meshkeeper-pipe:` and 24 hex characters: what a tab pipe's signal may name (browser/tab-pipe.ts) */
export const PIPE_NAME = /^meshkeeper-pipe:[0-9a-f]{24}$/

export type ParsedSignal = { a: string; k: 'knock' } | { a: string; k: 'sdp'; s: Record<string, unknown> }

/** Check a signal payload from an untrusted channel. */
export function parseSignal(data: unknown): ParsedSignal | null {
  if (!isPlainObject(data) || typeof data.a !== 'string') return null
  if (data.k === 'knock') return { a: data.a, k: 'knock' }
  if (data.k !== 'sdp' || !ATTEMPT_ID.test(data.a) || !isPlainObject(data.s)) return null
  const s = data.s
  // a structured object (BroadcastChannel) may nest past the engine's stack:
  // stringify then throws RangeError, which must be a refusal, not a crash
  let json: string
  try {
    json = JSON.stringify(s)
  } catch {
    return null
  }
  if (json.length > MAX_SIGNAL_JSON) return null
  if (s.type === 'pipe') return (typeof s.pipe === 'string' && PIPE_NAME.test(s.pipe)) || s.off === true ? { a: data.a, k: 'sdp', s } : null
  const okType = s.type === 'offer' || s.type === 'answer' ? typeof s.sdp === 'string' : s.type === 'candidate' ? isPlainObject(s.candidate) : s.renegotiate === true || isPlainObject(s.transceiverRequest)
  return okType ? { a: data.a, k: 'sdp', s } : null
}
