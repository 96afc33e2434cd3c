// The IndexedDB probe of the mesh bench: every readwrite transaction a tab
// opens, with its stores, durability and wall-clock instants (created, and
// completed or aborted), so parts/mesh3.ts can count what one committed write costs
// across the tabs and see transactions of different tabs queue behind each
// other (the tabs of one browser share one backing store, and readwrite
// transactions over overlapping stores run one at a time even across
// connections). Installed before the mesh opens its database; it only
// watches (a wrapped `transaction` returns the platform's own object).
import { recordSpan, type LogRecord } from '../../../src/storage/log-runs'
import { wallNow } from './clock'

export interface IdbTx {
  stores: string[]
  durability: string
  created: number
  /** first request's success: the transaction got its turn (at least by then) */
  started?: number
  ended?: number
  aborted?: boolean
  /** the log indexes it put in `entries` (keys [member, index]) */
  entries?: number[]
}

const log: IdbTx[] = []
/** told of each transaction as it ends (the failover diagnosis of a closing page) */
let onEnded: ((rec: IdbTx) => void) | null = null

/** Hear each readwrite transaction as it completes or aborts, from now on. */
export function onIdbTxEnded(listener: (rec: IdbTx) => void): void {
  onEnded = listener
}

export function installIdbProbe(): void {
  const open = IDBDatabase.prototype.transaction
  IDBDatabase.prototype.transaction = function (this: IDBDatabase, stores: string | Iterable<string>, mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
    const tx = open.call(this, stores, mode, options)
    if (mode !== 'readwrite') return tx
    const rec: IdbTx = { stores: [...tx.objectStoreNames], durability: options?.durability ?? 'default', created: wallNow() }
    log.push(rec)
    tx.addEventListener('complete', () => {
      rec.ended = wallNow()
      onEnded?.(rec)
    })
    tx.addEventListener('abort', () => {
      rec.ended = wallNow()
      rec.aborted = true
      onEnded?.(rec)
    })
    // the first request that succeeds tells when the transaction ran at the latest
    for (const name of rec.stores) {
      const store = tx.objectStore(name)
      const put = store.put.bind(store)
      store.put = (...args: Parameters<IDBObjectStore['put']>) => {
        const req = put(...args)
        const key = args[1]
        // a run record holds several entries (src/storage/log-runs.ts): each is counted
        if (name === 'entries' && Array.isArray(key) && typeof key[1] === 'number') {
          const { first, last } = recordSpan(args[0] as LogRecord)
          for (let i = first; i <= last; i++) (rec.entries ??= []).push(i)
        }
        req.addEventListener('success', () => (rec.started ??= wallNow()))
        return req
      }
    }
    return tx
  } as typeof IDBDatabase.prototype.transaction
}

/** The readwrite transactions created in [from, to] (wall clock). */
export function idbLog(from: number, to: number): IdbTx[] {
  return log.filter((t) => t.created >= from && t.created <= to)
}

/** One transaction in a line of the failover diagnosis: its stores, the
 *  entries it put, and when it got its turn and ended (ms after created). */
export function describeIdbTx(t: IdbTx): string {
  const at = (x: number | undefined): string => (x === undefined ? '-' : (x - t.created).toFixed(1))
  const entries = t.entries === undefined ? '' : ` e${Math.min(...t.entries)}-${Math.max(...t.entries)}`
  return `idb ${t.durability} [${t.stores.join(',')}]${entries} turn +${at(t.started)} end +${at(t.ended)}${t.aborted === true ? ' ABORTED' : ''}`
}

/**
 * When this page's first Web Lock requests were granted and its first
 * IndexedDB opens succeeded, per kind, in ms on `performance.now()` (the
 * lifecycle part's join steps: a fresh page's first lock and first database
 * wait for the browser to connect the page to its storage, and a database
 * made on the way costs its creation; bench README, a first tab stage by
 * stage). The first request of each kind only; it only watches.
 */
export function installJoinRequestProbe(): Record<string, number> {
  const at: Record<string, number> = {}
  const note = (step: string): void => {
    at[step] ??= performance.now()
  }
  // the database and lock names of src/storage/idb-schema.ts, src/browser/identity.ts, tab-pipe.ts
  const dbKind = (name: string): string => (name.startsWith('meshkeeper-slot:') ? 'slot' : name === 'meshkeeper-member-keys' ? 'keys' : name === 'meshkeeper-browser' ? 'browser' : name.startsWith('meshkeeper:') ? 'room' : 'other')
  const lockKind = (name: string): string => (name.endsWith(':bootstrap') ? 'room' : name.includes(':member:') ? 'member' : name.startsWith('meshkeeper-pipe:') ? 'pipe' : 'other')
  const open = IDBFactory.prototype.open
  IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
    const kind = dbKind(name)
    note(`idb ${kind} asked`)
    const req = version === undefined ? open.call(this, name) : open.call(this, name, version)
    req.addEventListener('upgradeneeded', () => note(`idb ${kind} created`))
    req.addEventListener('success', () => note(`idb ${kind} open`))
    return req
  }
  const request = LockManager.prototype.request as (this: LockManager, name: string, ...rest: unknown[]) => Promise<unknown>
  LockManager.prototype.request = function (this: LockManager, name: string, ...rest: unknown[]) {
    const kind = lockKind(name)
    note(`lock ${kind} asked`)
    const i = rest.findIndex((x) => typeof x === 'function')
    const callback = rest[i] as (lock: Lock | null) => unknown
    rest[i] = (lock: Lock | null) => {
      note(`lock ${kind} ${lock === null ? 'refused' : 'granted'}`)
      return callback(lock)
    }
    return request.call(this, name, ...rest)
  } as typeof LockManager.prototype.request
  return at
}
