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
// Maybe-applied operations (ret = null) may be linearized anywhere after their
// call, or never; any answer is accepted since none was seen. They are not in
// the event list: the search tries them only when the returned operations are
// stuck (see checkPartition), and stops as soon as every returned operation is
// placed (leaving the rest out is the same as placing them after everything).
//
// Events at the same virtual time: calls sort before returns, so an operation
// returning at t and one called at t count as concurrent (the lenient reading;
// a stricter one could report false violations when the clock ticks coarsely).
//
// Budget: the search makes at most `maxSteps` moves (tries + undos) per
// partition, 5,000,000 by default; beyond it the verdict is `unknown` instead
// of a hang. Ordinary histories need a few moves per operation; the budget is
// spent only by wide concurrency with many maybe-applied operations (seed 704
// of the znode workload, 131 timed-out calls of 284 with 42 on one key, needs
// between 1 and 5 million: it ran out at the former 1,000,000 once commit-only
// saves stopped being waited for, and is linearizable).
import type { History, Operation } from './history'
import { validateHistory } from './history'
import { describeOp, describeResult, sameResult, step, TreeState } from './model'
import type { Partition } from './partition'
import { partitionHistory } from './partition'

export const DEFAULT_MAX_STEPS = 5_000_000

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

/** The call and return events of operations that returned, in time order, after a sentinel head. */
const buildEventList = (operations: readonly Operation[], indexes: readonly number[]): Event => {
  const events: Event[] = []
  operations.forEach((op, position) => {
    const index = indexes[position]!
    const call: Event = { op: index, isCall: true, time: op.call, match: null, prev: null, next: null }
    const ret: Event = { op: index, isCall: false, time: op.ret!, match: null, prev: null, next: null }
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

/** The linearized set as a bitset with an incrementally kept hash, for memoisation. */
class Bitset {
  readonly words: Uint32Array
  hash = 0

  constructor (size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32))
  }

  set (index: number): void {
    this.words[index >>> 5]! |= 1 << (index & 31)
    this.hash = (this.hash ^ bitHash(index)) >>> 0
  }

  clear (index: number): void {
    this.words[index >>> 5]! &= ~(1 << (index & 31))
    this.hash = (this.hash ^ bitHash(index)) >>> 0
  }

  has (index: number): boolean {
    return (this.words[index >>> 5]! & (1 << (index & 31))) !== 0
  }

  sameAs (words: Uint32Array): boolean {
    for (let i = 0; i < words.length; i++) if (words[i] !== this.words[i]) return false
    return true
  }
}

/** A well-mixed 32-bit value per operation index (murmur3's finaliser), XORed into Bitset.hash. */
const bitHash = (index: number): number => {
  let h = Math.imul(index + 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** The (linearized set, state) pairs already explored, bucketed by a combined hash. */
class Memo {
  private readonly buckets = new Map<number, { words: Uint32Array, state: TreeState }[]>()

  /** Records the pair; false when it was there already. */
  add (linearized: Bitset, state: TreeState): boolean {
    const key = (linearized.hash ^ Math.imul(state.hash, 0x27d4eb2d)) >>> 0
    let bucket = this.buckets.get(key)
    if (bucket === undefined) this.buckets.set(key, bucket = [])
    else if (bucket.some(seen => linearized.sameAs(seen.words) && seen.state.equals(state))) return false
    bucket.push({ words: linearized.words.slice(), state })
    return true
  }
}

/** Where the search resumes: the main event list, or the pending maybe-applied operations from an index. */
type Cursor = { phase: 'returned', event: Event | null } | { phase: 'maybe', from: number }

/**
 * Operations that returned go through the event list (Lowe's algorithm).
 * Maybe-applied operations are tried only when the returned ones are stuck
 * (the scan reached a return): most timed-out calls were never applied or
 * are only seen later, so placing them last keeps the search greedy. One is
 * never placed where it changes nothing: that is the same as leaving it out.
 */
export const checkPartition = (partition: Partition, options: CheckOptions = {}): PartitionVerdict => {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS
  const operations = partition.operations
  const returnedIndexes = operations.flatMap((op, index) => op.ret === null ? [] : [index])
  const maybeIndexes = operations.flatMap((op, index) => op.ret === null ? [index] : []).sort((a, b) => operations[a]!.call - operations[b]!.call)
  const head = buildEventList(returnedIndexes.map(index => operations[index]!), returnedIndexes)
  const linearized = new Bitset(operations.length)
  const memo = new Memo()
  const stack: { op: number, call: Event | null, maybeSlot: number, before: TreeState }[] = []
  let state = TreeState.empty()
  let unplacedReturned = returnedIndexes.length
  let best: { order: number[], state: TreeState } = { order: [], state }
  let steps = 0
  let cursor: Cursor = { phase: 'returned', event: head.next }

  /** Linearizes operation `index` next if the model agrees and the result is new; true if it did. */
  const tryPlace = (index: number, call: Event | null, maybeSlot: number): boolean => {
    const op = operations[index]!
    const outcome = step(state, op.input)
    if (op.output === null ? outcome.state.equals(state) : !sameResult(outcome.result, op.output)) return false
    linearized.set(index)
    if (!memo.add(linearized, outcome.state)) {
      linearized.clear(index)
      return false
    }
    stack.push({ op: index, call, maybeSlot, before: state })
    state = outcome.state
    if (call !== null) {
      lift(call)
      unplacedReturned--
    }
    if (stack.length > best.order.length) best = { order: stack.map(entry => entry.op), state }
    cursor = { phase: 'returned', event: head.next }
    return true
  }

  while (unplacedReturned > 0) {
    if (++steps > maxSteps) {
      return { verdict: 'unknown', steps, explanation: explain(partition, best, `step budget of ${maxSteps} moves ran out`) }
    }
    if (cursor.phase === 'returned') {
      const event: Event | null = cursor.event
      if (event !== null && event.isCall) {
        if (!tryPlace(event.op, event, -1)) cursor = { phase: 'returned', event: event.next }
      } else {
        cursor = { phase: 'maybe', from: 0 }
      }
      continue
    }
    // a maybe-applied operation may go here if it was called before the first pending return
    const deadline = firstReturnTime(head)
    let slot = cursor.from
    while (slot < maybeIndexes.length && linearized.has(maybeIndexes[slot]!)) slot++
    const candidate = maybeIndexes[slot]
    if (candidate !== undefined && operations[candidate]!.call <= deadline) {
      if (!tryPlace(candidate, null, slot)) cursor = { phase: 'maybe', from: slot + 1 }
      continue
    }
    // stuck: undo the last choice and try the next candidate after it
    const undone = stack.pop()
    if (undone === undefined) {
      return { verdict: 'violation', steps, explanation: explain(partition, best, 'not linearizable') }
    }
    state = undone.before
    linearized.clear(undone.op)
    if (undone.call !== null) {
      unlift(undone.call)
      unplacedReturned++
      cursor = { phase: 'returned', event: undone.call.next }
    } else {
      cursor = { phase: 'maybe', from: undone.maybeSlot + 1 }
    }
  }
  return { verdict: 'linearizable', steps }
}

const firstReturnTime = (head: Event): number => {
  let event = head.next
  while (event !== null && event.isCall) event = event.next
  return event?.time ?? Infinity
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
