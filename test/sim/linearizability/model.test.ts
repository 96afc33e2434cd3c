import { describe, expect, it } from 'vitest'
import type { ModelOp, ModelResult } from './history'
import { HistoryRecorder, validateHistory } from './history'
import { TreeState, step } from './model'
import { answer, op } from './ops'

/** Runs operations in order from the empty tree; returns every answer and the final state. */
const run = (...ops: ModelOp[]): { results: ModelResult[], state: TreeState } => {
  let state = TreeState.empty()
  const results = ops.map(input => {
    const outcome = step(state, input)
    state = outcome.state
    return outcome.result
  })
  return { results, state }
}

describe('the tree model', () => {
  it('versions start at 0 and grow by one per set; version -1 skips the check', () => {
    const { results } = run(op.create('/a', 'x'), op.set('/a', 'y'), op.set('/a', 'z', 1), op.set('/a', 'w', 1), op.get('/a'))
    expect(results).toEqual([answer.created('/a'), answer.setTo(1), answer.setTo(2), answer.error('BAD_VERSION'), answer.data('z', 2)])
  })

  it('delete checks the version before NOT_EMPTY, and exists answers null for a missing node', () => {
    const { results } = run(op.create('/a'), op.create('/a/b'), op.delete('/a', 3), op.delete('/a'), op.delete('/a/b'), op.delete('/a'), op.exists('/a'))
    expect(results).toEqual([
      answer.created('/a'), answer.created('/a/b'), answer.error('BAD_VERSION'), answer.error('NOT_EMPTY'),
      answer.deleted(), answer.deleted(), answer.exists(null),
    ])
  })

  it('sequential names are the parent cversion, ten digits, counting child creates only', () => {
    const { results } = run(
      op.create('/q'),
      op.create('/q/a-', '', 'persistent-sequential'),
      op.create('/q/plain'),
      op.delete('/q/plain'),
      op.create('/q/', '', 'ephemeral-sequential', 's1'),
      op.children('/q'),
    )
    expect(results).toEqual([
      answer.created('/q'), answer.created('/q/a-0000000000'), answer.created('/q/plain'), answer.deleted(),
      answer.created('/q/0000000002'), answer.children('0000000002', 'a-0000000000'),
    ])
  })

  it('the root exists and cannot be created; a missing parent is NO_NODE; an ephemeral parent refuses children', () => {
    const { results } = run(op.create('/'), op.create('/x/y'), op.create('/e', '', 'ephemeral', 's'), op.create('/e/c'), op.get('/'))
    expect(results).toEqual([
      answer.error('NODE_EXISTS'), answer.error('NO_NODE'), answer.created('/e'),
      answer.error('NO_CHILDREN_FOR_EPHEMERALS'), answer.data('', 0),
    ])
  })

  it('closing a session deletes its ephemerals only, and it stays closed', () => {
    const { results, state } = run(
      op.create('/a', '', 'ephemeral', 's1'), op.create('/b', '', 'ephemeral', 's2'), op.create('/p', '', 'persistent', 's1'),
      op.closeSession('s1'), op.exists('/a'), op.exists('/b'), op.exists('/p'),
      op.create('/c', '', 'ephemeral', 's1'), op.create('/d', '', 'persistent', 's1'),
    )
    expect(results.slice(3)).toEqual([
      answer.closed(), answer.exists(null), answer.exists(0), answer.exists(0),
      answer.error('SESSION_EXPIRED'), answer.created('/d'),
    ])
    expect(state.closedSessions.has('s1')).toBe(true)
  })

  it('invalid paths and deleting the root are BAD_ARGUMENTS', () => {
    const { results } = run(op.create('a'), op.set('/a//b', 'x'), op.get('/a/'), op.delete('/'), op.multi(op.create('/ok'), op.check('nope')))
    expect(results).toEqual([
      answer.error('BAD_ARGUMENTS'), answer.error('BAD_ARGUMENTS'), answer.error('BAD_ARGUMENTS'),
      answer.error('BAD_ARGUMENTS'), answer.error('BAD_ARGUMENTS', 1),
    ])
  })

  it('a multi with an ephemeral create of a closed session fails as a whole with SESSION_EXPIRED', () => {
    const { results } = run(op.closeSession('s1'), op.multi(op.create('/p'), op.create('/e', '', 'ephemeral', 's1')), op.exists('/p'))
    expect(results).toEqual([answer.closed(), answer.error('SESSION_EXPIRED'), answer.exists(null)])
  })

  it('a multi is all or nothing and reports the first failing index', () => {
    const { results } = run(
      op.create('/a'),
      op.multi(op.set('/a', 'x'), op.create('/b'), op.check('/a', 0)),
      op.exists('/b'), op.get('/a'),
      op.multi(op.set('/a', 'x'), op.create('/b'), op.check('/a', 1)),
    )
    expect(results).toEqual([
      answer.created('/a'), answer.error('BAD_VERSION', 2), answer.exists(null), answer.data('', 0),
      answer.multi({ kind: 'set', version: 1 }, { kind: 'create', path: '/b' }, { kind: 'check' }),
    ])
  })

  it('states reached by different orders of commuting operations are equal, with equal hashes', () => {
    const one = run(op.create('/a', 'x'), op.create('/b', 'y'), op.closeSession('s'))
    const other = run(op.closeSession('s'), op.create('/b', 'y'), op.create('/a', 'x'))
    expect(one.state.equals(other.state)).toBe(true)
    expect(one.state.hash).toBe(other.state.hash)
    const different = run(op.create('/a', 'x'), op.create('/b', 'z'), op.closeSession('s'))
    expect(one.state.equals(different.state)).toBe(false)
  })

  it('failed operations leave the very same state', () => {
    const { state } = run(op.create('/a'))
    expect(step(state, op.set('/missing', 'x')).state).toBe(state)
    expect(step(state, op.get('/a')).state).toBe(state)
  })
})

describe('HistoryRecorder', () => {
  it('records call and return times on the given clock, and timed-out calls as maybe applied', () => {
    let now = 0
    const recorder = new HistoryRecorder(() => now)
    const first = recorder.call('c1', op.create('/a'))
    now = 5
    const second = recorder.call('c2', op.get('/a'))
    now = 7
    recorder.returned(first, answer.created('/a'))
    recorder.timedOut(second)
    const history = recorder.history()
    expect(history).toEqual([
      { id: 0, client: 'c1', call: 0, ret: 7, input: op.create('/a'), output: answer.created('/a') },
      { id: 1, client: 'c2', call: 5, ret: null, input: op.get('/a'), output: null },
    ])
    expect(() => validateHistory(history)).not.toThrow()
    expect(() => recorder.returned(first, answer.created('/a'))).toThrow(/not open/)
  })

  it('a call still open when the history is taken counts as timed out', () => {
    const recorder = new HistoryRecorder(() => 3)
    recorder.call('c1', op.set('/a', 'x'))
    expect(recorder.history()).toEqual([{ id: 0, client: 'c1', call: 3, ret: null, input: op.set('/a', 'x'), output: null }])
  })

  it('validateHistory rejects malformed histories', () => {
    expect(() => validateHistory([{ id: 0, client: 'c', call: 5, ret: 3, input: op.get('/'), output: answer.data('', 0) }])).toThrow(/before its call/)
    expect(() => validateHistory([{ id: 0, client: 'c', call: 1, ret: 3, input: op.get('/'), output: null }])).toThrow(/output/)
  })
})
