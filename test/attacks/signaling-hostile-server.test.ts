// Attack: a hostile (or broken) signaling server sends a member frames nested
// thousands deep, and garbage. The member's transport walked the signal data
// recursively (parseSignal's JSON.stringify): RangeError thrown from a
// listener, rethrown as an uncaught exception, and a Node member's process
// exited. Now WebSocketSignaling measures a frame's depth on its text before
// anything walks it; whatever a server sends is reported as a typed error
// (onError with a code) or ignored, never thrown.
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { parseSignal } from '../../src/transport/signal-parse'
import { WebSocketSignaling, type WebSocketConstructor } from '../../src/transport/websocket-signaling'

const cleanup: Array<() => void> = []
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn()
})

async function hostileServer() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const joined = new Promise<WebSocket>((resolve) => wss.on('connection', (socket) => socket.once('message', () => resolve(socket))))
  cleanup.push(() => {
    for (const s of wss.clients) s.terminate()
    wss.close()
  })
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, joined }
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

describe('attack: a hostile signaling server', () => {
  it('cannot crash a member with frames nested thousands deep, or with garbage; each is a typed error', async () => {
    const srv = await hostileServer()
    const errors: Array<{ code: string; message: string }> = []
    const ch = new WebSocketSignaling(srv.url, {
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      onError: (code, message) => errors.push({ code, message }),
    })
    cleanup.push(() => ch.close())
    const seen: string[] = []
    // what the mesh transport does with a signal: parse it (it walks the value)
    ch.onSignal((from, data) => seen.push(`${from} ${parseSignal(data) === null ? 'refused' : 'parsed'}`))
    ch.onPeer((peer, present) => seen.push(`${present ? '+' : '-'}${peer}`))
    ch.join('room', 'me/tab')
    const socket = await srv.joined
    const hostile = [
      `{"type":"signal","room":"room","from":"evil/tab","data":{"a":"x","k":"sdp","s":${deepObject(4_500)}}}`,
      `{"type":"signal","room":"room","from":"evil/tab","data":{"deep":${nested(4_500)}}}`,
      `{"type":"peers","room":"room","peers":${nested(4_500)}}`,
      `{"type":"error","code":${nested(4_500)},"message":${nested(4_500)}}`,
      `{"type":"error","code":{"toString":1},"message":null}`,
      nested(200_000),
      'garbage',
      '',
      '{"type":"signal","room":"room","from":"evil/tab","data":"x"',
    ]
    for (const frame of hostile) socket.send(frame)
    socket.send(Buffer.from([0xff, 0x00, 0x13]))
    // then an honest frame: everything before it has been handled
    socket.send(JSON.stringify({ type: 'joined', room: 'room', peer: 'friend/tab' }))
    await expect.poll(() => seen).toEqual(['+friend/tab'])
    expect(errors.map((e) => e.code)).toEqual(['BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE'])
    for (const e of errors) expect(e.message.length).toBeLessThan(500)
    expect(ch.connected).toBe(true)
  })
})
