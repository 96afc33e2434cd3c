// Linearizable reads and sync through ReadIndex (invariant 3: time never
// decides safety). A read asks the core for a read index (the leader's commit
// index, confirmed by a heartbeat round to a quorum); once this member has
// applied up to that index, its local tree reflects every write that completed
// before the read began, and the read is served locally.
//
// A ReadIndex request can be lost (leader change, dropped message), so an
// unanswered one is asked again under a fresh context after `retryMs`; it
// fails with NO_QUORUM (no leader) or TIMEOUT after `timeoutMs`.
import { MeshError } from '../shared/errors'
import type { ReadState } from '../raft/types'

export interface ReadIndexPort {
  now(): number
  /** ask the core; false when it cannot (no leader known) */
  requestReadIndex(ctx: Uint8Array): boolean
  appliedIndex(): number
  hasLeader(): boolean
}

interface PendingRead {
  ctx: string
  askedAt: number | null
  deadline: number
  /** the read index, once the leader answered */
  index: number | null
  resolve: () => void
  reject: (e: MeshError) => void
}

export class ReadBarrier {
  private nextId = 1
  private readonly waiting = new Set<PendingRead>()

  constructor(
    private readonly port: ReadIndexPort,
    private readonly timings: { retryMs: number; timeoutMs: number },
    /** makes contexts unique across members and restarts */
    private readonly contextPrefix: string,
  ) {}

  /** Resolves once the local state is at least as new as the leader's commit when called. */
  barrier(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const r: PendingRead = { ctx: '', askedAt: null, deadline: this.port.now() + this.timings.timeoutMs, index: null, resolve, reject }
      this.waiting.add(r)
      this.ask(r)
    })
  }

  /** Answers from Ready.readStates. */
  onReadStates(states: ReadState[]): void {
    if (states.length === 0 || this.waiting.size === 0) return
    for (const rs of states) {
      const ctx = decodeContext(rs.context)
      for (const r of this.waiting) if (r.index === null && r.ctx === ctx) r.index = rs.index
    }
    this.onApplied()
  }

  /** After each apply: release the reads whose index is now applied. */
  onApplied(): void {
    const applied = this.port.appliedIndex()
    for (const r of this.waiting) {
      if (r.index !== null && r.index <= applied) {
        this.waiting.delete(r)
        r.resolve()
      }
    }
  }

  /** Each tick: re-ask lost requests, fail expired ones. */
  tick(): void {
    const now = this.port.now()
    for (const r of this.waiting) {
      if (now >= r.deadline) {
        this.waiting.delete(r)
        r.reject(
          this.port.hasLeader()
            ? new MeshError('TIMEOUT', `read index not confirmed within ${this.timings.timeoutMs} ms`)
            : new MeshError('NO_QUORUM', 'no leader: a linearizable read cannot be confirmed'),
        )
      } else if (r.index === null && (r.askedAt === null || now - r.askedAt >= this.timings.retryMs)) {
        this.ask(r)
      }
    }
  }

  failAll(err: MeshError): void {
    for (const r of this.waiting) r.reject(err)
    this.waiting.clear()
  }

  private ask(r: PendingRead): void {
    r.ctx = `${this.contextPrefix}#${this.nextId++}`
    if (this.port.requestReadIndex(encodeContext(r.ctx))) r.askedAt = this.port.now()
  }
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

function encodeContext(ctx: string): Uint8Array {
  return utf8.encode(ctx)
}

function decodeContext(bytes: Uint8Array): string {
  // a context that does not decode matches no request of ours
  try {
    return utf8Strict.decode(bytes)
  } catch {
    return ''
  }
}
