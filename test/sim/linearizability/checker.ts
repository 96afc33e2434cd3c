// The linearizability checker: Wing & Gong's search with Lowe's memoisation
// (as in Porcupine), run on each independent partition of the history.
//
// The search walks a doubly linked list of call and return events in time
// order. At a call it tries to linearize that operation next: apply it to the
// model and compare the model's answer with what the client saw. If they
// agree and the pair (set of linearized operations, model state) was never
// reached before, it commits to that choice (pushes it, removes the
// operation's events from the list) and starts again from the front. Reaching
// a return event means that operation should already have been linearized:
// undo the last choice and try the next candidate. The partition is
// linearizable when every operation that returned is linearized.
//
// Maybe-applied operations (ret = null) return "at +infinity": they may be
// linearized anywhere after their call, and any answer is accepted since none
// was seen. Leaving one out is the same as placing it after everything else,
// so the search stops as soon as every returned operation is placed.
//
// Events at the same virtual time: calls sort before returns, so an operation
// returning at t and one called at t count as concurrent (the lenient reading;
// a stricter one could report false violations when the clock ticks coarsely).
//
// Budget: the search makes at most `maxSteps` moves (tries + undos) per
// partition, 1,000,000 by default; beyond it the verdict is `unknown` instead
// of a hang. Ordinary histories need a few moves per operation; the budget is
// spent only by wide concurrency with many maybe-applied operations.
import type { History, Operation } from './history'
import { validateHistory } from './history'
import { describeOp, describeResult, sameResult, step, TreeState } from './model'
import type { Partition } from './partition'
import { partitionHistory } from './partition'

export const DEFAULT_MAX_STEPS = 1_000_000

export interface CheckOptions {
  /** search moves allowed per partition before giving up with `unknown` */
  maxSteps?: number
}

interface CheckStats {
  /** how many independent partitions were checked */
  partitions: number
  /** operations checked (all but the skipped) */
  checked: number
  /** operations left out: local reads, SESSION_EXPIRED answers of non-ephemeral operations */
  skipped: number
  /** search moves made over all partitions */
  steps: number
}

export type CheckResult =
  | ({ ok: true, verdict: 'linearizable' } & CheckStats)
  /**
   * verdict 'violation': no linearization exists for `partition`.
   * verdict 'unknown': the step budget ran out on `partition` (no violation found elsewhere).
   */
  | ({ ok: false, verdict: 'violation' | 'unknown', partition: Partition, explanation: string } & CheckStats)

type PartitionVerdict =
  | { verdict: 'linearizable', steps: number }
  | { verdict: 'violation' | 'unknown', steps: number, explanation: string }

/** Checks a whole history; stops at the first partition that is not linearizable. */
export const checkHistory = (history: History, options: CheckOptions = {}): CheckResult => {
  validateHistory(history)
  const { partitions, skipped } = partitionHistory(history)
  const stats: CheckStats = { partitions: partitions.length, checked: history.length - skipped.length, skipped: skipped.length, steps: 0 }
  let unknown: { partition: Partition, explanation: string } | null = null
  for (const partition of partitions) {
    const outcome = checkPartition(partition, options)
    stats.steps += outcome.steps
    if (outcome.verdict === 'violation') return { ok: false, verdict: 'violation', partition, explanation: outcome.explanation, ...stats }
    if (outcome.verdict === 'unknown' && unknown === null) unknown = { partition, explanation: outcome.explanation }
  }
  if (unknown !== null) return { ok: false, verdict: 'unknown', ...unknown, ...stats }
  return { ok: true, verdict: 'linearizable', ...stats }
}

interface Event {
  /** index into the partition's operations */
  readonly op: number
  readonly isCall: boolean
  readonly time: number
  /** a call's return event */
  match: Event | null
  prev: Event | null
  next: Event | null
}

const buildEventList = (operations: readonly Operation[]): Event => {
  const events: Event[] = []
  operations.forEach((op, index) => {
    const call: Event = { op: index, isCall: true, time: op.call, match: null, prev: null, next: null }
    const ret: Event = { op: index, isCall: false, time: op.ret ?? Infinity, match: null, prev: null, next: null }
    call.match = ret
    events.push(call, ret)
  })
  // stable sort: equal times keep calls before returns (see the header)
  events.sort((a, b) => a.time - b.time || Number(a.isCall === false) - Number(b.isCall === false))
  const head: Event = { op: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null }
  let last = head
  for (const event of events) {
    last.next = event
    event.prev = last
    last = event
  }
  return head
}

/** Takes a call and its return out of the list (they stay linked to their old neighbours for `unlift`). */
const lift = (call: Event): void => {
  for (const event of [call, call.match!]) {
    event.prev!.next = event.next
    if (event.next !== null) event.next.prev = event.prev
  }
}

/** Undoes `lift`, in the reverse order. */
const unlift = (call: Event): void => {
  for (const event of [call.match!, call]) {
    event.prev!.next = event
    if (event.next !== null) event.next.prev = event
  }
}

/** The linearized set as a bitset with a string key, for memoisation. */
class Bitset {
  private readonly words: Uint32Array

  constructor (size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32))
  }

  set (index: number): void { this.words[index >>> 5]! |= 1 << (index & 31) }
  clear (index: number): void { this.words[index >>> 5]! &= ~(1 << (index & 31)) }

  get key (): string {
    let key = ''
    for (const word of this.words) key += String.fromCharCode(word & 0xffff, word >>> 16)
    return key
  }
}

export const checkPartition = (partition: Partition, options: CheckOptions = {}): PartitionVerdict => {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS
  const operations = partition.operations
  const head = buildEventList(operations)
  const linearized = new Bitset(operations.length)
  const seen = new Set<string>()
  const stack: { call: Event, before: TreeState }[] = []
  let state: TreeState = TreeState.empty()
  let unplacedReturned = operations.filter(op => op.ret !== null).length
  let best: { order: number[], state: TreeState } = { order: [], state }
  let steps = 0
  let event = head.next

  while (unplacedReturned > 0) {
    if (++steps > maxSteps) {
      return { verdict: 'unknown', steps, explanation: explain(partition, best, `step budget of ${maxSteps} moves ran out`) }
    }
    if (event !== null && event.isCall) {
      const op = operations[event.op]!
      const outcome = step(state, op.input)
      if (op.output === null || sameResult(outcome.result, op.output)) {
        linearized.set(event.op)
        const memoKey = linearized.key + '#' + outcome.state.key
        if (!seen.has(memoKey)) {
          seen.add(memoKey)
          stack.push({ call: event, before: state })
          state = outcome.state
          lift(event)
          if (op.ret !== null) unplacedReturned--
          if (stack.length > best.order.length) best = { order: stack.map(entry => entry.call.op), state }
          event = head.next
          continue
        }
        linearized.clear(event.op)
      }
      event = event.next
    } else {
      // a return (or the end): that operation had to be placed before now
      const undone = stack.pop()
      if (undone === undefined) {
        return { verdict: 'violation', steps, explanation: explain(partition, best, 'not linearizable') }
      }
      state = undone.before
      linearized.clear(undone.call.op)
      unlift(undone.call)
      if (operations[undone.call.op]!.ret !== null) unplacedReturned++
      event = undone.call.next
    }
  }
  return { verdict: 'linearizable', steps }
}

const describeTimes = (op: Operation): string => `[${op.call}, ${op.ret ?? '∞'}]`

const describeOperation = (op: Operation): string =>
  `#${op.id} ${op.client} ${describeTimes(op)} ${describeOp(op.input)} -> ${describeResult(op.output)}`

/**
 * A readable account of a failed search: the longest linearizable prefix it
 * found, the model state after it, and why each candidate for the next place
 * does not fit (the model's answer differs from the client's, or placing it
 * leads to a dead end later).
 */
const explain = (partition: Partition, best: { order: number[], state: TreeState }, headline: string): string => {
  const operations = partition.operations
  const placed = new Set(best.order)
  const unplaced = operations.map((op, index) => ({ op, index })).filter(({ index }) => !placed.has(index))
  const deadline = Math.min(...unplaced.map(({ op }) => op.ret ?? Infinity))
  const candidates = unplaced.filter(({ op }) => op.call <= deadline)
  const lines = [
    `${headline}: partition over ${partition.keys.join(', ')} (${operations.length} operations)`,
    `longest linearizable prefix found (${best.order.length} operations):`,
    ...best.order.map(index => `  ${describeOperation(operations[index]!)}`),
    `model state after it: ${best.state.describe()}`,
    `none of these fits next (one of them must be placed before t=${deadline}):`,
    ...candidates.map(({ op }) => {
      const answer = step(best.state, op.input).result
      const why = op.output === null || sameResult(answer, op.output)
        ? `the model agrees (${describeResult(answer)}) but every order after it fails`
        : `the model answers ${describeResult(answer)}`
      return `  ${describeOperation(op)}: ${why}`
    }),
  ]
  return lines.join('\n')
}
