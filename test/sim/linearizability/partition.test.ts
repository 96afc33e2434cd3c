import { describe, expect, it } from 'vitest'
import type { Operation } from './history'
import { HistoryBuilder, answer, op } from './ops'
import { partitionHistory } from './partition'

const keysOfPartitions = (history: Operation[]): string[][] =>
  partitionHistory(history).partitions.map(partition => partition.keys).sort((a, b) => a[0]!.localeCompare(b[0]!))

describe('partitioning by the state each operation depends on', () => {
  it('operations on unrelated top-level paths are independent (the root is not shared)', () => {
    expect(keysOfPartitions(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x'), answer.created('/x'))
      .add('b', 0, 1, op.create('/y'), answer.created('/y'))
      .add('a', 2, 3, op.set('/x', 'v'), answer.setTo(1))
      .build())).toEqual([['/x'], ['/y']])
  })

  it('a child joins its parent, since the parent decides create and the child decides the parent\'s delete', () => {
    expect(keysOfPartitions(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x'), answer.created('/x'))
      .add('a', 2, 3, op.create('/x/c'), answer.created('/x/c'))
      .add('b', 0, 1, op.get('/y'), answer.error('NO_NODE'))
      .build())).toEqual([['/x', '/x/c'], ['/y']])
  })

  it('a children read or a sequential create of the root joins the top-level paths', () => {
    expect(keysOfPartitions(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x'), answer.created('/x'))
      .add('b', 0, 1, op.create('/y'), answer.created('/y'))
      .add('c', 2, 3, op.children('/'), answer.children('x', 'y'))
      .build())).toEqual([['/', '/x', '/y']])
    expect(keysOfPartitions(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x'), answer.created('/x'))
      .add('b', 0, 1, op.create('/n-', '', 'persistent-sequential'), answer.created('/n-0000000000'))
      .add('c', 2, 3, op.get('/n-0000000000'), answer.data('', 0))
      .build())).toEqual([['/', '/n-0000000000', '/x']])
  })

  it('a multi joins the paths it touches', () => {
    expect(keysOfPartitions(new HistoryBuilder()
      .add('a', 0, 1, op.multi(op.create('/x'), op.check('/y')), answer.error('NO_NODE', 1))
      .add('b', 0, 1, op.get('/z'), answer.error('NO_NODE'))
      .build())).toEqual([['/x', '/y'], ['/z']])
  })

  it('closing a session joins every path it created as ephemeral, and its session key', () => {
    expect(keysOfPartitions(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x', '', 'ephemeral', 's1'), answer.created('/x'))
      .add('a', 0, 1, op.create('/y', '', 'ephemeral', 's1'), answer.created('/y'))
      .add('b', 0, 1, op.create('/z', '', 'ephemeral', 's2'), answer.created('/z'))
      .add('sys', 5, 6, op.closeSession('s1'), answer.closed())
      .build())).toEqual([['/x', '/y', 'session:s1'], ['/z', 'session:s2']])
  })

  it('sets aside local reads, timed-out reads and SESSION_EXPIRED answers of non-ephemeral operations', () => {
    const { partitions, skipped } = partitionHistory(new HistoryBuilder()
      .add('a', 0, 1, op.create('/x'), answer.created('/x'))
      .add('a', 2, 3, op.get('/x', true), answer.data('', 0))
      .maybe('b', 2, op.get('/x'))
      .add('c', 2, 3, op.set('/x', 'v'), answer.error('SESSION_EXPIRED'))
      .add('c', 4, 5, op.create('/e', '', 'ephemeral', 's'), answer.error('SESSION_EXPIRED'))
      .build())
    expect(skipped.map(o => o.id)).toEqual([1, 2, 3])
    expect(partitions.flatMap(p => p.operations.map(o => o.id)).sort()).toEqual([0, 4])
  })
})
