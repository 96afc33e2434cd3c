// A Lease: proof of holding a lock node. Its token is the lock node's czxid,
// which strictly increases across successive holders (each holder's node is
// created after its predecessor's), so a write fenced by it (`{ fence: lease }`)
// is rejected with FENCED once the node is gone — a stale holder that wakes up
// late can never write.
import type { Lease, LeaseState, MeshCore } from '../shared/types'
import { isCode } from './support'

type LeaseEvent = 'suspended' | 'lost'

export class NodeLease implements Lease {
  private current: LeaseState = 'held'
  private released = false
  private readonly handlers: Record<LeaseEvent, Set<() => void>> = { suspended: new Set(), lost: new Set() }
  private readonly unsubscribe: (() => void)[] = []

  constructor(
    private readonly mesh: MeshCore,
    readonly path: string,
    readonly token: number,
  ) {
    // The mesh's connection state says whether this tab can still vouch for
    // the node: suspended = out of touch with a quorum (the session may expire
    // meanwhile), lost = the session is gone and its ephemerals with it.
    this.unsubscribe.push(
      mesh.on('state', (state) => {
        if (state === 'suspended') this.moveTo('suspended')
        else if (state === 'lost' || state === 'closed') this.moveTo('lost')
        else if (state === 'connected' && this.current === 'suspended') void this.recheck()
      }),
    )
    this.unsubscribe.push(
      mesh.watch(path, (e) => {
        if (e.type === 'deleted' && e.path === path) this.moveTo('lost')
      }),
    )
  }

  get state(): LeaseState {
    return this.current
  }

  on(event: LeaseEvent, fn: () => void): () => void {
    this.handlers[event].add(fn)
    return () => this.handlers[event].delete(fn)
  }

  /** Delete the lock node (letting the next waiter in). Idempotent. */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    this.stopListening()
    const wasLost = this.current === 'lost'
    this.current = 'lost'
    if (wasLost) return
    try {
      await this.mesh.delete(this.path)
    } catch (err) {
      if (!isCode(err, 'NO_NODE', 'SESSION_EXPIRED', 'CLOSED')) throw err
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release()
  }

  /** Back in touch: the lease holds again only if the node survived. */
  private async recheck(): Promise<void> {
    try {
      const stat = await this.mesh.exists(this.path)
      if (this.released || this.current !== 'suspended') return
      if (stat !== null && stat.czxid === this.token) this.current = 'held'
      else this.moveTo('lost')
    } catch {
      // still out of touch; the next state change decides
    }
  }

  private moveTo(next: LeaseEvent): void {
    if (this.released || this.current === 'lost' || this.current === next) return
    this.current = next
    if (next === 'lost') this.stopListening()
    for (const fn of [...this.handlers[next]]) fn()
  }

  private stopListening(): void {
    for (const u of this.unsubscribe.splice(0)) u()
  }
}
