// Writes issued on the native object stores of an idb transaction.
//
// idb wraps every request in a promise of its own (listeners, a promise, a
// result wrapper). Inside one readwrite transaction a write needs none of
// that: a request that fails fails its transaction (its error event, left
// unhandled, aborts it), so awaiting the transaction's completion (`tx.done`,
// which rejects with the transaction's error) says everything the requests'
// promises would. A profile of a leader tab under 64 concurrent writers found
// the wrapping at 5-9% of the tab's time. Reads keep idb's promises: they need
// their results.
import { unwrap, type IDBPTransaction } from 'idb'
import type { MeshkeeperDb, StoreName } from './idb-schema'

/** A readwrite transaction of ours over the stores `S`. */
export type WriteTx<S extends ArrayLike<StoreName>> = IDBPTransaction<MeshkeeperDb, S, 'readwrite'>

/** The writes of one store, typed by the schema; nothing to await per request. */
export interface RawStore<N extends StoreName> {
  put(value: MeshkeeperDb[N]['value'], key: MeshkeeperDb[N]['key']): void
  delete(key: MeshkeeperDb[N]['key'] | IDBKeyRange): void
}

/** The native object store `name` of a readwrite transaction. */
export function rawStore<S extends ArrayLike<StoreName>, N extends S[number]>(tx: WriteTx<S>, name: N): RawStore<N> {
  return unwrap(tx).objectStore(name)
}

/** Abort a transaction whose requests could not all be issued (a request
 *  threw synchronously: quota, clone error), so none of them commits. */
export function abortQuietly<S extends ArrayLike<StoreName>>(tx: WriteTx<S>): void {
  // its rejection is the caller's thrown error's business, not an unhandled one
  void tx.done.catch(() => undefined)
  try {
    tx.abort()
  } catch {
    // already finished or aborted by the platform: nothing was committed either way
  }
}
