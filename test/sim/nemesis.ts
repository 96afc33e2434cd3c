// The nemesis: injects one fault at a time, at random moments of the chaos
// phase, drawn from the seed's fault mix.
//
// Faults: network settings (delay, drop, duplicate, reorder), symmetric
// partitions, one-way cuts, isolating a member (often the leader), healing;
// crashing a member (it restarts later from its disk), freezing one for a long
// stretch (a hidden tab), changing disk latency; membership churn (add a
// learner, promote it, remove a member, replace a dead voter in one joint
// change) and leadership transfers. Every action is written to the trace.
import * as prng from 'lib0/prng'
import type { ConfChange, NodeId } from '../../src/raft/types'
import type { TimerId } from '../../src/testing/virtual-time'
import type { World } from './world'

export type FaultKind =
  | 'network'
  | 'partition'
  | 'cut'
  | 'isolate'
  | 'heal'
  | 'crash'
  | 'freeze'
  | 'disk'
  | 'addLearner'
  | 'promote'
  | 'remove'
  | 'replaceDead'
  | 'swap'
  | 'transfer'

export const FAULT_KINDS: readonly FaultKind[] = [
  'network',
  'partition',
  'cut',
  'isolate',
  'heal',
  'crash',
  'freeze',
  'disk',
  'addLearner',
  'promote',
  'remove',
  'replaceDead',
  'swap',
  'transfer',
]

/** What a seed's chaos looks like. */
export interface FaultMix {
  /** voters of the bootstrapped cluster */
  voters: number
  /** virtual ms of chaos before everything heals */
  chaosMs: number
  /** virtual ms between two faults */
  gapMs: [number, number]
  /** relative weight of each fault kind (0: never) */
  weights: Record<FaultKind, number>
  /** upper bound of the random one-way network delay, virtual ms */
  maxDelayMs: number
  /** upper bounds of the random network fault rates */
  maxDrop: number
  maxDuplicate: number
  maxReorder: number
  /** how long a crashed member stays down, and a frozen one frozen, virtual ms */
  downMs: [number, number]
  freezeMs: [number, number]
  /** bias towards hitting the leader with crash, isolate and freeze */
  hitLeader: number
  /** members in the world at most (churn adds members) */
  maxMembers: number
  preVote: boolean
  checkQuorum: boolean
  /** compact the log every this many applied entries (0: never) */
  compactEvery: number
  /** probability that a newly elected leader is crashed within 20 ms (before its own entry spreads: Figure 8) */
  crashNewLeader: number
  /**
   * Figure 8 loop (as in MIT 6.824's Figure8 test): every so often crash the
   * current leader, and restart a random crashed member whenever fewer than a
   * quorum run. null: off.
   */
  figure8: [number, number] | null
  /** probability that a joint change is followed within 30 ms by a partition along it (old voters | leader and new voters) */
  partitionAfterChurn: number
  /** bytes of entries per MsgApp (small: one entry per message, so acks trickle in) */
  maxSizePerMsg: number
  /** think time of each client between two operations, virtual ms */
  clientThinkMs: [number, number]
  /**
   * Probability that a crash is a tab's death the other tabs of its browser
   * hear (a free Web Lock, src/browser/death-watch.ts): every live member
   * gets a certificate within 0-10 ms, ranked by id, before the crashed one
   * can restart (a reloaded tab takes its lock back only after the watches
   * let go). Not drawn from the seed's mix generator: the draws of seeds
   * from before certificates stay as they were.
   */
  certifyCrashes: number
}

/** Pick a fault mix from the seed: some seeds are calm, some brutal, most in between. */
export function randomFaultMix(gen: prng.PRNG): FaultMix {
  const weights = {} as Record<FaultKind, number>
  for (const k of FAULT_KINDS) weights[k] = prng.real53(gen) < 0.75 ? prng.uint32(gen, 1, 4) : 0
  weights.heal = Math.max(weights.heal, 1)
  return {
    voters: prng.oneOf(gen, [3, 3, 5]),
    chaosMs: 5000,
    gapMs: [20, prng.oneOf(gen, [100, 200, 400])],
    weights,
    maxDelayMs: prng.oneOf(gen, [20, 60, 200]),
    maxDrop: prng.oneOf(gen, [0, 0.05, 0.2, 0.4]),
    maxDuplicate: prng.oneOf(gen, [0, 0.1, 0.3]),
    maxReorder: prng.oneOf(gen, [0, 0.2, 0.6]),
    downMs: [20, 1000],
    freezeMs: [200, 3000],
    hitLeader: prng.oneOf(gen, [0.3, 0.6]),
    maxMembers: 7,
    preVote: prng.real53(gen) < 0.8,
    checkQuorum: prng.real53(gen) < 0.8,
    compactEvery: prng.oneOf(gen, [0, 5, 20]),
    maxSizePerMsg: prng.oneOf(gen, [1, 256, 4096]),
    partitionAfterChurn: prng.oneOf(gen, [0, 0.5]),
    crashNewLeader: prng.oneOf(gen, [0, 0, 0.3]),
    figure8: null,
    clientThinkMs: [20, 200],
    certifyCrashes: 0.5,
  }
}

export class Nemesis {
  private timer: TimerId | null = null
  private stopped = false

  constructor(
    private readonly world: World,
    private readonly gen: prng.PRNG,
    /** certificates' own draws (FaultMix.certifyCrashes) */
    private readonly certGen: prng.PRNG = prng.create(0),
  ) {}

  /** Start injecting faults until `stop`. */
  start(): void {
    this.schedule()
    if (this.world.mix.crashNewLeader > 0) this.watchLeaders()
    if (this.world.mix.figure8 !== null) this.figure8(this.world.mix.figure8)
  }

  private figure8([lo, hi]: [number, number]): void {
    const { world, gen } = this
    world.clock.setTimeout(() => {
      if (this.stopped) return
      const leader = world.leader()
      if (leader !== null) {
        this.say(`figure 8: crash leader ${leader.member.id}`)
        leader.member.crash('crash by nemesis')
        this.maybeCertify(leader.member.id)
      }
      const members = [...world.members.values()].filter((m) => !m.removed)
      const up = members.filter((m) => m.alive).length
      if (up <= members.length / 2 + 1) {
        const down = members.filter((m) => !m.alive)
        if (down.length > 0) {
          const m = prng.oneOf(gen, down)
          this.say(`figure 8: restart ${m.id}`)
          m.start()
        }
      }
      this.figure8([lo, hi])
    }, prng.real53(gen) < 0.9 ? prng.uint32(gen, 0, lo) : prng.uint32(gen, 0, hi))
  }

  /** Crash some leaders right after their election, before their first entry reaches a majority. */
  private watchLeaders(): void {
    let seen = ''
    const { world, gen } = this
    const watch = world.clock.setInterval(() => {
      if (this.stopped) return world.clock.clearInterval(watch)
      const l = world.leader()
      const key = l === null ? '' : `${l.member.id}@${l.status.term}`
      if (l === null || key === seen) return
      seen = key
      if (prng.real53(gen) >= world.mix.crashNewLeader) return
      const m = l.member
      world.clock.setTimeout(() => {
        if (this.stopped || !m.alive) return
        this.say(`crash new leader ${key}`)
        m.crash('crash by nemesis')
        this.maybeCertify(m.id)
        world.clock.setTimeout(() => {
          if (world.inChaos && !m.alive && !m.removed) m.start()
        }, prng.uint32(gen, world.mix.downMs[0], world.mix.downMs[1]))
      }, prng.uint32(gen, 0, 20))
    }, 5)
  }

  /** Stop injecting (pending restarts and wakes still happen unless heal came first). */
  stop(): void {
    this.stopped = true
    if (this.timer !== null) this.world.clock.clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(): void {
    const [lo, hi] = this.world.mix.gapMs
    this.timer = this.world.clock.setTimeout(() => {
      if (this.stopped) return
      this.inject(this.pick())
      this.schedule()
    }, prng.uint32(this.gen, lo, hi))
  }

  private pick(): FaultKind {
    const w = this.world.mix.weights
    const total = FAULT_KINDS.reduce((s, k) => s + w[k], 0)
    let r = prng.real53(this.gen) * total
    for (const k of FAULT_KINDS) {
      r -= w[k]
      if (r < 0) return k
    }
    return 'heal'
  }

  /** Right after a joint change, sometimes cut the outgoing voters off from the leader and the incoming ones. */
  private maybeSplitAlong(outgoing: NodeId[], incoming: NodeId[]): void {
    if (prng.real53(this.gen) >= this.world.mix.partitionAfterChurn) return
    this.world.clock.setTimeout(() => {
      if (this.stopped) return
      this.world.network.partition(outgoing, incoming)
      this.say(`partition along the change [${outgoing}] | [${incoming}]`)
    }, prng.uint32(this.gen, 0, 30))
  }

  /**
   * The crash of `id` was a tab's death in the survivors' browser: each live
   * member hears the certificate within 0-10 ms (the watches share the lock),
   * ranked by id as Roster.rankAfterDeath ranks them. Heard only while `id`
   * is down: its lock is free until a reload takes it back.
   */
  private maybeCertify(id: NodeId): void {
    const { world, certGen } = this
    if (prng.real53(certGen) >= world.mix.certifyCrashes) return
    const hearers = [...world.members.values()].filter((m) => m.alive && !m.removed && m.id !== id).sort((a, b) => (a.id < b.id ? -1 : 1))
    this.say(`${id} certified dead to ${hearers.map((m) => m.id).join(',')}`)
    const dead = world.members.get(id)!
    hearers.forEach((m, rank) => {
      world.clock.setTimeout(() => {
        if (!this.stopped && !dead.alive) m.certify(id, rank)
      }, prng.uint32(certGen, 0, 10))
    })
  }

  private say(text: string): void {
    this.world.trace.line('*', `nemesis: ${text}`)
  }

  /** Running members, never the retired; `preferLeader` biases towards the current leader. */
  private victim(preferLeader: boolean): NodeId | null {
    const live = [...this.world.members.values()].filter((m) => m.alive && !m.isFrozen).map((m) => m.id)
    if (live.length === 0) return null
    const leader = this.world.leader()
    if (preferLeader && leader !== null && prng.real53(this.gen) < this.world.mix.hitLeader) return leader.member.id
    return prng.oneOf(this.gen, live)
  }

  private inject(kind: FaultKind): void {
    const { world, gen } = this
    const mix = world.mix
    const ids = [...world.members.values()].filter((m) => !m.removed).map((m) => m.id)
    switch (kind) {
      case 'network': {
        const minDelay = prng.uint32(gen, 1, 5)
        const settings = {
          minDelay,
          maxDelay: minDelay + prng.uint32(gen, 0, Math.max(0, mix.maxDelayMs - minDelay)),
          dropRate: prng.real53(gen) * mix.maxDrop,
          duplicateRate: prng.real53(gen) * mix.maxDuplicate,
          reorderRate: prng.real53(gen) * mix.maxReorder,
        }
        world.network.configure(settings)
        this.say(
          `network delay ${settings.minDelay}..${settings.maxDelay} ms, drop ${settings.dropRate.toFixed(2)}, duplicate ${settings.duplicateRate.toFixed(2)}, reorder ${settings.reorderRate.toFixed(2)}`,
        )
        return
      }
      case 'partition': {
        const shuffled = shuffle(gen, ids)
        const cutAt = prng.uint32(gen, 1, Math.max(1, shuffled.length - 1))
        const a = shuffled.slice(0, cutAt)
        const b = shuffled.slice(cutAt)
        world.network.partition(a, b)
        this.say(`partition [${a}] | [${b}]`)
        return
      }
      case 'cut': {
        if (ids.length < 2) return
        const [from, to] = shuffle(gen, ids)
        world.network.cut(from!, to!)
        this.say(`one-way cut ${from} -> ${to}`)
        return
      }
      case 'isolate': {
        const id = this.victim(true)
        if (id === null) return
        world.network.isolate(id)
        this.say(`isolate ${id}`)
        return
      }
      case 'heal':
        world.network.heal()
        this.say('network healed')
        return
      case 'crash': {
        const id = this.victim(true)
        if (id === null) return
        const m = world.members.get(id)!
        m.crash('crash by nemesis')
        const down = prng.uint32(gen, mix.downMs[0], mix.downMs[1])
        this.say(`crash ${id} for ${down} ms`)
        this.maybeCertify(id)
        world.clock.setTimeout(() => {
          if (!world.inChaos || m.alive || m.removed) return
          m.start()
        }, down)
        return
      }
      case 'freeze': {
        const id = this.victim(true)
        if (id === null) return
        const m = world.members.get(id)!
        const span = prng.uint32(gen, mix.freezeMs[0], mix.freezeMs[1])
        m.freeze()
        this.say(`freeze ${id} for ${span} ms`)
        world.clock.setTimeout(() => {
          if (m.isFrozen) m.wake()
        }, span)
        return
      }
      case 'disk': {
        const lo = prng.uint32(gen, 0, 5)
        world.settings.diskLatency = [lo, lo + prng.uint32(gen, 0, 40)]
        this.say(`disk latency ${world.settings.diskLatency[0]}..${world.settings.diskLatency[1]} ms`)
        return
      }
      default:
        this.churn(kind)
    }
  }

  /** Membership changes and leadership transfers go through the current leader. */
  private churn(kind: FaultKind): void {
    const { world, gen } = this
    const leader = world.leader()
    if (leader === null) return
    const conf = leader.status.conf
    const change = (cc: ConfChange, label: string): void => {
      this.say(label)
      leader.member.proposeConfChange(cc, label)
    }
    switch (kind) {
      case 'addLearner': {
        const running = [...world.members.values()].filter((m) => !m.removed).length
        if (running >= world.mix.maxMembers) return
        const id = world.newId()
        world.addMember(id)
        // the new member's word on where its log ends (the driver's join
        // hint, RawNode.hintLogEnd): mostly the truth (empty: 0), sometimes
        // a lie inside or beyond the leader's log. Picked from the id, not
        // the PRNG, so every seed's run stays what it was.
        const n = Number(id.slice(1))
        const last = leader.status.lastIndex
        leader.member.hintLogEnd(id, n % 4 === 1 ? Math.floor(last / 2) : n % 4 === 2 ? last + 7 : 0)
        change({ changes: [{ type: 'addLearner', node: id }], transition: 'auto' }, `add learner ${id}`)
        return
      }
      case 'promote': {
        if (conf.learners.length === 0 || conf.voters.length >= 5) return
        const id = prng.oneOf(gen, conf.learners)
        change({ changes: [{ type: 'addVoter', node: id }], transition: 'auto' }, `promote ${id} to voter`)
        return
      }
      case 'remove': {
        const candidates = conf.learners.concat(conf.voters.length > 3 ? conf.voters.filter((v) => v !== leader.member.id) : [])
        if (candidates.length === 0) return
        const id = prng.oneOf(gen, candidates)
        change({ changes: [{ type: 'remove', node: id }], transition: 'auto' }, `remove ${id}`)
        return
      }
      case 'replaceDead': {
        const dead = conf.voters.filter((v) => world.members.get(v)?.alive !== true)
        const learners = conf.learners.filter((l) => world.members.get(l)?.alive === true)
        if (dead.length === 0 || learners.length === 0) return
        const d = prng.oneOf(gen, dead)
        const l = prng.oneOf(gen, learners)
        change(
          { changes: [{ type: 'remove', node: d }, { type: 'addVoter', node: l }], transition: 'auto' },
          `replace dead voter ${d} by ${l} (joint)`,
        )
        this.maybeSplitAlong([d], [leader.member.id, l])
        return
      }
      case 'swap': {
        // One joint change that swaps up to two voters (never the leader) for learners.
        const out = shuffle(gen, conf.voters.filter((v) => v !== leader.member.id))
        const inn = shuffle(gen, conf.learners)
        const k = Math.min(out.length, inn.length, prng.uint32(gen, 1, 2))
        if (k === 0) return
        const changes = [
          ...out.slice(0, k).map((node) => ({ type: 'remove' as const, node })),
          ...inn.slice(0, k).map((node) => ({ type: 'addVoter' as const, node })),
        ]
        change({ changes, transition: 'auto' }, `swap voters [${out.slice(0, k)}] for [${inn.slice(0, k)}] (joint)`)
        this.maybeSplitAlong(out.slice(0, k), [leader.member.id, ...inn.slice(0, k)])
        return
      }
      case 'transfer': {
        const others = conf.voters.filter((v) => v !== leader.member.id)
        if (others.length === 0) return
        const to = prng.oneOf(gen, others)
        this.say(`transfer leadership ${leader.member.id} -> ${to}`)
        leader.member.transferLeadership(to)
        return
      }
      default:
        return
    }
  }
}

function shuffle<T>(gen: prng.PRNG, xs: readonly T[]): T[] {
  const out = xs.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.uint32(gen, 0, i)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
