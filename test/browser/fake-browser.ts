// One browser profile, faked for Node tests of the identity layer: its Web
// Locks (shared by its tabs), each tab's view of them, and a tab's
// sessionStorage. What the identity layer relies on, and nothing more:
//   - a lock is exclusive and granted to queued requests in order;
//   - `ifAvailable` answers null at once when the lock is held;
//   - an aborted request that is still queued rejects (AbortError) and is
//     never granted;
//   - a held lock is released when its callback's promise settles — or when
//     the tab that holds it dies (closed, crashed, killed): a dead tab's
//     queued requests are dropped with it.
import { afterAll, beforeAll } from 'vitest'
import type { LockManagerLike } from '../../src/browser/identity'

interface Holder {
  tab: FakeTab
  release(): void
}

interface Waiter {
  tab: FakeTab
  grant(): void
}

/** The lock set of one browser profile (one origin). */
export class FakeBrowserLocks {
  private readonly holders = new Map<string, Holder>()
  private readonly queues = new Map<string, Waiter[]>()
  private tabs = 0

  /** A new tab of this browser: its own view of the shared locks. */
  tab(name = `tab${++this.tabs}`): FakeTab {
    return new FakeTab(this, name)
  }

  /** the tab holding `name`, or null when the lock is free */
  holder(name: string): string | null {
    return this.holders.get(name)?.tab.name ?? null
  }

  /** how many requests wait for `name` */
  waiting(name: string): number {
    return this.queues.get(name)?.length ?? 0
  }

  /** names of the locks held now, sorted */
  held(): string[] {
    return [...this.holders.keys()].sort()
  }

  /** @internal FakeTab's request */
  request(tab: FakeTab, name: string, options: LockOptions, callback: LockGrantedCallback<unknown>): Promise<unknown> {
    if (tab.dead) return Promise.reject(new DOMException('the tab is gone', 'InvalidStateError'))
    if ((options.mode ?? 'exclusive') !== 'exclusive') throw new Error('the fake grants exclusive locks only')
    const signal = options.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason as unknown)
    return new Promise<unknown>((resolve, reject) => {
      // the callback runs on a later microtask, as in a browser
      const answer = (lock: Lock | null, release: () => void): void =>
        queueMicrotask(() => {
          let result: Promise<unknown>
          try {
            result = Promise.resolve(callback(lock))
          } catch (err) {
            result = Promise.reject(err)
          }
          result.then(resolve, reject)
          // settled or not, a held lock ends with its callback's promise
          result.then(release, release)
        })
      // the lock is taken at once (not when the callback runs), so a request
      // made in between finds it held
      const grant = (): void => answer({ name, mode: 'exclusive' }, this.take(tab, name))
      if (!this.holders.has(name) && this.waiting(name) === 0) return grant()
      if (options.ifAvailable === true) return answer(null, () => {})
      const waiter: Waiter = { tab, grant }
      this.enqueue(name, waiter)
      signal?.addEventListener(
        'abort',
        () => {
          const queue = this.queues.get(name) ?? []
          const i = queue.indexOf(waiter)
          if (i < 0) return // granted already: an abort no longer matters
          queue.splice(i, 1)
          reject(signal.reason)
        },
        { once: true },
      )
    })
  }

  /** @internal a tab died: its locks are free, its queued requests gone */
  bury(tab: FakeTab): void {
    for (const [name, queue] of this.queues) this.queues.set(name, queue.filter((w) => w.tab !== tab))
    for (const [, holder] of [...this.holders].filter(([, h]) => h.tab === tab)) holder.release()
  }

  /** `tab` holds `name` now; the returned release frees it once (and grants the next in line) */
  private take(tab: FakeTab, name: string): () => void {
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      this.holders.delete(name)
      this.grantNext(name)
    }
    this.holders.set(name, { tab, release })
    return release
  }

  private enqueue(name: string, waiter: Waiter): void {
    const queue = this.queues.get(name) ?? []
    queue.push(waiter)
    this.queues.set(name, queue)
  }

  private grantNext(name: string): void {
    const next = this.queues.get(name)?.shift()
    if (next !== undefined) next.grant()
  }
}

/** One tab's `navigator.locks`. */
export class FakeTab {
  dead = false
  readonly locks: LockManagerLike

  constructor(
    private readonly browser: FakeBrowserLocks,
    readonly name: string,
  ) {
    const request = (lockName: string, a: LockOptions | LockGrantedCallback<unknown>, b?: LockGrantedCallback<unknown>): Promise<unknown> =>
      typeof a === 'function' ? browser.request(this, lockName, {}, a) : browser.request(this, lockName, a, b!)
    this.locks = { request } as LockManagerLike
  }

  /** The tab is gone (closed, crashed, killed): the browser frees every lock it held. */
  die(): void {
    this.dead = true
    this.browser.bury(this)
  }
}

/** A tab's sessionStorage (or a browser's localStorage): survives a reload of the tab. */
export class MemoryWebStorage implements Storage {
  private readonly items = new Map<string, string>()
  get length(): number {
    return this.items.size
  }
  clear(): void {
    this.items.clear()
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null
  }
  removeItem(key: string): void {
    this.items.delete(key)
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value)
  }
}

/** Let every queued promise callback run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}

/** For a file's tests: the page joinMesh watches (its `document` and `window`, browser/visibility.ts), a visible one. */
export function withVisiblePage(): void {
  const page = globalThis as { document?: unknown; window?: unknown }
  beforeAll(() => {
    page.document = Object.assign(new EventTarget(), { visibilityState: 'visible' })
    page.window = new EventTarget()
  })
  afterAll(() => {
    delete page.document
    delete page.window
  })
}
