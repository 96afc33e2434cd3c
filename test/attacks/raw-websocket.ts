// A WebSocket client written by hand over a TCP socket, for attacks that a
// well-behaved library will not perform: unfinished fragments, bare control
// frames, writes that never complete.
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

export interface RawWebSocket {
  socket: Socket
  /** resolves when the server closes or resets the TCP connection */
  ended: Promise<void>
  /** write one client frame (masked, as RFC 6455 requires of clients) */
  frame(opcode: number, payload: Buffer | string, fin?: boolean): void
}

export async function rawWebSocket(url: string): Promise<RawWebSocket> {
  const { hostname, port, pathname } = new URL(url)
  const socket = connect(Number(port), hostname)
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(
    `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  await new Promise<void>((resolve, reject) => {
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      if (head.startsWith('HTTP/1.1 101')) resolve()
      else reject(new Error(head.split('\r\n')[0]))
    }
    socket.on('data', onData)
  })
  // keep reading (and discarding) what the server sends afterwards
  socket.on('data', () => {})
  const frame = (opcode: number, payload: Buffer | string, fin = true): void => {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload
    if (body.length > 65_535) throw new Error('raw frames here stay small')
    const head = body.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | body.length]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, body.length >> 8, body.length & 0xff])
    const mask = randomBytes(4)
    const masked = Buffer.from(body.map((b, i) => b ^ mask[i % 4]!))
    if (!socket.destroyed) socket.write(Buffer.concat([head, mask, masked]))
  }
  return { socket, ended, frame }
}

export const OP_CONTINUATION = 0x0
export const OP_TEXT = 0x1
export const OP_PING = 0x9
