// Connection state of a member as the app sees it (Mesh.state), after
// Curator's ConnectionState:
//   connecting — started, no leader known yet (or not yet a member of the conf)
//   connected  — a leader is known and this member is in its configuration
//   suspended  — no quorum in reach (the leader was lost, or this leader lost
//                its followers: quorum-contact.ts); ephemerals may still live,
//                writes fail fast or wait (WhenNoQuorum)
//   lost       — suspended past the session timeout: this tab's session is
//                presumed expired by the leader, its ephemerals gone
//   closed     — close() ran or a fatal error stopped the member
import type { MeshState } from '../shared/types'

export type StateListener = (state: MeshState) => void

export class ConnectionState {
  private current: MeshState = 'connecting'
  private suspendedAt: number | null = null
  private quorum = false
  private readonly listeners = new Set<StateListener>()

  get value(): MeshState {
    return this.current
  }

  onChange(fn: StateListener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /**
   * True while this member knows it cannot reach a quorum: it was connected
   * and lost touch (suspended), or its session was lost and no quorum is in
   * reach either. A member still connecting has not yet known one: false.
   */
  get withoutQuorum(): boolean {
    return this.current === 'suspended' || (this.current === 'lost' && !this.quorum)
  }

  /**
   * Recompute from facts. `hasLeader`: a leader is known and in touch, this
   * member is in the configuration and its session is open. `quorum`: a
   * quorum is in reach (by default: when hasLeader). `now` and
   * `sessionTimeoutMs` decide suspended → lost.
   */
  update(hasLeader: boolean, now: number, sessionTimeoutMs: number, quorum: boolean = hasLeader): void {
    if (this.current === 'closed') return
    this.quorum = quorum
    if (hasLeader) {
      this.suspendedAt = null
      this.set('connected')
      return
    }
    if (this.current === 'connecting') return
    if (this.current === 'connected') {
      this.suspendedAt = now
      this.set('suspended')
      return
    }
    if (this.current === 'suspended' && this.suspendedAt !== null && now - this.suspendedAt >= sessionTimeoutMs) {
      this.set('lost')
    }
  }

  /** the leader expired this tab's session: its ephemerals are gone */
  lost(): void {
    if (this.current === 'closed') return
    this.suspendedAt = null
    this.set('lost')
  }

  close(): void {
    this.set('closed')
  }

  private set(next: MeshState): void {
    if (next === this.current) return
    this.current = next
    for (const fn of [...this.listeners]) fn(next)
  }
}
