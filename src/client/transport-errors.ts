// A transport's refusals reach the app as `error` events on the member: a peer
// that cannot prove the room secret (UNAUTHORIZED), bytes we will not accept
// (BAD_MESSAGE), a message above the bound (TOO_LARGE). The Mesh assembler
// (assemble.ts) forwards them through here for every Mesh it builds.
//
// A transport reports from the moment it opens, but the app can listen only
// once it holds the Mesh: joinMesh listens for peers for seconds before it
// starts the member, and a wrong secret shows exactly there (the first sealed
// signal that does not open). So what is reported before the Mesh exists is
// held and handed over on the first task after the Mesh is returned, when an
// app that subscribed right after `await joinMesh(...)` is listening.
import type { Member } from '../driver/member'
import type { Transport } from '../transport/types'
import { toMeshError } from '../shared/errors'

/** errors held before the Mesh exists; a hostile peer can report many, the first ones say enough */
const MAX_HELD = 32

/** A transport that reports refusals (MeshTransport does; the in-memory and
 *  virtual transports need not: the Transport contract has no onError). */
interface ReportsErrors {
  onError(fn: (err: unknown) => void): () => void
}

function reportsErrors(transport: Transport): transport is Transport & ReportsErrors {
  return typeof (transport as Partial<ReportsErrors>).onError === 'function'
}

type Emits = Pick<Member, 'emit'>

/** as a MeshError (BAD_MESSAGE when it names no code we know) */
const emitError = (member: Emits, err: unknown): void => member.emit('error', [toMeshError(err, 'BAD_MESSAGE')])

export interface HeldTransportErrors {
  /** forward to the member from now on and hand it what was held, on the next
   *  task; returns the unsubscribe, to call on close */
  forwardTo(member: Emits): () => void
  /** stop holding (the start failed: nobody will listen) */
  drop(): void
}

/** Hold what the transport reports from now until forwardTo. */
export function holdTransportErrors(transport: Transport): HeldTransportErrors {
  const held: unknown[] = []
  const hold = (err: unknown): void => {
    if (held.length < MAX_HELD) held.push(err)
  }
  const stopHolding = reportsErrors(transport) ? transport.onError(hold) : () => { /* a transport without onError reports nothing to stop holding */ }
  return {
    forwardTo(member) {
      stopHolding()
      const off = forwardTransportErrors(transport, member)
      const handOver = held.splice(0)
      const timer = handOver.length === 0 ? null : setTimeout(() => handOver.forEach((err) => emitError(member, err)), 0)
      return () => {
        if (timer !== null) clearTimeout(timer)
        off()
      }
    },
    drop: () => {
      stopHolding()
      held.length = 0
    },
  }
}

/** Emit each error the transport reports on the member. Returns the
 *  unsubscribe, to call on close (a no-op for a transport without onError). */
function forwardTransportErrors(transport: Transport, member: Emits): () => void {
  if (!reportsErrors(transport)) return () => { /* no onError: nothing to unsubscribe */ }
  return transport.onError((err) => emitError(member, err))
}
