// Attack: a message begun and never finished (a text frame with FIN=0 and no
// continuation) was held by the server forever, with its socket; so was a
// socket that connected and never joined. Now an unfinished message has
// messageDeadlineMs to complete (control frames in between do not extend it),
// a socket has joinDeadlineMs to join its first room, and a message may not
// come in more than maxFragments pieces.
import { describe, expect, it } from 'vitest'
import { OP_CONTINUATION, OP_PING, OP_TEXT, rawWebSocket } from './raw-websocket'
import { signalingHarness } from './signaling-harness'

const { server, client } = signalingHarness()

describe('attack: unfinished messages and idle sockets', () => {
  it('cuts a socket whose fragmented message is never finished, even while it keeps pinging', async () => {
    const s = await server({ limits: { messageDeadlineMs: 300, joinDeadlineMs: 60_000 } })
    const honest = await client(s)
    await honest.join('r', 'honest')
    const raw = await rawWebSocket(s.url)
    raw.frame(OP_TEXT, '{"type":"join","room":"r","peer":"slow"}')
    raw.frame(OP_TEXT, '{"type":"signal","room":"r","to":"honest","data":"', false)
    const pinging = setInterval(() => raw.frame(OP_PING, 'still here'), 50)
    await raw.ended
    clearInterval(pinging)
    // it was in the room: the others hear it left
    expect(await honest.next('left')).toEqual({ type: 'left', room: 'r', peer: 'slow' })
    expect(s.health().sockets).toBe(1)
  })

  it('keeps a socket that finishes its fragmented message in time', async () => {
    const s = await server({ limits: { messageDeadlineMs: 60_000, joinDeadlineMs: 60_000 } })
    const honest = await client(s)
    await honest.join('r', 'honest')
    const raw = await rawWebSocket(s.url)
    raw.frame(OP_TEXT, '{"type":"join","room":"r","peer":"frag"}')
    expect(await honest.next('joined')).toEqual({ type: 'joined', room: 'r', peer: 'frag' })
    raw.frame(OP_TEXT, '{"type":"signal","room":"r",', false)
    raw.frame(OP_CONTINUATION, '"to":"honest","data":1}', true)
    expect(await honest.next('signal')).toEqual({ type: 'signal', room: 'r', from: 'frag', data: 1 })
  })

  it('cuts a socket that never joins a room within joinDeadlineMs', async () => {
    const s = await server({ limits: { joinDeadlineMs: 300 } })
    const idle = await client(s)
    expect(await idle.closed).toBe(1008)
    expect(s.health().sockets).toBe(0)
  })

  it('cuts a socket that sends one message in more than maxFragments pieces', async () => {
    const s = await server({ limits: { maxFragments: 8 } })
    const raw = await rawWebSocket(s.url)
    raw.frame(OP_TEXT, '', false)
    for (let i = 0; i < 100 && !raw.socket.destroyed; i++) raw.frame(OP_CONTINUATION, '', false)
    await raw.ended
    expect(s.health().sockets).toBe(0)
  })
})
