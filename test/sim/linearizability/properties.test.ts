import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkHistory } from './checker'
import { generateHistory } from './generate'
import type { ModelOp, ModelResult, Operation } from './history'
import { fail, ok } from './history'
import { sameResult, step, TreeState } from './model'
import { isCheckable } from './partition'

/** A different answer of the same operation, or null when we do not corrupt this kind. */
const corrupt = (input: ModelOp, output: ModelResult): ModelResult | null => {
  if (!output.ok) {
    switch (input.kind) {
      case 'get': return ok({ kind: 'get', data: 'corrupt', version: 0 })
      case 'children': return ok({ kind: 'children', names: [] })
      case 'set': return ok({ kind: 'set', version: 1 })
      case 'delete': return ok({ kind: 'delete' })
      case 'create': return ok({ kind: 'create', path: input.path })
      default: return null
    }
  }
  const value = output.value
  switch (value.kind) {
    case 'get': return ok({ ...value, data: `${value.data}!` })
    case 'exists': return ok({ kind: 'exists', version: value.version === null ? 0 : null })
    case 'children': return ok({ kind: 'children', names: [...value.names, 'ghost'].sort() })
    case 'set': return ok({ kind: 'set', version: value.version + 1 })
    case 'create': return fail('NODE_EXISTS')
    case 'delete': return fail('NO_NODE')
    default: return null
  }
}

const withOutput = (history: Operation[], index: number, output: ModelResult): Operation[] =>
  history.map(op => op.id === index ? { ...op, output } : op)

/**
 * The definition, by brute force: some order of the checkable operations that
 * respects real time (an operation goes after every one that returned before it
 * was called) and places every operation that returned (timed-out ones may be
 * left out) makes the model give every observed answer. No partitioning, no memo.
 */
const bruteForceLinearizable = (history: Operation[]): boolean => {
  const ops = history.filter(isCheckable)
  const placed = new Set<number>()
  const search = (state: TreeState): boolean => {
    if (ops.every((op, i) => op.ret === null || placed.has(i))) return true
    return ops.some((op, i) => {
      if (placed.has(i)) return false
      const blocked = ops.some((other, j) => j !== i && !placed.has(j) && other.ret !== null && other.ret < op.call)
      if (blocked) return false
      const outcome = step(state, op.input)
      if (op.output !== null && !sameResult(outcome.result, op.output)) return false
      placed.add(i)
      const found = search(outcome.state)
      placed.delete(i)
      return found
    })
  }
  return search(TreeState.empty())
}

describe('histories of an atomic store are linearizable', () => {
  it('for random workloads with timeouts, multis, sessions and local reads', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }),
      (seed, clients, paths) => {
        const history = generateHistory({ seed, operations: 150, clients, paths, timeoutRate: 0.1, multiRate: 0.1, localReadRate: 0.2 })
        const result = checkHistory(history)
        expect(result.ok ? 'linearizable' : result.explanation).toBe('linearizable')
      },
    ), { numRuns: 60 })
  })
})

describe('a corrupted answer in a sequential history is always caught', () => {
  it('one client, so the only order is the call order and any other answer is wrong', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.nat(), (seed, pick) => {
      const history = generateHistory({ seed, operations: 80, clients: 1, paths: 3 })
      const corruptible = history.flatMap(op => {
        const output = op.output === null ? null : corrupt(op.input, op.output)
        return output === null ? [] : [{ op, output }]
      })
      fc.pre(corruptible.length > 0)
      const chosen = corruptible[pick % corruptible.length]!
      expect(checkHistory(history).ok).toBe(true)
      expect(checkHistory(withOutput(history, chosen.op.id, chosen.output)).verdict).toBe('violation')
    }), { numRuns: 100 })
  })
})

describe('the checker agrees with the brute-force definition', () => {
  it('on small concurrent histories, corrupted or not', () => {
    const verdicts = { linearizable: 0, violation: 0 }
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.nat(), fc.boolean(), fc.constantFrom(1, 4, 8),
      (seed, pick, doCorrupt, tick) => {
        // a coarse clock (tick > 1) makes calls and returns share times
        let history = generateHistory({ seed, operations: 7, clients: 3, paths: 2, timeoutRate: 0.2, multiRate: 0.15 })
          .map(op => ({ ...op, call: Math.floor(op.call / tick), ret: op.ret === null ? null : Math.floor(op.ret / tick) }))
        if (doCorrupt) {
          const returned = history.filter(op => op.output !== null)
          const target = returned[pick % Math.max(1, returned.length)]
          const output = target === undefined ? null : corrupt(target.input, target.output!)
          if (target !== undefined && output !== null) history = withOutput(history, target.id, output)
        }
        const expected = bruteForceLinearizable(history)
        expect(checkHistory(history).ok).toBe(expected)
        verdicts[expected ? 'linearizable' : 'violation']++
      },
    ), { numRuns: 500 })
    // both answers were exercised, so agreement means something
    expect(verdicts.linearizable).toBeGreaterThan(30)
    expect(verdicts.violation).toBeGreaterThan(30)
  })
})

describe('planted bugs are reported', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8]

  it('linearizable reads served by a follower without ReadIndex (stale)', () => {
    for (const seed of seeds) {
      const history = generateHistory({ seed, operations: 400, clients: 5, paths: 6, timeoutRate: 0.02, plant: { bug: 'stale-read', rate: 0.2 } })
      expect(checkHistory(history).verdict).toBe('violation')
      // and without the bug the same workload passes
      expect(checkHistory(generateHistory({ seed, operations: 400, clients: 5, paths: 6, timeoutRate: 0.02 })).ok).toBe(true)
    }
  })

  it('a retried request applied twice', () => {
    for (const seed of seeds) {
      const history = generateHistory({ seed, operations: 400, clients: 5, paths: 6, timeoutRate: 0.02, plant: { bug: 'double-apply', rate: 0.2 } })
      expect(checkHistory(history).verdict).toBe('violation')
    }
  })
})
