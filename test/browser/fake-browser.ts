// One browser profile, faked for Node tests of the identity layer: its Web
// Locks (shared by its tabs), each tab's view of them, and a tab's
// sessionStorage. What the identity layer relies on, and nothing more:
//   - a lock is granted to queued requests in order: one exclusive holder,
//     or every shared request at the head of the queue at once;
//   - a grant runs its callback only when the tab's main thread is free: a
//     busy tab (`busy()`) hears it when it is `free()` again, as a renderer
//     runs a granted lock's callback as a task of its event loop;
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
  mode: LockMode
  release(): void
}

interface Waiter {
  tab: FakeTab
  mode: LockMode
  grant(): void
}

/** The lock set of one browser profile (one origin). */
export class FakeBrowserLocks {
  /** each lock's holders: one exclusive, or any number of shared */
  private readonly holders = new Map<string, Holder[]>()
  private readonly queues = new Map<string, Waiter[]>()
  private tabs = 0

  /** A new tab of this browser: its own view of the shared locks. */
  tab(name = `tab${++this.tabs}`): FakeTab {
    return new FakeTab(this, name)
  }

  /** the tab holding `name` (the first, when shared), or null when the lock is free */
  holder(name: string): string | null {
    return this.holders.get(name)?.[0]?.tab.name ?? null
  }

  /** every tab holding `name` now */
  holdersOf(name: string): string[] {
    return (this.holders.get(name) ?? []).map((h) => h.tab.name)
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
    const mode = options.mode ?? 'exclusive'
    const signal = options.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason as unknown)
    return new Promise<unknown>((resolve, reject) => {
      // the callback runs on a later microtask, as in a browser, once the tab is free
      const answer = (lock: Lock | null, release: () => void): void =>
        tab.run(() => {
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
      const grant = (): void => answer({ name, mode }, this.take(tab, name, mode))
      if (this.waiting(name) === 0 && this.compatible(name, mode)) return grant()
      if (options.ifAvailable === true) return answer(null, () => {})
      const waiter: Waiter = { tab, mode, grant }
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
    for (const holder of [...this.holders.values()].flat().filter((h) => h.tab === tab)) holder.release()
  }

  /** may a request of `mode` hold `name` beside its holders now? */
  private compatible(name: string, mode: LockMode): boolean {
    const held = this.holders.get(name) ?? []
    return held.length === 0 || (mode === 'shared' && held.every((h) => h.mode === 'shared'))
  }

  /** `tab` holds `name` now; the returned release frees it once (and grants the next in line) */
  private take(tab: FakeTab, name: string, mode: LockMode): () => void {
    let released = false
    const holder: Holder = {
      tab,
      mode,
      release: () => {
        if (released) return
        released = true
        const rest = (this.holders.get(name) ?? []).filter((h) => h !== holder)
        if (rest.length > 0) this.holders.set(name, rest)
        else this.holders.delete(name)
        this.grantNext(name)
      },
    }
    this.holders.set(name, [...(this.holders.get(name) ?? []), holder])
    return holder.release
  }

  private enqueue(name: string, waiter: Waiter): void {
    const queue = this.queues.get(name) ?? []
    queue.push(waiter)
    this.queues.set(name, queue)
  }

  /** grant the head of the queue: an exclusive request, or every shared one up to the next exclusive */
  private grantNext(name: string): void {
    const queue = this.queues.get(name) ?? []
    while (queue.length > 0 && this.compatible(name, queue[0]!.mode)) queue.shift()!.grant()
  }
}

/** One tab's `navigator.locks`. */
export class FakeTab {
  dead = false
  readonly locks: LockManagerLike
  /** callbacks granted while the tab was busy, run when it is free */
  private held: Array<() => void> | null = null

  constructor(
    private readonly browser: FakeBrowserLocks,
    readonly name: string,
  ) {
    const request = (lockName: string, a: LockOptions | LockGrantedCallback<unknown>, b?: LockGrantedCallback<unknown>): Promise<unknown> =>
      typeof a === 'function' ? browser.request(this, lockName, {}, a) : browser.request(this, lockName, a, b!)
    this.locks = { request } as LockManagerLike
  }

  /** The tab's main thread is busy (a long task): granted locks' callbacks wait until free(). */
  busy(): void {
    this.held ??= []
  }

  /** The tab's main thread is free again: the callbacks granted meanwhile run, in order. */
  free(): void {
    const held = this.held ?? []
    this.held = null
    for (const fn of held) queueMicrotask(fn)
  }

  /** @internal run `fn` on a later microtask, or once the tab is free */
  run(fn: () => void): void {
    if (this.held !== null) this.held.push(fn)
    else queueMicrotask(fn)
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
