// A tiny in-memory cluster for the core's tests: RawNodes whose Ready batches
// are "persisted" at once into an in-memory DurableState, whose messages go
// into one FIFO queue, and whose committed entries are recorded as applied.
import * as prng from 'lib0/prng'
import { RawNode } from '../../src/raft/index'
import type { ConfState, DurableState, Entry, Message, NodeId, PlantedBugs, RaftConfig, ReadState, Ready, Snapshot } from '../../src/raft/types'

export interface TestMember {
  id: NodeId
  node: RawNode
  disk: DurableState
  applied: Entry[]
  readStates: ReadState[]
  cfg: RaftConfig
}

export type ConfigOverrides = Partial<Omit<RaftConfig, 'id' | 'durable' | 'random'>>

export const emptyDurable = (): DurableState => ({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] })

export const confOf = (voters: NodeId[], learners: NodeId[] = []): ConfState => ({
  voters,
  learners,
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
})

export const text = (s: string): Uint8Array => new TextEncoder().encode(s)
export const str = (b: Uint8Array): string => new TextDecoder().decode(b)

export class Network {
  readonly members = new Map<NodeId, TestMember>()
  queue: Message[] = []
  /** links that drop everything: "from->to" */
  readonly cut = new Set<string>()
  /** a filter that may drop (return false) a message in flight */
  filter: ((m: Message) => boolean) | null = null
  /** every message delivered, for traces */
  onDeliver: ((m: Message) => void) | null = null
  private readonly seed: number

  constructor(seed = 1) {
    this.seed = seed
  }

  /** A cluster of `ids` bootstrapped with all of them as voters (plus `learners`). */
  static cluster(ids: NodeId[], overrides: ConfigOverrides = {}, learners: NodeId[] = []): Network {
    const net = new Network()
    for (const id of [...ids, ...learners]) net.add(id, overrides, confOf(ids, learners))
    return net
  }

  config(id: NodeId, overrides: ConfigOverrides, durable: DurableState, bootstrap?: ConfState): RaftConfig {
    const gen = prng.create(this.seed * 7919 + hash(id))
    return {
      id,
      electionTick: 10,
      heartbeatTick: 1,
      random: () => prng.real53(gen),
      preVote: false,
      checkQuorum: false,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSize: 1 << 30,
      maxSnapshotChunkSize: 1024,
      ...overrides,
      durable,
      ...(bootstrap === undefined ? {} : { bootstrap }),
    }
  }

  /** Add a member: bootstrapped with `bootstrap`, or a joiner with an empty disk. */
  add(id: NodeId, overrides: ConfigOverrides = {}, bootstrap?: ConfState): TestMember {
    const disk = emptyDurable()
    const cfg = this.config(id, overrides, disk, bootstrap)
    const m: TestMember = { id, node: new RawNode(cfg), disk, applied: [], readStates: [], cfg }
    this.members.set(id, m)
    return m
  }

  /** Restart a member from its disk (losing everything not persisted). */
  restart(id: NodeId, bugs?: PlantedBugs): TestMember {
    const old = this.get(id)
    const disk: DurableState = {
      hardState: { ...old.disk.hardState },
      snapshot: old.disk.snapshot,
      entries: [...old.disk.entries],
    }
    // bootstrap stays: the core ignores it unless the disk is still empty
    // (a first member that crashed before its bootstrap was persisted)
    const { durable: _d, ...rest } = old.cfg
    const cfg: RaftConfig = { ...rest, durable: disk, ...(bugs === undefined ? {} : { bugs }) }
    const m: TestMember = { id, node: new RawNode(cfg), disk, applied: [], readStates: [], cfg }
    this.members.set(id, m)
    this.queue = this.queue.filter((q) => q.to !== id)
    return m
  }

  get(id: NodeId): TestMember {
    const m = this.members.get(id)
    if (m === undefined) throw new Error(`no member ${id}`)
    return m
  }

  node(id: NodeId): RawNode {
    return this.get(id).node
  }

  /** Drain every member's Ready: persist, queue messages, apply, advance. */
  processReady(): boolean {
    let any = false
    for (const m of this.members.values()) {
      while (m.node.hasReady()) {
        any = true
        const rd = m.node.ready()
        this.handle(m, rd)
        m.node.advance(rd)
      }
    }
    return any
  }

  /** Persist a Ready at once, queue its messages, record what it applies. */
  handle(m: TestMember, rd: Ready): void {
    if (rd.hardState !== null) m.disk.hardState = rd.hardState
    if (rd.snapshot !== null) {
      m.disk.snapshot = rd.snapshot
      m.disk.entries = []
      m.applied = []
    }
    if (rd.entries.length > 0) {
      const base = m.disk.snapshot?.meta.index ?? 0
      const keep = Math.max(0, rd.entries[0]!.index - base - 1)
      if (keep < m.disk.entries.length) m.disk.entries.length = keep // overwrite a suffix
      for (const e of rd.entries) m.disk.entries.push(e)
    }
    for (const msg of rd.messages) this.queue.push(msg)
    for (const e of rd.committedEntries) m.applied.push(e)
    for (const rs of rd.readStates) m.readStates.push(rs)
  }

  /** The driver's compaction: the core's snapshot replaces the disk's prefix. */
  compact(id: NodeId, index: number, data: Uint8Array): Snapshot {
    const m = this.get(id)
    const snap = m.node.compact(index, data)
    const base = m.disk.snapshot?.meta.index ?? 0
    m.disk.entries = m.disk.entries.slice(Math.max(0, index - base))
    m.disk.snapshot = snap
    return snap
  }

  /** Deliver the messages queued now (not those they cause). */
  deliverQueued(): number {
    const batch = this.queue
    this.queue = []
    for (const msg of batch) this.deliver(msg)
    return batch.length
  }

  deliver(msg: Message): void {
    if (this.cut.has(`${msg.from}->${msg.to}`)) return
    if (this.filter !== null && !this.filter(msg)) return
    const to = this.members.get(msg.to)
    if (to === undefined) return
    this.onDeliver?.(msg)
    to.node.step(msg)
  }

  /** Run until no member has anything to do and nothing is in flight. */
  stabilize(maxRounds = 10_000): void {
    for (let i = 0; i < maxRounds; i++) {
      const a = this.processReady()
      const b = this.deliverQueued()
      if (!a && b === 0) return
    }
    throw new Error('network did not stabilize')
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick()
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) for (const m of this.members.values()) m.node.tick()
  }

  /** Cut every link between the two groups, both ways. */
  partition(a: NodeId[], b: NodeId[]): void {
    for (const x of a) for (const y of b) {
      this.cut.add(`${x}->${y}`)
      this.cut.add(`${y}->${x}`)
    }
  }

  isolate(id: NodeId): void {
    this.partition([id], [...this.members.keys()].filter((x) => x !== id))
  }

  heal(): void {
    this.cut.clear()
  }

  /** Elect `id` by campaigning and stabilizing. */
  elect(id: NodeId): void {
    this.node(id).campaign()
    this.stabilize()
  }

  leader(): NodeId | null {
    let lead: NodeId | null = null
    for (const m of this.members.values()) if (m.node.status().role === 'leader') lead = m.id
    return lead
  }

  /** Application data applied at `id`, as strings (no-ops and conf entries left out). */
  appliedData(id: NodeId): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === 'normal' && e.data.length > 0)
      .map((e) => str(e.data))
  }
}

function hash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0
  return h >>> 0
}
