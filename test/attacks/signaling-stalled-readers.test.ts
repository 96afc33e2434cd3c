// Attack: sockets that stop reading. The server queued what it relayed to them
// without end (~5 MiB of RSS per socket, never returned). Now a socket with
// more than maxBufferedBytes queued is cut, and the bytes the server holds for
// its sockets are bounded and reported in /health (bufferedBytes).
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../src/server/index'
import type { TestClient } from '../server/test-client'
import { signalingHarness } from './signaling-harness'

const { server, client } = signalingHarness()

const pause = (c: TestClient): void => (c.ws as unknown as { _socket: { pause(): void } })._socket.pause()

describe('attack: clients that stop reading', () => {
  it('cuts each stalled socket before the server holds more than maxBufferedBytes (+ one message) for it', async () => {
    // the default limits, except the sender's rate, which the flood needs
    const s = await server({ limits: { messagesPerSecond: 1e6, messageBurst: 1e6 } })
    const sender = await client(s)
    await sender.join('r', 'sender')
    const stalled: TestClient[] = []
    for (let i = 0; i < 4; i++) {
      const c = await client(s)
      await c.join('r', `stalled-${i}`)
      pause(c)
      stalled.push(c)
    }
    const chunk = 'x'.repeat(60 * 1024)
    let mostHeld = 0
    for (let i = 0; i < stalled.length; i++) {
      let cut = false
      void stalled[i]!.closed.then(() => (cut = true))
      // kernel buffers absorb the first megabytes; the server's queue grows after
      for (let n = 0; n < 2_000 && !cut && s.health().sockets > stalled.length - i; n++) {
        sender.send({ type: 'signal', room: 'r', to: `stalled-${i}`, data: chunk })
        if (n % 2 === 1) {
          await sender.sync()
          mostHeld = Math.max(mostHeld, s.health().bufferedBytes)
        }
      }
      await sender.sync()
      expect(s.health().sockets).toBe(stalled.length - i)
    }
    expect(mostHeld).toBeGreaterThan(0)
    expect(mostHeld).toBeLessThanOrEqual(DEFAULT_LIMITS.maxBufferedBytes + 2 * DEFAULT_LIMITS.maxMessageBytes)
    expect(DEFAULT_LIMITS.maxBufferedBytes).toBeLessThanOrEqual(1024 * 1024)
    await sender.sync()
    expect(s.health()).toMatchObject({ sockets: 1, bufferedBytes: 0 })
  })
})
