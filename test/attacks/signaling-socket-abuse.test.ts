// Attack: whatever else one socket can send. Control-frame pings bypassed the
// message rate and were answered with pongs queued without bound to a socket
// that does not read; now a ping costs a token like a message and its pong
// goes through the same buffered-bytes check. Huge room names, many rooms and
// binary frames were already refused; these tests keep them so.
import { describe, expect, it } from 'vitest'
import { OP_PING, rawWebSocket } from './raw-websocket'
import { signalingHarness } from './signaling-harness'

const { server, client } = signalingHarness()

describe('attack: abuse from one socket', () => {
  it('drops a socket that floods control-frame pings without reading the pongs', async () => {
    const s = await server({ limits: { maxViolations: 5 } })
    const honest = await client(s)
    const raw = await rawWebSocket(s.url)
    raw.socket.pause()
    const payload = Buffer.alloc(125, 1)
    for (let i = 0; i < 20_000 && s.health().sockets > 1; i++) {
      raw.frame(OP_PING, payload)
      // let the server read: the flood arrives over time, as it would
      if (i % 100 === 99) await honest.sync()
    }
    // (a client that does not read never sees its socket close: ask the server)
    await honest.sync()
    expect(s.health()).toMatchObject({ sockets: 1, bufferedBytes: 0 })
  })

  it('refuses room names over the limit, rooms past maxRoomsPerSocket, and binary frames', async () => {
    const s = await server()
    const a = await client(s)
    a.send({ type: 'join', room: 'r'.repeat(60_000), peer: 'a' })
    expect(await a.next('error')).toMatchObject({ code: 'BAD_MESSAGE' })
    for (let i = 0; i < 8; i++) await a.join(`room-${i}`, 'a')
    a.send({ type: 'join', room: 'room-8', peer: 'a' })
    expect(await a.next('error')).toMatchObject({ code: 'ROOM_FULL' })
    expect(s.health().rooms).toBe(8)
    a.ws.send(Buffer.alloc(1000))
    expect(await a.closed).toBe(1003)
    expect(s.health()).toMatchObject({ rooms: 0, sockets: 0 })
  })
})
