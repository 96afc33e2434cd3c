// A simulated member: a Raft core, its disk, and the small driver between them.
//
// The driver follows the Ready contract (src/raft/types.ts): take one Ready,
// persist its hard state, entries and snapshot to the disk (which takes
// virtual time), and only when that is durable send its messages, apply its
// snapshot and committed entries, hand out read states, and call advance —
// except a leader's replication messages of a durable term, which leave at
// once, in parallel with its write (sendsBeforeSave). No second Ready is
// taken while one is being persisted. The planted bug `ackBeforePersist`
// breaks exactly this: it sends everything before the write is durable.
//
// The driver also mirrors what the core hands out, so the checker can see it:
// the member's log (snapshot base + entries, as handed out for persisting) and
// its state machine (the digests of the entries applied, in order). A
// snapshot's data is that state machine, encoded, so a member that installs a
// snapshot can be checked entry by entry.
//
// Lives: a crash throws away the core, everything not yet durable and every
// pending timer; a restart builds a new core from the disk. A frozen member
// (a hidden or suspended tab) gets no ticks, its deliveries and disk
// completions wait, and it resumes where it was when it wakes.
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as prng from 'lib0/prng'
import type { VirtualClock, TimerId } from '../../src/testing/virtual-time'
import type { VirtualNetwork } from '../../src/testing/virtual-network'
import type { ConfChange, DurableState, Entry, Message, NodeId, Ready, Role, Snapshot } from '../../src/raft/types'
import { sendsBeforeSave } from '../../src/raft/index'
import type { CoreStatus, SimCore } from './core'
import { SafetyChecker, entryDigest, type LogView } from './checker'
import { RaftDisk } from './disk'
import type { Trace } from './trace'

/** Settings the world may change while it runs. */
export interface DriverSettings {
  tickMs: number
  /** disk write latency range, virtual ms */
  diskLatency: [number, number]
  /** planted bug: send a Ready's messages before its write is durable */
  ackBeforePersist: boolean
  /** compact the log once this many applied entries are past the snapshot (0: never) */
  compactEvery: number
}

/** What a member needs from its world. */
export interface MemberEnv {
  clock: VirtualClock
  network: VirtualNetwork<Message>
  checker: SafetyChecker
  trace: Trace
  gen: prng.PRNG
  settings: DriverSettings
  /** build this member's core from its durable state */
  makeCore(id: NodeId, durable: DurableState): SimCore
  /** an entry was applied by `member` (workloads see every apply) */
  onApply(member: SimMember, entry: Entry): void
  /** a ReadIndex request of `member` became readable: its index is applied locally */
  onRead(member: SimMember, ctx: Uint8Array, index: number): void
  /** a disk changed (a write became durable or was lost): check durability */
  onDiskChange(): void
}

interface PendingRead {
  ctx: Uint8Array
  /** highest committed index when the read was requested */
  committedAtStart: number
  /** the read index, once the core answered */
  index: number | null
}

/** The encoded state machine of a snapshot: digests of entries 1..n. */
export function encodeState(digests: readonly string[], upTo: number): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, upTo)
  for (let i = 1; i <= upTo; i++) encoding.writeVarString(enc, digests[i]!)
  return encoding.toUint8Array(enc)
}

/** Decode a snapshot's state machine: index 0 is the empty state. */
export function decodeState(data: Uint8Array): string[] {
  if (data.length === 0) return ['']
  const dec = decoding.createDecoder(data)
  const n = decoding.readVarUint(dec)
  const out = ['']
  for (let i = 0; i < n; i++) out.push(decoding.readVarString(dec))
  return out
}

export class SimMember {
  readonly disk: RaftDisk
  private core: SimCore | null = null
  private life = 0
  private tickTimer: TimerId | null = null
  private frozen = false
  private persisting = false
  private deferred: Array<() => void> = []
  private role: Role | null = null
  /** the term this member became leader in (while role is leader) */
  private leaderTerm = -1
  private readonly reads = new Map<string, PendingRead>()
  /** the log as handed out by the core */
  private log: { snapIndex: number; snapTerm: number; entries: Entry[] } = { snapIndex: 0, snapTerm: 0, entries: [] }
  /** the state machine: digests[i] is the digest of the entry applied at i */
  private digests: string[] = ['']
  private appliedIndex = 0
  /** the member was removed from the configuration and stopped for good */
  removed = false

  constructor(
    readonly id: NodeId,
    private readonly env: MemberEnv,
  ) {
    this.disk = new RaftDisk(env.clock)
  }

  /** Whether the member is running (not crashed, not removed). */
  get alive(): boolean {
    return this.core !== null
  }

  /** Whether the member is frozen (hidden tab: no ticks, nothing delivered). */
  get isFrozen(): boolean {
    return this.frozen
  }

  /** Whether the member can take a client request now. */
  get available(): boolean {
    return this.core !== null && !this.frozen
  }

  /** The index of the last entry applied to the state machine. */
  get applied(): number {
    return this.appliedIndex
  }

  /** The log as the core last handed it out. */
  get logView(): LogView {
    return this.log
  }

  /** The core's status, or null when the member is down. */
  status(): CoreStatus | null {
    return this.core === null ? null : this.core.status()
  }

  /** Start (or restart after a crash) from what the disk holds. */
  start(): void {
    if (this.core !== null || this.removed) return
    const durable = this.disk.load()
    this.life++
    this.frozen = false
    this.persisting = false
    this.deferred = []
    this.role = null
    this.log = {
      snapIndex: durable.snapshot?.meta.index ?? 0,
      snapTerm: durable.snapshot?.meta.term ?? 0,
      entries: durable.entries.slice(),
    }
    this.digests = durable.snapshot !== null ? decodeState(durable.snapshot.data) : ['']
    this.appliedIndex = durable.snapshot?.meta.index ?? 0
    const core = this.guard(() => this.env.makeCore(this.id, durable))
    if (core === undefined) return
    this.core = core
    this.env.trace.line(this.id, `start life ${this.life}: term ${durable.hardState.term} vote ${durable.hardState.vote} commit ${durable.hardState.commit} log ${this.log.snapIndex}+${durable.entries.length}`)
    this.env.network.register(this.id, (_from, m) => this.receive(m))
    const { tickMs } = this.env.settings
    // A random phase, so members do not tick in lockstep.
    const life = this.life
    this.tickTimer = this.env.clock.setTimeout(() => {
      if (this.life !== life || this.core === null) return
      this.tickTimer = this.env.clock.setInterval(() => this.tick(), tickMs)
      this.tick()
    }, prng.uint32(this.env.gen, 1, tickMs))
    this.pump()
  }

  /** The tab dies: the core, every pending write and every pending timer are gone. */
  crash(reason = 'crash'): void {
    if (this.core === null) return
    this.env.trace.line(this.id, `${reason} (life ${this.life}; unpersisted writes lost)`)
    this.stopLife()
    this.disk.crash()
    this.env.onDiskChange()
  }

  /** The member was removed from the configuration: stop it for good (its disk stays for the checker). */
  retire(): void {
    if (this.removed) return
    this.removed = true
    if (this.core !== null) {
      this.env.trace.line(this.id, 'retired (removed from the configuration)')
      this.stopLife()
    }
  }

  /** Hide the tab: no ticks, deliveries and disk completions wait until `wake`. */
  freeze(): void {
    if (this.core === null || this.frozen) return
    this.frozen = true
    this.env.network.hold(this.id)
    this.env.trace.line(this.id, 'freeze')
  }

  /** Show the tab again: run what waited, in order. */
  wake(): void {
    if (!this.frozen) return
    this.frozen = false
    this.env.trace.line(this.id, `wake (${this.deferred.length} disk completions waited)`)
    const waiting = this.deferred
    this.deferred = []
    for (const fn of waiting) fn()
    this.env.network.release(this.id)
    this.pump()
  }

  /** A client proposes `data` here; false when refused (down, frozen, or the core said no). */
  propose(data: Uint8Array, label: string): boolean {
    return this.request(`propose ${label}`, (core) => core.propose(data))
  }

  /** A client reads here with ReadIndex; `committedAtStart` is what was committed when it asked. */
  readIndex(ctx: Uint8Array, label: string, committedAtStart: number): boolean {
    const key = label
    const ok = this.request(`read ${label}`, (core) => core.readIndex(ctx))
    if (ok) this.reads.set(key, { ctx, committedAtStart, index: null })
    return ok
  }

  /** Tell this member (a leader) where a member about to be added says its log ends. */
  hintLogEnd(id: NodeId, index: number): boolean {
    return this.request(`hint ${id}'s log ends at ${index}`, (core) => core.hintLogEnd(id, index))
  }

  /** Propose a membership change here. */
  proposeConfChange(cc: ConfChange, label: string): boolean {
    return this.request(`conf change ${label}`, (core) => core.proposeConfChange(cc))
  }

  /** Ask this member (a leader) to hand leadership to `to`. */
  transferLeadership(to: NodeId): boolean {
    return this.request(`transfer leadership to ${to}`, (core) => core.transferLeadership(to))
  }

  /** A death certificate for `id` (its tab's Web Lock is free, it is down): forget it as leader, campaign at `rank` 0. */
  certify(id: NodeId, rank: number): boolean {
    return this.request(`certificate: ${id} is gone (rank ${rank})`, (core) => core.reportPeerGone(id, rank))
  }

  /** Campaign now (used by tests to speed things up). */
  campaign(): boolean {
    return this.request('campaign', (core) => core.campaign())
  }

  private request(what: string, fn: (core: SimCore) => void): boolean {
    if (this.core === null || this.frozen) return false
    try {
      fn(this.core)
    } catch (e) {
      this.env.trace.line(this.id, `${what}: refused (${errorText(e)})`)
      return false
    }
    this.env.trace.line(this.id, what)
    this.pump()
    return true
  }

  private stopLife(): void {
    this.env.network.unregister(this.id)
    if (this.tickTimer !== null) this.env.clock.clearTimeout(this.tickTimer)
    this.tickTimer = null
    this.core = null
    this.frozen = false
    this.persisting = false
    this.deferred = []
    this.reads.clear()
  }

  private receive(m: Message): void {
    const core = this.core
    if (core === null) return
    this.guard(() => core.step(m))
    this.pump()
  }

  private tick(): void {
    const core = this.core
    if (core === null || this.frozen) return
    this.env.trace.quiet(this.id, 'tick')
    this.guard(() => core.tick())
    this.pump()
  }

  /** Drain Readies until one needs the disk; then observe the member's status. */
  private pump(): void {
    for (;;) {
      const core = this.core
      if (core === null || this.persisting || this.frozen) break
      const has = this.guard(() => core.hasReady())
      if (has !== true) break
      const rd = this.guard(() => core.ready())
      if (rd === undefined) break
      this.handleReady(rd)
    }
    const core = this.core
    if (core !== null) {
      const s = this.guard(() => core.status())
      if (s !== undefined) {
        this.env.checker.observeStatus(this.id, this.life, s)
        const self = s.role === 'leader' ? s.progress?.get(this.id) : undefined
        if (self !== undefined) this.env.checker.observeLeaderSelfAck(this.id, self.match, this.log, this.disk.durable)
      }
    }
  }

  private handleReady(rd: Ready): void {
    const { trace, checker, settings } = this.env
    let becameLeader = false
    const wasLeader = this.role === 'leader'
    if (rd.softState !== null) {
      becameLeader = rd.softState.role === 'leader' && this.role !== 'leader'
      this.role = rd.softState.role
      trace.line(this.id, `became ${rd.softState.role}${rd.softState.lead === null ? '' : ` (lead ${rd.softState.lead})`}`)
    }
    if (rd.hardState !== null) trace.line(this.id, `hard state term ${rd.hardState.term} vote ${rd.hardState.vote} commit ${rd.hardState.commit}`)
    if (rd.snapshot !== null) {
      const meta = rd.snapshot.meta
      this.log = { snapIndex: meta.index, snapTerm: meta.term, entries: [] }
      trace.line(this.id, `snapshot ${meta.index}/${meta.term} to persist`)
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index
      const keep = this.log.entries.filter((e) => e.index < first)
      this.log.entries = keep.concat(rd.entries.filter((e) => e.index > this.log.snapIndex))
      checker.observeAppended(this.id, this.log, rd.entries)
      trace.line(this.id, `append ${first}..${rd.entries[rd.entries.length - 1]!.index} (terms ${[...new Set(rd.entries.map((e) => e.term))].join(',')})`)
    }
    if (becameLeader) {
      const term = rd.hardState?.term ?? this.core?.status().term ?? 0
      checker.observeNewLeader(this.id, term, this.log)
      this.leaderTerm = term
    }
    if (wasLeader && this.role === 'leader' && rd.hardState !== null && rd.hardState.term === this.leaderTerm)
      checker.observeLeaderCommit(this.id, rd.hardState.term, rd.hardState.commit, this.log)
    // A leader's replication messages of a durable term leave at once, in
    // parallel with its own write (sendsBeforeSave); the rest after the write.
    let late = rd.messages
    if (settings.ackBeforePersist) {
      this.send(rd.messages)
      late = []
    } else if (rd.mustSync) {
      const term = this.disk.durable.hardState.term
      this.send(rd.messages.filter((m) => sendsBeforeSave(m, term)))
      late = rd.messages.filter((m) => !sendsBeforeSave(m, term))
    }
    const needsWrite = rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null
    if (!needsWrite) {
      this.finish(rd, late, this.life)
      return
    }
    this.persisting = true
    const life = this.life
    const [lo, hi] = settings.diskLatency
    const latency = hi > lo ? prng.uint32(this.env.gen, lo, hi) : lo
    this.disk.write(
      { hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot },
      latency,
      () => this.whenAwake(() => this.finish(rd, late, life)),
      (prev) => {
        if (rd.hardState !== null) checker.observeDurable(this.id, prev, rd.hardState)
        this.env.onDiskChange()
      },
    )
  }

  /** Everything after the write: send, apply, read states, advance. */
  private finish(rd: Ready, late: readonly Message[], life: number): void {
    const core = this.core
    if (core === null || life !== this.life) return
    const { checker, trace } = this.env
    this.send(late)
    if (rd.snapshot !== null) {
      this.digests = decodeState(rd.snapshot.data)
      this.appliedIndex = rd.snapshot.meta.index
      checker.observeSnapshotState(this.id, this.digests)
      trace.line(this.id, `installed snapshot ${rd.snapshot.meta.index}`)
    }
    const term = rd.committedEntries.length > 0 ? (this.guard(() => core.status().term) ?? 0) : 0
    for (const e of rd.committedEntries) {
      const digest = entryDigest(e)
      checker.observeApply(this.id, term, this.appliedIndex, e.index, digest)
      this.digests[e.index] = digest
      this.digests.length = e.index + 1
      this.appliedIndex = e.index
      trace.line(this.id, `apply ${e.index}/${e.term} ${e.type}${e.type === 'normal' ? ` ${e.data.length === 0 ? '(no-op)' : new TextDecoder().decode(e.data)}` : ''}`)
      this.env.onApply(this, e)
    }
    for (const rs of rd.readStates) {
      const key = new TextDecoder().decode(rs.context)
      const read = this.reads.get(key)
      trace.line(this.id, `read state ${key} index ${rs.index}`)
      if (read === undefined || read.index !== null) continue
      checker.observeReadIndex(this.id, rs.index, read.committedAtStart)
      read.index = rs.index
    }
    this.serveReads()
    this.guard(() => core.advance(rd))
    this.persisting = false
    this.maybeCompact(core)
    this.pump()
  }

  private send(messages: readonly Message[]): void {
    for (const m of messages) {
      this.env.checker.observeSend(this.id, m, this.disk.durable)
      this.env.network.send(this.id, m.to, m)
    }
  }

  private serveReads(): void {
    for (const [key, read] of this.reads) {
      if (read.index === null || read.index > this.appliedIndex) continue
      this.reads.delete(key)
      this.env.onRead(this, read.ctx, read.index)
    }
  }

  private maybeCompact(core: SimCore): void {
    const every = this.env.settings.compactEvery
    if (every <= 0 || this.appliedIndex - this.log.snapIndex < every) return
    const at = this.appliedIndex
    let snap: Snapshot
    try {
      snap = core.compact(at, encodeState(this.digests, at))
    } catch (e) {
      // A snapshot from the leader may have overtaken the log while this Ready
      // was being persisted: the core refuses, with a code, and that is fine.
      if ((e as { code?: unknown }).code === 'BAD_COMPACTION') {
        this.env.trace.line(this.id, `compaction to ${at} refused (${errorText(e)})`)
        return
      }
      this.env.checker.fail('core-error', this.id, errorText(e))
      return
    }
    this.disk.compactTo(snap)
    this.log = { snapIndex: snap.meta.index, snapTerm: snap.meta.term, entries: this.log.entries.filter((e) => e.index > snap.meta.index) }
    this.env.trace.line(this.id, `compacted to ${snap.meta.index}/${snap.meta.term}`)
  }

  private whenAwake(fn: () => void): void {
    if (this.frozen) this.deferred.push(fn)
    else fn()
  }

  /** Run a core call; an exception from the core is a bug: record it. */
  private guard<T>(fn: () => T): T | undefined {
    try {
      return fn()
    } catch (e) {
      this.env.checker.fail('core-error', this.id, errorText(e))
      return undefined
    }
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    return `${code === undefined ? '' : `${String(code)}: `}${e.message}`
  }
  return String(e)
}
