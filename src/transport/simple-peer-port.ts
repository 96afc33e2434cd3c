// The seam between simple-peer and our links. `PeerLike` is the slice of a
// simple-peer instance we use, so the same code runs on the package build
// (Node, with @roamhq/wrtc) and on its prebuilt browser bundle. A PeerFactory
// makes one; pick it with simple-peer-browser.ts or simple-peer-node.ts.
import type { FramePort } from './link'

export interface PeerLike {
  signal(data: unknown): void
  /** stream write: false when the data channel is backed up (wait for 'drain') */
  write(chunk: Uint8Array): boolean
  destroy(err?: Error): void
  on(event: 'signal' | 'connect' | 'data' | 'drain' | 'close' | 'error', fn: (...args: never[]) => void): unknown
}

export interface PeerFactoryOptions {
  initiator: boolean
  /** RTCPeerConnection configuration (iceServers) */
  config?: RTCConfiguration
}

export type PeerFactory = (opts: PeerFactoryOptions) => PeerLike

/** A FramePort over a connected simple-peer instance. simple-peer's stream
 *  write holds its callback while the channel's bufferedAmount is above
 *  64 KiB, so write() returning false and 'drain' give us backpressure
 *  without touching the channel. */
export function simplePeerPort(peer: PeerLike): FramePort {
  let closed = false
  let lastError: string | null = null
  return {
    write(frame) {
      if (closed) return true
      return peer.write(frame)
    },
    attach(events) {
      peer.on('data', (data: Uint8Array) => events.frame(data))
      peer.on('drain', () => events.drain())
      peer.on('error', (err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err)
      })
      peer.on('close', () => {
        if (closed) return
        closed = true
        events.close(lastError === null ? 'closed by peer' : `failed: ${lastError}`)
      })
    },
    close() {
      if (closed) return
      closed = true
      peer.destroy()
    },
  }
}
