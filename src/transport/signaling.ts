// Signaling: how peers of a room find each other and pass the WebRTC offer,
// answer and ICE candidates before a link exists. Implementations: one
// browser's BroadcastChannel (broadcast-channel-signaling.ts), WebSocket
// signaling servers (websocket-signaling.ts); the mesh transport also relays
// signaling over links it already has (relay.ts).
//
// A channel is untrusted: whatever it hands over is validated by the mesh
// transport (signal-parse.ts) before use, and with a room secret the payloads are
// sealed end to end so a relay can neither read nor forge them.

/** JSON-safe signal payload; the mesh transport defines and checks its shape. */
export type SignalData = Record<string, unknown>

export interface SignalingChannel {
  /** a short name for diagnostics ('broadcast', 'ws://host:4444') */
  readonly name: string
  /** whether a signal sent now can get through (a WebSocket that is down: false) */
  readonly connected: boolean
  /** every peer it reaches is a page of this browser profile (BroadcastChannel):
   *  a link to one can go through a tab pipe first (browser/piped-peer.ts) */
  readonly sameBrowser?: true
  /** enter `room` as `peer` (the peer's signaling id) and announce ourselves */
  join(room: string, peer: string): void
  /** a peer of the room appeared (present) or left, as far as this channel knows */
  onPeer(fn: (peer: string, present: boolean) => void): () => void
  /** pass `data` to peer `to` of the room (best effort) */
  signal(to: string, data: SignalData): void
  /** data from peer `from` of the room */
  onSignal(fn: (from: string, data: SignalData) => void): () => void
  /** leave the room and stop */
  close(): void
  /** a channel for another room over the same connection (the same server
   *  socket, the same browser), not yet joined; the lobby (lobby.ts) uses it.
   *  A channel without one has no lobby: a wrong secret is not told there. */
  sibling?(): SignalingChannel
}

/** A tiny listener set shared by the channels. */
export class Listeners<A extends unknown[]> {
  private readonly fns = new Set<(...args: A) => void>()

  add(fn: (...args: A) => void): () => void {
    this.fns.add(fn)
    return () => this.fns.delete(fn)
  }

  emit(...args: A): void {
    for (const fn of [...this.fns]) {
      try {
        fn(...args)
      } catch (err) {
        // one listener's bug must not silence the others
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }

  clear(): void {
    this.fns.clear()
  }
}

export const isPlainObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

/** Signaling ids: what the signaling server accepts too (src/server/limits). */
export const SIGNAL_ID_PATTERN = /^[A-Za-z0-9._~:@+=/-]{1,128}$/
