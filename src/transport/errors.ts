// TransportError: what the transport throws or reports. Codes are spelled
// like MeshError's (src/shared/errors), so `toMeshError` passes them through.
//  - CLOSED: send on a link (or transport) that is closed
//  - UNAUTHORIZED: a peer that cannot prove the room secret
//  - BAD_MESSAGE: a peer (or signaling channel) sent bytes we will not accept
//  - TOO_LARGE: a message above the link's bound
//  - BAD_ARGUMENTS: a configuration error (bad id, no signaling channel...)
//  - UNAVAILABLE: a signaling server cannot be reached, or refuses us (room full)
export type TransportErrorCode = 'CLOSED' | 'UNAUTHORIZED' | 'BAD_MESSAGE' | 'TOO_LARGE' | 'BAD_ARGUMENTS' | 'UNAVAILABLE'

export class TransportError extends Error {
  readonly code: TransportErrorCode
  /** the peer concerned, when there is one */
  readonly peer?: string

  constructor(code: TransportErrorCode, message: string, peer?: string) {
    super(`${code}: ${message}`)
    this.name = 'TransportError'
    this.code = code
    if (peer !== undefined) this.peer = peer
  }
}
