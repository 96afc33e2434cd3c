// Workloads: what clients do to the cluster while the faults rage.
//
// A workload schedules its own client operations on the world's clock and is
// told of every apply and every completed read. The base `AppendWorkload`
// proposes unique entries and issues ReadIndex reads; the safety checker
// verifies them (state machine safety, stale reads). A later workload (the
// znode tree with real client sessions) plugs in through the same interface
// and reports the histories it recorded and how many a linearizability
// checker accepted, which the CLI's summary line then includes.
import * as prng from 'lib0/prng'
import type { VirtualClock } from '../../src/testing/virtual-time'
import type { Entry } from '../../src/raft/types'
import type { SimMember } from './member'
import type { Trace } from './trace'

/** What a workload may use of the world. */
export interface WorkloadContext {
  clock: VirtualClock
  gen: prng.PRNG
  trace: Trace
  /** members that can take a request right now (running, not frozen) */
  available(): SimMember[]
  /** the highest index known committed (applied somewhere) */
  committedIndex(): number
  /** whether the run is still on (workloads stop scheduling when it is not) */
  running(): boolean
}

/** What a workload reports at the end of a seed. */
export interface WorkloadResult {
  /** client operations issued (proposals and reads) */
  operations: number
  /** proposals acknowledged to their client (applied by the member they were made at) */
  acknowledged: number
  /** reads that completed */
  reads: number
  /** client histories recorded for a linearizability check (0: this workload records none) */
  histories: number
  /** of those, how many the checker found linearizable */
  linearizable: number
  /** workload-level violations (e.g. a non-linearizable history), one line each */
  violations: string[]
}

/** A client workload running in the simulated world. */
export interface Workload {
  readonly name: string
  /** schedule the clients on ctx.clock */
  start(ctx: WorkloadContext): void
  /** `member` applied `entry` */
  onApply(member: SimMember, entry: Entry): void
  /** a read of `member` became servable at `index` */
  onRead(member: SimMember, ctx: Uint8Array, index: number): void
  /** the totals, once the seed is over */
  result(): WorkloadResult
}

/** Options of the append workload. */
export interface AppendWorkloadOptions {
  clients: number
  /** think time between two operations of one client, virtual ms */
  thinkMs: [number, number]
  /** fraction of operations that are reads */
  readRatio: number
}

const DEFAULT_APPEND: AppendWorkloadOptions = { clients: 3, thinkMs: [20, 200], readRatio: 0.3 }

/** Clients that append unique entries ("c1#7") and read with ReadIndex, at random members. */
export class AppendWorkload implements Workload {
  readonly name = 'append'
  private readonly opts: AppendWorkloadOptions
  private readonly outstanding = new Map<string, string>()
  private operations = 0
  private acknowledged = 0
  private reads = 0

  constructor(opts: Partial<AppendWorkloadOptions> = {}) {
    this.opts = { ...DEFAULT_APPEND, ...opts }
  }

  start(ctx: WorkloadContext): void {
    for (let c = 1; c <= this.opts.clients; c++) this.client(ctx, c, 0)
  }

  onApply(member: SimMember, entry: Entry): void {
    if (entry.type !== 'normal' || entry.data.length === 0) return
    const label = new TextDecoder().decode(entry.data)
    // The client waits on the member it proposed at: acknowledged when that member applies it.
    if (this.outstanding.get(label) === member.id) {
      this.outstanding.delete(label)
      this.acknowledged++
    }
  }

  onRead(): void {
    this.reads++
  }

  result(): WorkloadResult {
    return { operations: this.operations, acknowledged: this.acknowledged, reads: this.reads, histories: 0, linearizable: 0, violations: [] }
  }

  private client(ctx: WorkloadContext, client: number, seq: number): void {
    const [lo, hi] = this.opts.thinkMs
    ctx.clock.setTimeout(() => {
      if (!ctx.running()) return
      const members = ctx.available()
      if (members.length > 0) {
        const m = prng.oneOf(ctx.gen, members)
        const label = `c${client}#${seq}`
        this.operations++
        if (prng.real53(ctx.gen) < this.opts.readRatio) {
          m.readIndex(new TextEncoder().encode(label), label, ctx.committedIndex())
        } else if (m.propose(new TextEncoder().encode(label), label)) {
          this.outstanding.set(label, m.id)
        }
      }
      this.client(ctx, client, seq + 1)
    }, prng.uint32(ctx.gen, lo, hi))
  }
}
