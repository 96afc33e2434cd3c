// Curator's locks on the sequential-lock engine: a fair FIFO mutex, a
// read-write lock (fair; a waiting writer holds back later readers, so writers
// are not starved) and a counting semaphore.
import { MeshError } from '../shared/errors'
import type { MeshCore, Mutex } from '../shared/types'
import type { HoldRule } from './sequential-lock'
import { SequentialLock } from './sequential-lock'

/** Hold when first; otherwise wait for the one just before. */
const exclusive: HoldRule = (contenders, mine) => (mine === 0 ? { hold: true } : { node: contenders[mine - 1]!.name })

/** A reader holds unless a writer came before it; it waits for the last such writer. */
const shared: HoldRule = (contenders, mine) => {
  for (let i = mine - 1; i >= 0; i--) if (contenders[i]!.kind === 'write-') return { node: contenders[i]!.name }
  return { hold: true }
}

export function mutex(mesh: MeshCore, path: string): Mutex {
  return new SequentialLock(mesh, { path, kind: 'lock-', kinds: ['lock-'], rule: exclusive })
}

export function readWriteLock(mesh: MeshCore, path: string): { read: Mutex; write: Mutex } {
  const kinds = ['read-', 'write-']
  return {
    read: new SequentialLock(mesh, { path, kind: 'read-', kinds, rule: shared }),
    write: new SequentialLock(mesh, { path, kind: 'write-', kinds, rule: exclusive }),
  }
}

export function semaphore(mesh: MeshCore, path: string, permits: number): Mutex {
  if (!Number.isSafeInteger(permits) || permits < 1) throw new MeshError('BAD_ARGUMENTS', `permits must be a positive integer, got ${permits}`, { path })
  // Any departure ahead may admit us, so watch the children (a bounded herd:
  // only contenders beyond the permits wait).
  return new SequentialLock(mesh, { path, kind: 'lease-', kinds: ['lease-'], rule: (_c, mine) => (mine < permits ? { hold: true } : { children: true }) })
}
