// Sealed signals, under a room key: every signaling payload is sealed end to
// end (AES-GCM, bound to sender and receiver, room-sealer.ts), so a relay or
// a signaling server reads nothing and a peer without the secret cannot even
// start a WebRTC connection; and every sealed signal carries, inside the
// seal, a time and a nonce, so a recorded one cannot be replayed
// (signal-freshness.ts). What does not open, or is not fresh, is dropped
// before it takes a table entry, and reported at most once per sender per
// window (the context's reportSignaling, report-throttle.ts).
import { TransportError } from './errors'
import type { MeshContext } from './mesh-context'
import type { SignalSealer } from './room-sealer'
import type { SignalFreshness } from './signal-freshness'
import { isPlainObject } from './signaling'
import type { SignalData } from './signaling'

const SIGNAL_CONTEXT = (from: string, to: string) => `signal:${from}->${to}`

export class SignalEnvelope {
  constructor(
    private readonly ctx: MeshContext,
    private readonly sealer: SignalSealer,
    private readonly freshness: SignalFreshness,
  ) {}

  /** `payload` sealed for peer `to`, stamped inside the seal; throws if sealing fails */
  async seal(payload: SignalData, to: string): Promise<SignalData> {
    return { sealed: await this.sealer.seal(JSON.stringify({ ...payload, ...this.freshness.stamp() }), SIGNAL_CONTEXT(this.ctx.selfId, to)) }
  }

  /** open a sealed signal and check it is fresh; null (reported at most once a window) if not */
  async open(from: string, member: string, raw: SignalData): Promise<Record<string, unknown> | null> {
    const report = (err: TransportError) => this.ctx.reportSignaling(from, err)
    if (typeof raw.sealed !== 'string') return report(new TransportError('UNAUTHORIZED', `unsealed signal from ${from}`, member))
    let data: unknown
    try {
      data = JSON.parse(await this.sealer.open(raw.sealed, SIGNAL_CONTEXT(from, this.ctx.selfId)))
    } catch {
      return report(new TransportError('UNAUTHORIZED', `signal from ${from} does not open under the room key`, member))
    }
    if (!isPlainObject(data)) return report(new TransportError('BAD_MESSAGE', `malformed signal from ${from}`, member))
    const stale = this.freshness.check(from, data.t, data.n)
    // a replay is a relay's or a server's doing, and the original was taken: nothing to tell
    if (stale === 'replay') return null
    if (stale === 'stale') return report(new TransportError('BAD_MESSAGE', `signal from ${from} is outside the time window (clocks apart, or a replay)`, member))
    if (stale === 'malformed') return report(new TransportError('BAD_MESSAGE', `signal from ${from} carries no time and nonce`, member))
    return data
  }
}
