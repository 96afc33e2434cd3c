// A signaling client for tests: a real WebSocket that queues what the server
// sends, so a test can await the next message of a type in order.
import { WebSocket } from 'ws'
import type { ServerMessage } from '../../src/server/protocol'

export class TestClient {
  readonly received: ServerMessage[] = []
  private waiters: Array<() => void> = []
  closeCode: number | null = null
  readonly closed: Promise<number>

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as ServerMessage)
      this.wake()
    })
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code
        this.wake()
        resolve(code)
      }),
    )
  }

  static connect(url: string, options: { autoPong?: boolean; origin?: string; localAddress?: string } = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options)
    const client = new TestClient(ws)
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client))
      ws.once('error', reject)
    })
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg))
  }

  /** The next message of `type` not yet taken (earlier other types stay queued). */
  async next<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type)
      if (i >= 0) return this.received.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode}) while waiting for ${type}`)
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Everything received so far, taken out of the queue. */
  drain(): ServerMessage[] {
    return this.received.splice(0)
  }

  /** A round trip: every message the server sent before its pong has arrived. */
  async sync(): Promise<void> {
    this.send({ type: 'ping' })
    await this.next('pong')
  }

  async join(room: string, peer: string): Promise<string[]> {
    this.send({ type: 'join', room, peer })
    return (await this.next('peers')).peers
  }

  close(): void {
    this.ws.close()
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }
}
