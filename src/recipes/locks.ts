// Curator's locks on the sequential-lock engine: a fair FIFO mutex, a
// read-write lock (fair; a waiting writer holds back later readers, so writers
// are not starved) and a counting semaphore.
import { MeshError } from '../shared/errors'
import type { MeshCore, Mutex } from '../shared/types'
import type { HoldRule } from './sequential-lock'
import { SequentialLock } from './sequential-lock'
import { realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'

/** Hold when first; otherwise wait for the one just before. */
const exclusive: HoldRule = (contenders, mine) => (mine === 0 ? { hold: true } : { node: contenders[mine - 1]!.name })

/** A reader holds unless a writer came before it; it waits for the last such writer. */
const shared: HoldRule = (contenders, mine) => {
  for (let i = mine - 1; i >= 0; i--) if (contenders[i]!.kind === 'write-') return { node: contenders[i]!.name }
  return { hold: true }
}

/** `clock` times `acquire`'s `timeoutMs` (default the platform's timers; a Mesh's `lock` gets its own) */
export function mutex(mesh: MeshCore, path: string, clock: Clock = realClock): Mutex {
  return new SequentialLock(mesh, { path, kind: 'lock-', kinds: ['lock-'], rule: exclusive }, clock)
}

export function readWriteLock(mesh: MeshCore, path: string, clock: Clock = realClock): { read: Mutex; write: Mutex } {
  const kinds = ['read-', 'write-']
  return {
    read: new SequentialLock(mesh, { path, kind: 'read-', kinds, rule: shared }, clock),
    write: new SequentialLock(mesh, { path, kind: 'write-', kinds, rule: exclusive }, clock),
  }
}

export function semaphore(mesh: MeshCore, path: string, permits: number, clock: Clock = realClock): Mutex {
  if (!Number.isSafeInteger(permits) || permits < 1) throw new MeshError('BAD_ARGUMENTS', `permits must be a positive integer, got ${permits}`, { path })
  // Any departure ahead may admit us, so watch the children (a bounded herd:
  // only contenders beyond the permits wait).
  return new SequentialLock(mesh, { path, kind: 'lease-', kinds: ['lease-'], rule: (_c, mine) => (mine < permits ? { hold: true } : { children: true }) }, clock)
}
