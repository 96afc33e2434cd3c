// Signaling mistakes reach the app: a signaling server that cannot be reached
// (a typo in the URL, a server down) or that refuses us would otherwise leave
// the mesh silently limited to one browser. The channels that report errors
// (WebSocketSignaling.onError) are joined to the transport's own `onError`,
// the one path by which transport errors become `error` events
// (client/transport-errors.ts), as TransportErrors with a MeshError code.
import { TransportError, type TransportErrorCode } from './errors'
import type { SignalingChannel } from './signaling'

interface ReportsErrors {
  onError(fn: (err: TransportError) => void): () => void
}

interface ChannelWithErrors extends SignalingChannel {
  onError(fn: (code: string, message: string) => void): () => void
}

const hasErrors = (c: SignalingChannel): c is ChannelWithErrors => typeof (c as Partial<ChannelWithErrors>).onError === 'function'

/** The codes a signaling server sends, as the transport spells them: what is
 *  ours passes, a refusal (ROOM_FULL, RATE_LIMITED, DUPLICATE_PEER) means the
 *  server will not serve us: UNAVAILABLE. */
function transportCode(code: string): TransportErrorCode {
  return code === 'BAD_MESSAGE' || code === 'TOO_LARGE' || code === 'BAD_ARGUMENTS' || code === 'UNAVAILABLE' ? code : 'UNAVAILABLE'
}

/** Make `transport.onError` also deliver the errors of `channels` (those that
 *  report any); returns the same transport. */
export function reportSignalingErrors<T extends ReportsErrors>(transport: T, channels: readonly SignalingChannel[]): T {
  const sources = channels.filter(hasErrors)
  if (sources.length === 0) return transport
  const own = transport.onError.bind(transport)
  transport.onError = (fn) => {
    const offs = [
      own(fn),
      ...sources.map((c) => c.onError((code, message) => fn(new TransportError(transportCode(code), code === transportCode(code) ? message : `${code}: ${message}`)))),
    ]
    return () => {
      for (const off of offs) off()
    }
  }
  return transport
}
