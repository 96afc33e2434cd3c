// A transport's refusals reach the app as `error` events on the member: a peer
// that cannot prove the room secret (UNAUTHORIZED), bytes we will not accept
// (BAD_MESSAGE), a message above the bound (TOO_LARGE). joinMesh,
// joinMeshFromNode and startMesh all forward them through here.
import type { Member } from '../node/member'
import type { Transport } from '../transport/types'
import { toMeshError } from './errors'

/** A transport that reports refusals (MeshTransport does; the in-memory and
 *  virtual transports need not: the Transport contract has no onError). */
interface ReportsErrors {
  onError(fn: (err: unknown) => void): () => void
}

function reportsErrors(transport: Transport): transport is Transport & ReportsErrors {
  return typeof (transport as Partial<ReportsErrors>).onError === 'function'
}

/** Emit each error the transport reports on the member, as a MeshError
 *  (BAD_MESSAGE when it names no code we know). Returns the unsubscribe, to
 *  call on close (a no-op for a transport without onError). */
export function forwardTransportErrors(transport: Transport, member: Pick<Member, 'emit'>): () => void {
  if (!reportsErrors(transport)) return () => {}
  return transport.onError((err) => member.emit('error', [toMeshError(err, 'BAD_MESSAGE')]))
}
