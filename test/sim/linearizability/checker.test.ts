import { describe, expect, it } from 'vitest'
import { checkHistory } from './checker'
import type { Operation } from './history'
import { HistoryBuilder, answer, op } from './ops'

const expectLinearizable = (history: Operation[]): void => {
  const result = checkHistory(history)
  expect(result.ok ? 'linearizable' : result.explanation).toBe('linearizable')
}

const expectViolation = (history: Operation[]): string => {
  const result = checkHistory(history)
  expect(result.verdict).toBe('violation')
  return result.ok ? '' : result.explanation
}

describe('single register behaviour (set/get on one path)', () => {
  it('a read after a completed write must see it: a stale read is a violation', () => {
    const history = new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('a', 2, 3, op.set('/x', 'v1'), answer.setTo(1))
      .add('b', 4, 5, op.get('/x'), answer.data('v0', 0))
      .build()
    const explanation = expectViolation(history)
    expect(explanation).toContain('get(/x)')
    expect(explanation).toContain('the model answers "v1" v1')
  })

  it('a read concurrent with a write may see either value', () => {
    const readsOld = new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('a', 2, 10, op.set('/x', 'v1'), answer.setTo(1))
      .add('b', 3, 4, op.get('/x'), answer.data('v0', 0))
      .build()
    const readsNew = new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('a', 2, 10, op.set('/x', 'v1'), answer.setTo(1))
      .add('b', 3, 4, op.get('/x'), answer.data('v1', 1))
      .build()
    expectLinearizable(readsOld)
    expectLinearizable(readsNew)
  })

  it('concurrent writes may take effect in either order, but a read must agree with the versions they report', () => {
    const writes = (first: 'p' | 'q'): HistoryBuilder => new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', ''), answer.created('/x'))
      .add('a', 2, 10, op.set('/x', 'p'), answer.setTo(first === 'p' ? 1 : 2))
      .add('b', 3, 9, op.set('/x', 'q'), answer.setTo(first === 'q' ? 1 : 2))
    expectLinearizable(writes('p').add('c', 11, 12, op.get('/x'), answer.data('q', 2)).build())
    expectLinearizable(writes('q').add('c', 11, 12, op.get('/x'), answer.data('p', 2)).build())
    // p was second (version 2) yet the final read shows q
    expectViolation(writes('p').add('c', 11, 12, op.get('/x'), answer.data('p', 2)).build())
  })

  it('a read of a value never written is a violation', () => {
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('a', 2, 10, op.set('/x', 'v1'), answer.setTo(1))
      .add('b', 3, 9, op.get('/x'), answer.data('v7', 1))
      .build())
  })

  it('a version that skips (two sets seen as versions 1 and 3) is a violation', () => {
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', ''), answer.created('/x'))
      .add('a', 2, 3, op.set('/x', 'p'), answer.setTo(1))
      .add('b', 4, 5, op.set('/x', 'q'), answer.setTo(3))
      .build())
  })

  it('a conditional set checks the version: BAD_VERSION only when it differs', () => {
    const history = new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', ''), answer.created('/x'))
      .add('a', 2, 3, op.set('/x', 'p', 0), answer.setTo(1))
      .add('b', 4, 5, op.set('/x', 'q', 0), answer.error('BAD_VERSION'))
    expectLinearizable(history.build())
    expectViolation(history.add('b', 6, 7, op.set('/x', 'r', 1), answer.error('BAD_VERSION')).build())
  })
})

describe('a retried request applied twice', () => {
  it('an unconditional set applied twice shows as a double version bump', () => {
    // one call of client a; the cluster applied its retry too, so the next read sees version 2
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', ''), answer.created('/x'))
      .add('a', 2, 5, op.set('/x', 'p'), answer.setTo(1))
      .add('b', 6, 7, op.get('/x'), answer.data('p', 2))
      .build())
  })

  it('a create answering NODE_EXISTS for its own (first, applied) attempt is a violation', () => {
    expectViolation(new HistoryBuilder()
      .add('a', 0, 5, op.create('/x', 'mine'), answer.error('NODE_EXISTS'))
      .add('b', 6, 7, op.get('/x'), answer.data('mine', 0))
      .build())
  })

  it('NODE_EXISTS is fine when another client created the node concurrently', () => {
    expectLinearizable(new HistoryBuilder()
      .add('b', 0, 3, op.create('/x', 'theirs'), answer.created('/x'))
      .add('a', 1, 5, op.create('/x', 'mine'), answer.error('NODE_EXISTS'))
      .add('b', 6, 7, op.get('/x'), answer.data('theirs', 0))
      .build())
  })

  it('a sequential create applied twice leaves an extra child', () => {
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/q'), answer.created('/q'))
      .add('a', 2, 5, op.create('/q/item-', 'job', 'persistent-sequential'), answer.created('/q/item-0000000001'))
      .add('b', 6, 7, op.children('/q'), answer.children('item-0000000000', 'item-0000000001'))
      .build())
  })
})

describe('sequential nodes', () => {
  it('names come from the parent cversion, which counts creates only, so a number is never reused', () => {
    expectLinearizable(new HistoryBuilder()
      .add('a', 0, 1, op.create('/q'), answer.created('/q'))
      .add('a', 2, 3, op.create('/q/n-', '', 'persistent-sequential'), answer.created('/q/n-0000000000'))
      .add('a', 4, 5, op.delete('/q/n-0000000000'), answer.deleted())
      .add('a', 6, 7, op.create('/q/n-', '', 'persistent-sequential'), answer.created('/q/n-0000000001'))
      .build())
  })

  it('two concurrent sequential creates get distinct numbers in either order', () => {
    const history = (aGets: number, bGets: number): Operation[] => new HistoryBuilder()
      .add('a', 0, 1, op.create('/q'), answer.created('/q'))
      .add('a', 2, 6, op.create('/q/n-', 'a', 'persistent-sequential'), answer.created(`/q/n-000000000${aGets}`))
      .add('b', 3, 5, op.create('/q/n-', 'b', 'persistent-sequential'), answer.created(`/q/n-000000000${bGets}`))
      .build()
    expectLinearizable(history(0, 1))
    expectLinearizable(history(1, 0))
    // a duplicate sequence number
    expectViolation(history(0, 0))
  })
})

describe('parents and children', () => {
  it('create needs the parent; delete of a parent with children is NOT_EMPTY', () => {
    expectLinearizable(new HistoryBuilder()
      .add('a', 0, 1, op.create('/p/c'), answer.error('NO_NODE'))
      .add('a', 2, 3, op.create('/p'), answer.created('/p'))
      .add('a', 4, 5, op.create('/p/c'), answer.created('/p/c'))
      .add('a', 6, 7, op.delete('/p'), answer.error('NOT_EMPTY'))
      .add('a', 8, 9, op.children('/p'), answer.children('c'))
      .build())
    expectViolation(new HistoryBuilder()
      .add('a', 2, 3, op.create('/p'), answer.created('/p'))
      .add('a', 4, 5, op.create('/p/c'), answer.created('/p/c'))
      .add('b', 6, 7, op.delete('/p'), answer.deleted())
      .build())
  })

  it('an ephemeral node cannot have children', () => {
    expectLinearizable(new HistoryBuilder()
      .add('a', 0, 1, op.create('/e', '', 'ephemeral', 's1'), answer.created('/e'))
      .add('a', 2, 3, op.create('/e/c'), answer.error('NO_CHILDREN_FOR_EPHEMERALS'))
      .build())
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/e', '', 'ephemeral', 's1'), answer.created('/e'))
      .add('a', 2, 3, op.create('/e/c'), answer.created('/e/c'))
      .build())
  })
})

describe('sessions and ephemeral nodes', () => {
  const withEphemeral = (): HistoryBuilder => new HistoryBuilder()
    .add('a', 0, 1, op.create('/lock', 'a', 'ephemeral', 's1'), answer.created('/lock'))
    .add('system', 10, 11, op.closeSession('s1'), answer.closed())

  it('an ephemeral node is gone once its session has expired', () => {
    expectLinearizable(withEphemeral().add('b', 12, 13, op.exists('/lock'), answer.exists(null)).build())
    expectViolation(withEphemeral().add('b', 12, 13, op.exists('/lock'), answer.exists(0)).build())
  })

  it('an expired session cannot create ephemerals, and SESSION_EXPIRED before the expiry is a violation', () => {
    expectLinearizable(withEphemeral().add('a', 12, 13, op.create('/lock2', '', 'ephemeral', 's1'), answer.error('SESSION_EXPIRED')).build())
    expectViolation(withEphemeral().add('a', 12, 13, op.create('/lock2', '', 'ephemeral', 's1'), answer.created('/lock2')).build())
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/lock', '', 'ephemeral', 's1'), answer.error('SESSION_EXPIRED'))
      .add('system', 10, 11, op.closeSession('s1'), answer.closed())
      .build())
  })

  it('other sessions keep their ephemerals', () => {
    expectLinearizable(withEphemeral()
      .add('b', 2, 3, op.create('/other', '', 'ephemeral', 's2'), answer.created('/other'))
      .add('b', 12, 13, op.exists('/other'), answer.exists(0))
      .build())
  })
})

describe('real-time order', () => {
  it('an operation returning at t and one called at t count as concurrent', () => {
    expectLinearizable(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('a', 2, 5, op.set('/x', 'v1'), answer.setTo(1))
      .add('b', 5, 6, op.get('/x'), answer.data('v0', 0))
      .build())
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('a', 2, 5, op.set('/x', 'v1'), answer.setTo(1))
      .add('b', 6, 7, op.get('/x'), answer.data('v0', 0))
      .build())
  })
})

describe('maybe-applied operations (timed out)', () => {
  it('may take effect just after their call, inside a concurrent operation', () => {
    expectLinearizable(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('b', 3, 5, op.get('/x'), answer.data('v1', 1))
      .maybe('a', 4, op.set('/x', 'v1'))
      .build())
  })


  it('may take effect after their call', () => {
    expectLinearizable(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .maybe('a', 2, op.set('/x', 'v1'))
      .add('b', 20, 21, op.get('/x'), answer.data('v1', 1))
      .build())
  })

  it('may never take effect', () => {
    expectLinearizable(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .maybe('a', 2, op.set('/x', 'v1'))
      .add('b', 20, 21, op.get('/x'), answer.data('v0', 0))
      .build())
  })

  it('cannot take effect before their call', () => {
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('b', 2, 3, op.get('/x'), answer.data('v1', 1))
      .maybe('a', 5, op.set('/x', 'v1'))
      .build())
  })

  it('take effect at most once: once seen, a later read cannot go back', () => {
    expectViolation(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .maybe('a', 2, op.set('/x', 'v1'))
      .add('b', 20, 21, op.get('/x'), answer.data('v1', 1))
      .add('b', 22, 23, op.get('/x'), answer.data('v0', 0))
      .build())
  })
})

describe('multi is atomic', () => {
  const setup = (): HistoryBuilder => new HistoryBuilder()
    .add('a', 0, 1, op.create('/a', '0'), answer.created('/a'))
    .add('a', 2, 3, op.create('/b', '0'), answer.created('/b'))

  it('a read sees all of a multi or none of it', () => {
    const history = setup()
      .add('a', 4, 20, op.multi(op.set('/a', '1'), op.set('/b', '1')), answer.multi({ kind: 'set', version: 1 }, { kind: 'set', version: 1 }))
      .add('b', 5, 6, op.get('/a'), answer.data('1', 1))
      .add('b', 7, 8, op.get('/b'), answer.data('0', 0))
    expectViolation(history.build())
  })

  it('reads on either side of a concurrent multi are fine', () => {
    expectLinearizable(setup()
      .add('a', 4, 20, op.multi(op.set('/a', '1'), op.set('/b', '1')), answer.multi({ kind: 'set', version: 1 }, { kind: 'set', version: 1 }))
      .add('b', 5, 6, op.get('/a'), answer.data('0', 0))
      .add('b', 7, 8, op.get('/b'), answer.data('1', 1))
      .build())
  })

  it('a failed multi changes nothing and names the failing operation', () => {
    expectLinearizable(setup()
      .add('a', 4, 5, op.multi(op.set('/a', '1'), op.check('/b', 7)), answer.error('BAD_VERSION', 1))
      .add('b', 6, 7, op.get('/a'), answer.data('0', 0))
      .build())
    expectViolation(setup()
      .add('a', 4, 5, op.multi(op.set('/a', '1'), op.check('/b', 7)), answer.error('BAD_VERSION', 1))
      .add('b', 6, 7, op.get('/a'), answer.data('1', 1))
      .build())
  })
})

describe('what is left out of the check', () => {
  it('local reads may be stale and are skipped', () => {
    const result = checkHistory(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('a', 2, 3, op.set('/x', 'v1'), answer.setTo(1))
      .add('b', 4, 5, op.get('/x', true), answer.data('v0', 0))
      .build())
    expect(result).toMatchObject({ ok: true, skipped: 1, checked: 2 })
  })
})

describe('partitions and explanations', () => {
  it('independent paths are checked apart and the explanation names the failing partition', () => {
    const result = checkHistory(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', 'v0'), answer.created('/x'))
      .add('b', 0, 1, op.create('/y', 'w0'), answer.created('/y'))
      .add('a', 2, 3, op.set('/y', 'w1'), answer.setTo(1))
      .add('b', 4, 5, op.get('/y'), answer.data('w0', 0))
      .add('c', 4, 5, op.get('/x'), answer.data('v0', 0))
      .build())
    expect(result.partitions).toBe(2)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.partition.keys).toEqual(['/y'])
    expect(result.explanation).toContain('longest linearizable prefix found (2 operations)')
    expect(result.explanation).toContain('#3 b [4, 5] get(/y) -> "w0" v0: the model answers "w1" v1')
  })

  it('reports unknown, not a verdict, when the step budget runs out', () => {
    const builder = new HistoryBuilder().add('a', 0, 1, op.create('/x', ''), answer.created('/x'))
    for (let i = 0; i < 12; i++) builder.maybe(`c${i}`, 2, op.set('/x', `w${i}`))
    builder.add('r', 3, 4, op.get('/x'), answer.data('never', 99))
    const result = checkHistory(builder.build(), { maxSteps: 200 })
    expect(result.verdict).toBe('unknown')
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.explanation).toMatch(/^step budget of 200 moves ran out/)
  })
})
