// Random znode workloads run against an ideal (atomic) store, to feed the
// checker in property tests and the benchmark. Each client issues one call at
// a time; every call takes effect at one instant (its linearization point)
// strictly inside [call, ret] and answers from the model, so the history is
// linearizable by construction. Options plant the two bugs the simulator
// must catch, to show the checker reports them:
// - 'stale-read': a linearizable read answers from an older state (a
//   follower serving it without ReadIndex);
// - 'double-apply': an unconditional set or a sequential create takes
//   effect a second time a little later (a retried request applied twice).
//
// The tree model is the checker's own, so these histories test the search,
// partitioning and planted-bug detection, not the model's rules (the
// hand-written histories do that).
import * as prng from 'lib0/prng'
import type { ModelOp, MultiSubOp, Operation } from './history'
import { TreeState, sequenceSuffix, step } from './model'
import { op } from './ops'

export interface WorkloadOptions {
  seed: number
  operations: number
  clients: number
  /**
   * top-level nodes /k0 .. /k{paths-1}, in groups of four that multis stay
   * within; a queue directory /q (sequential nodes, ephemeral or not) and a
   * membership directory /m (each client's ephemeral /m/<client>) are used too.
   * Like a real workload, a session's ephemerals live under /q and /m only, as
   * closing a session joins the partitions of everything it made ephemeral.
   */
  paths: number
  /** share of calls that time out (maybe applied), 0..1 */
  timeoutRate?: number
  /** share of calls that are multis, 0..1 (each joins the partitions of the paths it touches) */
  multiRate?: number
  /** share of reads answered locally (stale allowed, skipped by the checker), 0..1 */
  localReadRate?: number
  /** plant a bug in this share of the eligible calls */
  plant?: { bug: 'stale-read' | 'double-apply', rate: number }
}

interface Scheduled {
  operation: Operation
  /** when it takes effect; null: never (a timed-out call that was lost) */
  at: number | null
  /** planted double application: takes effect again at this time */
  againAt: number | null
  staleBy: number
}

const QUEUE = '/q'
const MEMBERS = '/m'
const GROUP = 4

export const generateHistory = (options: WorkloadOptions): Operation[] => {
  const gen = prng.create(options.seed)
  const chance = (rate: number | undefined): boolean => rate !== undefined && rate > 0 && prng.real53(gen) < rate
  const pick = (): string => `/k${prng.uint32(gen, 0, options.paths - 1)}`
  const version = (): number => prng.uint32(gen, 0, 5) === 0 ? -1 : prng.uint32(gen, 0, 3)
  // unique data, as a workload should write: equal values make the search guess which write a read saw
  let written = 0
  const data = (): string => `d${written++}`
  const scheduled: Scheduled[] = []
  const add = (client: string, call: number, ret: number | null, input: ModelOp, at: number | null): Scheduled => {
    const entry: Scheduled = { operation: { id: scheduled.length, client, call, ret, input, output: null }, at, againAt: null, staleBy: 0 }
    scheduled.push(entry)
    return entry
  }
  add('setup', 0, 2, op.create(QUEUE), 1)
  add('setup', 3, 5, op.create(MEMBERS), 4)

  const subOp = (session: string, group: number): MultiSubOp => {
    const pick = (): string => `/k${Math.min(options.paths - 1, group * GROUP + prng.uint32(gen, 0, GROUP - 1))}`
    switch (prng.uint32(gen, 0, 3)) {
      case 0: return op.create(pick(), data(), 'persistent', session)
      case 1: return op.set(pick(), data(), version())
      case 2: return op.delete(pick(), version())
      default: return op.check(pick(), version())
    }
  }
  const randomOp = (client: string, session: string): ModelOp => {
    if (chance(options.multiRate)) {
      const group = prng.uint32(gen, 0, Math.ceil(options.paths / GROUP) - 1)
      return op.multi(...Array.from({ length: prng.uint32(gen, 2, 3) }, () => subOp(session, group)))
    }
    const roll = prng.uint32(gen, 0, 99)
    const local = chance(options.localReadRate)
    if (roll < 25) return op.get(pick(), local)
    if (roll < 30) return op.exists(pick(), local)
    if (roll < 35) return op.children(prng.bool(gen) ? QUEUE : pick(), local)
    if (roll < 55) return op.set(pick(), data(), -1)
    if (roll < 65) return op.set(pick(), data(), version())
    if (roll < 72) return op.create(prng.uint32(gen, 0, 4) === 0 ? `${pick()}/c` : pick(), data(), 'persistent', session)
    if (roll < 75) return prng.bool(gen) ? op.create(`${MEMBERS}/${client}`, data(), 'ephemeral', session) : op.children(MEMBERS)
    if (roll < 82) return op.create(`${QUEUE}/n-`, data(), prng.bool(gen) ? 'persistent-sequential' : 'ephemeral-sequential', session)
    if (roll < 85) return op.delete(`${QUEUE}/n-${sequenceSuffix(prng.uint32(gen, 0, 30))}`, -1)
    if (roll < 96) return op.delete(prng.uint32(gen, 0, 4) === 0 ? `${pick()}/c` : pick(), version())
    return op.closeSession(session)
  }

  // the clients' calls, each strictly after the previous one ended
  const perClient = Math.ceil(options.operations / options.clients)
  for (let c = 0; c < options.clients; c++) {
    const client = `c${c}`
    let sessionNumber = 0
    let now = 6 + prng.uint32(gen, 0, 5)
    for (let i = 0; i < perClient && scheduled.length <= options.operations; i++) {
      const session = `${client}-s${sessionNumber}`
      const input = randomOp(client, session)
      if (input.kind === 'close-session') sessionNumber++
      const call = now
      const at = call + prng.uint32(gen, 1, 10)
      if (chance(options.timeoutRate)) {
        add(client, call, null, input, prng.bool(gen) ? at : null)
        now = at + 30
      } else {
        const entry = add(client, call, at + prng.uint32(gen, 1, 10), input, at)
        now = entry.operation.ret! + prng.uint32(gen, 1, 3)
        plantBug(entry, options, chance, gen)
      }
    }
  }

  // apply in linearization order; a stale read answers from an older state
  const effects = scheduled.flatMap(entry => [
    ...(entry.at === null ? [] : [{ at: entry.at, entry, first: true }]),
    ...(entry.againAt === null ? [] : [{ at: entry.againAt, entry, first: false }]),
  ]).sort((a, b) => a.at - b.at)
  const states: TreeState[] = [TreeState.empty()]
  for (const { entry, first } of effects) {
    const current = states[states.length - 1]!
    const outcome = step(current, entry.operation.input)
    if (outcome.state !== current) states.push(outcome.state)
    if (!first || entry.operation.ret === null) continue
    const local = 'local' in entry.operation.input && entry.operation.input.local === true
    const staleBy = local ? prng.uint32(gen, 0, 3) : entry.staleBy
    entry.operation.output = staleBy === 0
      ? outcome.result
      : step(states[Math.max(0, states.length - 1 - staleBy)]!, entry.operation.input).result
  }
  return scheduled.map(entry => entry.operation)
}

const plantBug = (entry: Scheduled, options: WorkloadOptions, chance: (rate: number) => boolean, gen: prng.PRNG): void => {
  const plant = options.plant
  if (plant === undefined || !chance(plant.rate)) return
  const input = entry.operation.input
  if (plant.bug === 'stale-read' && (input.kind === 'get' || input.kind === 'exists' || input.kind === 'children') && input.local !== true) {
    entry.staleBy = prng.uint32(gen, 2, 12)
  }
  const repeatable = (input.kind === 'set' && input.version === -1) || (input.kind === 'create' && input.mode.endsWith('sequential'))
  if (plant.bug === 'double-apply' && repeatable) entry.againAt = entry.at! + prng.uint32(gen, 1, 20)
}
