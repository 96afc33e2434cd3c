// What the signaling attack tests share: real servers on 127.0.0.1 port 0,
// real sockets, everything closed after each test.
import { afterEach } from 'vitest'
import { startSignalingServer, type SignalingServer, type SignalingServerOptions } from '../../src/server/index'
import { TestClient } from '../server/test-client'

export function signalingHarness() {
  const servers: SignalingServer[] = []
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate()
    for (const s of servers.splice(0)) await s.close()
  })
  return {
    async server(options: SignalingServerOptions = {}): Promise<SignalingServer> {
      const s = await startSignalingServer({ port: 0, host: '127.0.0.1', ...options })
      servers.push(s)
      return s
    },
    async client(s: SignalingServer, options: { localAddress?: string; autoPong?: boolean } = {}): Promise<TestClient> {
      const c = await TestClient.connect(s.url, options)
      clients.push(c)
      return c
    },
  }
}
