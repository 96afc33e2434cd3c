// Whether a socket is in the middle of sending a message: a first fragment
// (FIN=0) whose continuation has not come, or a frame whose header has come
// and its payload not yet. ws holds those bytes until the message completes,
// and without a deadline a client could begin a message and never finish it,
// keeping its socket and up to maxPayload of server memory forever.
//
// ws does not expose this, so we read its Receiver's state (ws 8: `_fragments`
// holds the pieces of a fragmented message, `_bufferedBytes` the part of a
// frame not yet parsed). Should a future ws rename them, this reads `false`
// and only the deadline to a first join still applies; the attack test
// test/attacks/signaling-unfinished-message.test.ts fails then.
import type { WebSocket } from 'ws'

interface ReceiverState {
  _fragments?: unknown[]
  _bufferedBytes?: number
}

export function messageInProgress(ws: WebSocket): boolean {
  const receiver = (ws as unknown as { _receiver?: ReceiverState | null })._receiver
  if (receiver === null || receiver === undefined) return false
  return (receiver._fragments?.length ?? 0) > 0 || (receiver._bufferedBytes ?? 0) > 0
}
