// One simulated run: a seeded world of Raft members on virtual time, a fault
// injector (the nemesis), a client workload and the safety checker, and at
// the end a liveness check.
//
// A run is a pure function of its options: every random choice comes from
// PRNGs derived from the seed, time is virtual, and the order of events is the
// clock's (time, then insertion). So a failing seed replays exactly.
//
// Phases:
// 1. chaos (`faults.chaosMs`): clients work, the nemesis injects faults;
//    safety is checked after every event, and the run stops at the first
//    violation;
// 2. heal: the network heals, every crashed member restarts, every frozen
//    member wakes; then within 50 election timeouts of virtual time a leader
//    must be elected and a fresh proposal must commit, or the seed counts as
//    a liveness failure.
import * as prng from 'lib0/prng'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'
import type { ConfState, Entry, Message, NodeId, PlantedBugs, RaftConfig } from '../../src/raft/types'
import type { CoreFactory, CoreStatus } from './core'
import { SafetyChecker, type SafetyRule, type Violation } from './checker'
import { SimMember, type DriverSettings, type MemberEnv } from './member'
import { Trace, describeMessage } from './trace'
import { AppendWorkload, type Workload, type WorkloadResult } from './workload'
import { Nemesis, randomFaultMix, type FaultMix } from './nemesis'
import { createRawNode } from './raw-node'

/** Election timeouts of virtual time allowed for recovery after the faults heal. */
export const LIVENESS_ELECTION_TIMEOUTS = 50

/** How to run one seed. */
export interface SimOptions {
  seed: number
  /** bugs planted in the core (and `ackBeforePersist` in the driver); tests only */
  bugs?: PlantedBugs
  /** fold every event into a hash (for --trace-hash and the determinism test) */
  hash?: boolean
  /** override parts of the fault mix the seed picks */
  faults?: Partial<FaultMix>
  /** the client workload (default: AppendWorkload) */
  workload?: () => Workload
  /** the core to test (default: the real RawNode) */
  core?: CoreFactory
  /** how many trace lines to keep for the report (default 200) */
  traceLines?: number
  /** safety rules not to report (tests only: prove a bug is found by its consequences) */
  ignoreRules?: SafetyRule[]
}

/** What a run found. */
export interface SeedResult {
  seed: number
  violations: Violation[]
  /** why the cluster did not recover after the faults healed, or null */
  liveness: string | null
  /** the last events before the run ended, oldest first */
  trace: string[]
  /** hash of every event of the run, when asked for */
  hash: string | null
  mix: FaultMix
  stats: SeedStats
  workload: WorkloadResult
}

export interface SeedStats {
  /** virtual ms the run lasted */
  virtualMs: number
  /** events traced (messages, ticks, faults, applies, ...) */
  events: number
  /** highest committed index */
  committed: number
  /** distinct terms that had a leader */
  leaderTerms: number
  /** virtual ms from heal to the first commit after it (null if it never came) */
  recoveryMs: number | null
  messagesSent: number
  messagesDropped: number
}

/** Timing of every member, in ticks of `tickMs` virtual ms. */
const TICK_MS = 10
const ELECTION_TICK = 10
const HEARTBEAT_TICK = 2
export const ELECTION_TIMEOUT_MS = TICK_MS * ELECTION_TICK

/** The world a nemesis and a workload act on. */
export class World {
  readonly clock = new VirtualClock()
  readonly network: VirtualNetwork<Message>
  readonly checker: SafetyChecker
  readonly trace: Trace
  readonly members = new Map<NodeId, SimMember>()
  readonly settings: DriverSettings
  /** members that appeared in a committed configuration (removal then retires them) */
  private readonly everConfigured = new Set<NodeId>()
  private nextId = 1
  private readonly env: MemberEnv
  private readonly bootstrapConf: ConfState
  private readonly initial = new Set<NodeId>()
  /** `live#k` proposals of the liveness phase, and whether one committed */
  livenessCommitted = false
  private chaos = true

  constructor(
    readonly opts: SimOptions,
    readonly mix: FaultMix,
    private readonly gen: prng.PRNG,
    readonly workload: Workload,
  ) {
    const core = opts.core ?? createRawNode
    const coreGen = prng.create(prng.uint32(gen, 0, 0x7fffffff))
    this.network = new VirtualNetwork<Message>(this.clock, prng.create(prng.uint32(gen, 0, 0x7fffffff)), {
      minDelay: 1,
      maxDelay: 10,
    })
    this.checker = new SafetyChecker(() => this.clock.now(), mix.voters, new Set(opts.ignoreRules ?? []))
    this.trace = new Trace(() => this.clock.now(), opts.hash === true, opts.traceLines ?? 200)
    this.settings = {
      tickMs: TICK_MS,
      diskLatency: [0, 3],
      ackBeforePersist: opts.bugs?.ackBeforePersist === true,
      compactEvery: mix.compactEvery,
    }
    const voters = Array.from({ length: mix.voters }, () => this.newId())
    for (const v of voters) this.initial.add(v)
    this.bootstrapConf = { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
    const { ackBeforePersist: _driverBug, ...coreBugs } = opts.bugs ?? {}
    this.env = {
      clock: this.clock,
      network: this.network,
      checker: this.checker,
      trace: this.trace,
      gen: prng.create(prng.uint32(gen, 0, 0x7fffffff)),
      settings: this.settings,
      makeCore: (id, durable) => {
        const cfg: RaftConfig = {
          id,
          electionTick: ELECTION_TICK,
          heartbeatTick: HEARTBEAT_TICK,
          random: () => prng.real53(coreGen),
          preVote: mix.preVote,
          checkQuorum: mix.checkQuorum,
          maxSizePerMsg: mix.maxSizePerMsg,
          maxInflightMsgs: 4,
          maxUncommittedEntriesSize: 1 << 16,
          maxSnapshotChunkSize: 64,
          durable,
          bugs: coreBugs,
        }
        if (this.initial.has(id)) cfg.bootstrap = this.bootstrapConf
        return core(cfg)
      },
      onApply: (member, entry) => this.onApply(member, entry),
      onRead: (member, ctx, index) => this.workload.onRead(member, ctx, index),
      onDiskChange: () => this.checkDurability(),
    }
    this.network.observer = (e) => {
      switch (e.kind) {
        case 'send':
          this.trace.line(e.from, `send ${describeMessage(e.msg)}${e.copies > 1 ? ' (duplicated)' : ''}`)
          break
        case 'deliver':
          this.trace.line(e.to, `recv ${describeMessage(e.msg)}`)
          break
        case 'drop':
          this.trace.line(e.to, `lost (${e.reason}) ${describeMessage(e.msg)}`)
          break
      }
    }
    for (const v of voters) this.addMember(v)
  }

  /** Whether the chaos phase is still on. */
  get inChaos(): boolean {
    return this.chaos
  }

  /** A fresh member id (n1, n2, ...); ids are never reused. */
  newId(): NodeId {
    return `n${this.nextId++}`
  }

  /** Create and start member `id` with an empty disk. */
  addMember(id: NodeId): SimMember {
    const m = new SimMember(id, this.env)
    this.members.set(id, m)
    m.start()
    return m
  }

  /** Running, unfrozen members. */
  available(): SimMember[] {
    return [...this.members.values()].filter((m) => m.available)
  }

  /** The available member that is leader in the highest term, with its status. */
  leader(): { member: SimMember; status: CoreStatus } | null {
    let best: { member: SimMember; status: CoreStatus } | null = null
    for (const m of this.available()) {
      const s = m.status()
      if (s !== null && s.role === 'leader' && (best === null || s.term > best.status.term)) best = { member: m, status: s }
    }
    return best
  }

  /** Retire members that were in a configuration and are not in the latest committed one, once it has spread. */
  retireRemoved(): void {
    const latest = this.checker.latestConfiguration
    if (latest === null) return
    const c = latest.conf
    // Stop removed members only once a majority of the new voters applied up
    // to the commit index the configuration is known at: before that, the new voters may still
    // need the old ones (a joint configuration they have not seen left yet),
    // and a removed member that vanished at once would stall them forever.
    const caughtUp = c.voters.filter((v) => (this.members.get(v)?.status()?.applied ?? -1) >= latest.commit).length
    if (caughtUp <= c.voters.length / 2) return
    const inConf = new Set([...c.voters, ...c.learners, ...c.votersOutgoing, ...c.learnersNext])
    for (const id of inConf) this.everConfigured.add(id)
    for (const id of this.everConfigured) {
      const m = this.members.get(id)
      if (m !== undefined && !inConf.has(id) && !m.removed) m.retire()
    }
  }

  /** End the chaos: heal the network, restart the crashed, wake the frozen. */
  heal(): void {
    this.chaos = false
    this.trace.line('*', 'heal everything: network, crashed members restart, frozen members wake')
    this.network.heal()
    this.network.configure({ minDelay: 1, maxDelay: 10, dropRate: 0, duplicateRate: 0, reorderRate: 0 })
    this.settings.diskLatency = [0, 3]
    for (const m of this.members.values()) {
      if (m.removed) continue
      if (m.isFrozen) m.wake()
      if (!m.alive) m.start()
    }
  }

  private onApply(member: SimMember, entry: Entry): void {
    this.workload.onApply(member, entry)
    if (!this.chaos && entry.type === 'normal' && entry.data.length > 5 && new TextDecoder().decode(entry.data).startsWith('live#'))
      this.livenessCommitted = true
  }

  private checkDurability(): void {
    const disks = new Map([...this.members].map(([id, m]) => [id, m.disk.durable] as const))
    this.checker.checkDurability(disks)
  }
}

/** Run one seed to its end (or its first violation). */
export function runSeed(opts: SimOptions): SeedResult {
  const gen = prng.create(opts.seed)
  const mix: FaultMix = { ...randomFaultMix(gen), ...opts.faults }
  const workload = opts.workload?.() ?? new AppendWorkload({ thinkMs: mix.clientThinkMs })
  const world = new World(opts, mix, gen, workload)
  const { clock, checker, trace } = world
  trace.line('*', `seed ${opts.seed}: ${describeMix(mix)}`)
  // certificates draw from their own generator (FaultMix.certifyCrashes)
  const nemesis = new Nemesis(world, prng.create(prng.uint32(gen, 0, 0x7fffffff)), prng.create(opts.seed ^ 0x5eed))
  nemesis.start()
  workload.start({
    clock,
    gen: prng.create(prng.uint32(gen, 0, 0x7fffffff)),
    trace,
    available: () => world.available(),
    committedIndex: () => checker.commitIndex,
    running: () => !checker.failed,
  })
  const sweep = clock.setInterval(() => world.retireRemoved(), 50)

  clock.runUntil(() => checker.failed, mix.chaosMs)
  let liveness: string | null = null
  let recoveryMs: number | null = null
  if (!checker.failed) {
    nemesis.stop()
    world.heal()
    const healedAt = clock.now()
    let attempt = 0
    const propose = (): void => {
      const target = world.leader()?.member ?? (world.available().length > 0 ? prng.oneOf(gen, world.available()) : null)
      const label = `live#${++attempt}`
      target?.propose(new TextEncoder().encode(label), label)
    }
    const marker = clock.setInterval(propose, ELECTION_TIMEOUT_MS)
    propose()
    const budget = LIVENESS_ELECTION_TIMEOUTS * ELECTION_TIMEOUT_MS
    clock.runUntil(() => checker.failed || world.livenessCommitted, budget)
    clock.clearInterval(marker)
    if (world.livenessCommitted) recoveryMs = clock.now() - healedAt
    else if (!checker.failed) {
      const leader = world.leader()
      liveness = leader === null
        ? `no leader elected within ${budget} ms of virtual time after healing`
        : `leader ${leader.member.id} (term ${leader.status.term}) elected but no proposal committed within ${budget} ms after healing`
      trace.line('*', `LIVENESS FAILURE: ${liveness}`)
    }
  }
  clock.clearInterval(sweep)
  for (const v of checker.violations) trace.line(v.member, `VIOLATION ${v.rule}: ${v.detail}`)
  const net = world.network.stats
  return {
    seed: opts.seed,
    violations: checker.violations.slice(),
    liveness,
    trace: trace.lines(),
    hash: trace.hash(),
    mix,
    stats: {
      virtualMs: clock.now(),
      events: trace.events,
      committed: checker.commitIndex,
      leaderTerms: checker.leaderTerms,
      recoveryMs,
      messagesSent: net.sent,
      messagesDropped: net.dropped,
    },
    workload: workload.result(),
  }
}

/** The fault mix in one line, for the trace header. */
export function describeMix(mix: FaultMix): string {
  const weights = Object.entries(mix.weights)
    .filter(([, w]) => w > 0)
    .map(([k, w]) => `${k}:${w}`)
    .join(' ')
  return `${mix.voters} voters, ${mix.maxSizePerMsg} bytes per MsgApp, ${mix.chaosMs} ms of chaos, preVote ${mix.preVote}, checkQuorum ${mix.checkQuorum}, compact every ${mix.compactEvery}, faults ${weights}`
}
