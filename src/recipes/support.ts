// What every recipe needs beside the znode calls: deadlines from `timeoutMs` /
// `AbortSignal` on the clock the recipe was given (a Mesh hands its recipes
// its own, virtual in the simulator), parent creation, and the ordering of
// sequential node names.
import { MeshError } from '../shared/errors'
import type { CreateMode, Data, MeshCore, Stat, WatchEvent } from '../shared/types'
import { MAX_TIMER_MS } from '../shared/clock'
import type { Clock } from '../shared/clock'

export interface WaitOpts {
  signal?: AbortSignal
  timeoutMs?: number
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
}

/**
 * The time a recipe call may take: `timeoutMs` (a MeshError TIMEOUT) and an
 * AbortSignal (its reason, as `fetch` does). `race` makes any promise give
 * way to either; `dispose` frees the timer.
 */
export class Deadline {
  private timer: unknown = null
  private expired: unknown = null
  private readonly listeners = new Set<(reason: unknown) => void>()
  private readonly onAbort = () => this.fail(abortReason(this.signal!))

  constructor(
    private readonly timers: Clock,
    private readonly signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ) {
    if (timeoutMs !== undefined) {
      // a platform timer fires at once past MAX_TIMER_MS: 2^31 or Infinity would give up immediately
      if (!(timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS)) throw new MeshError('BAD_ARGUMENTS', `timeoutMs must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${timeoutMs}`)
      this.timer = timers.setTimeout(() => this.fail(new MeshError('TIMEOUT', `gave up after ${timeoutMs} ms`)), timeoutMs)
    }
    if (signal) {
      if (signal.aborted) this.expired = abortReason(signal)
      else signal.addEventListener('abort', this.onAbort, { once: true })
    }
  }

  private fail(reason: unknown): void {
    if (this.expired !== null) return
    this.expired = reason
    for (const l of this.listeners) l(reason)
    this.listeners.clear()
  }

  /** throws if the deadline has passed or the signal aborted */
  check(): void {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the abort signal's reason (or our MeshError), passed through as it came, as fetch does
    if (this.expired !== null) throw this.expired
  }

  /** `p`, unless the deadline passes first */
  race<T>(p: Promise<T>): Promise<T> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the abort signal's reason (or our MeshError), passed through as it came, as fetch does
    if (this.expired !== null) return Promise.reject(this.expired)
    return new Promise<T>((resolve, reject) => {
      const onFail = (reason: unknown) => reject(reason)
      this.listeners.add(onFail)
      p.then(
        (v) => {
          this.listeners.delete(onFail)
          resolve(v)
        },
        (e: unknown) => {
          this.listeners.delete(onFail)
          reject(e)
        },
      )
    })
  }

  dispose(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
    this.signal?.removeEventListener('abort', this.onAbort)
    this.listeners.clear()
  }
}

/** A one-shot watch callback paired with a promise of its first event. */
export function watchOnce(): { watch: (e: WatchEvent) => void; fired: Promise<WatchEvent> } {
  let resolve!: (e: WatchEvent) => void
  const fired = new Promise<WatchEvent>((r) => (resolve = r))
  return { watch: (e) => resolve(e), fired }
}

export function isCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof MeshError && codes.includes(err.code)
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

/**
 * Create a node and, in the same commit, its missing ancestors as containers
 * (Curator's creatingParentContainersIfNeeded): the server removes them again
 * once their last child goes, so recipes leave no litter behind. Answers with
 * the new node's stat too (a lock's fencing token is its czxid), so a recipe
 * needs no read after it. One commit whether the parents exist or not.
 */
export async function createWithParents(mesh: MeshCore, path: string, data: Data | undefined, mode: CreateMode): Promise<{ path: string; stat: Stat }> {
  try {
    const [created] = await mesh.multi([{ op: 'create', path, data, mode, parents: 'container' }])
    if (created?.op !== 'create') throw new MeshError('BAD_MESSAGE', 'create returned no path', { path })
    return { path: created.path, stat: created.stat }
  } catch (err) {
    // the caller made one create: the index inside our one-op multi is ours, not theirs
    if (err instanceof MeshError) delete err.opIndex
    throw err
  }
}

/** The 10-digit counter a sequential create appends; -1 for other names. */
export function sequenceOf(name: string): number {
  const m = /(\d{10})$/.exec(name)
  return m ? Number(m[1]) : -1
}

/** Sequential children in creation order. */
export function bySequence(names: string[]): string[] {
  return names.filter((n) => sequenceOf(n) >= 0).sort((a, b) => sequenceOf(a) - sequenceOf(b))
}

let markers = 0

/** A unique, deterministic name part for one of this tab's nodes: the session
 *  id is unique per tab, the counter per call (one counter for every recipe).
 *  Deterministic in the simulator. */
export function markerFor(mesh: MeshCore): string {
  return `${markerSessionPart(mesh)}.${markers++}`
}

/** The part of a marker that names the session (letters and digits of its id). */
export function markerSessionPart(mesh: MeshCore): string {
  return mesh.sessionId.replace(/[^A-Za-z0-9]/g, '')
}
