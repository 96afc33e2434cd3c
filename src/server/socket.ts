// What the hub does to a `ws` socket below the protocol: measure and read a
// frame as ws hands it over (a Buffer, an ArrayBuffer, or the fragments of a
// message), and close a socket without a throw. Apart from hub.ts so that the
// hub reads as the protocol; these know nothing of rooms or peers.
import type { RawData, WebSocket } from 'ws'

/** The size of a frame in bytes, before any of it is decoded. */
export function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0)
  return data.byteLength
}

/** A text frame's text. */
export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}

/** Close with a close frame; a socket that cannot take one (ws throws on a
 *  bad state) is cut instead. */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason)
  } catch {
    ws.terminate()
  }
}
