// fast-check generators of well-formed commands over a small path space, so
// random sequences hit existing nodes, conflicts and every error path.
import fc from 'fast-check'
import type { Command, CreateMode, ParentsMode, TxnOp } from '../../src/tree/types'
import { CREATE_MODES, PARENTS_MODES } from '../../src/tree/command'

export const SESSIONS = ['s1', 's2', 's3'] as const
const names = ['a', 'b', 'c']
export const arbPath = fc
  .array(fc.constantFrom(...names), { minLength: 1, maxLength: 3 })
  .map((segs) => '/' + segs.join('/'))
const arbData = fc.uint8Array({ maxLength: 8 })
const arbVersion = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 3 }))
const arbMode: fc.Arbitrary<CreateMode> = fc.constantFrom(...CREATE_MODES)
const arbTime = fc.integer({ min: 0, max: 10_000 })
/** most creates make no parents; some make them as containers or persistent nodes */
const arbParents: fc.Arbitrary<ParentsMode | undefined> = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.constantFrom(...PARENTS_MODES))

export const arbOp: fc.Arbitrary<TxnOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(arbPath, arbData, arbMode, fc.integer({ min: 1, max: 2_000 }), arbParents).map(([path, data, mode, ttl, parents]): TxnOp => {
      const op: TxnOp = mode === 'ttl' || mode === 'ttl-sequential' ? { op: 'create', path, data, mode, ttlMs: ttl } : { op: 'create', path, data, mode }
      if (parents !== undefined) op.parents = parents
      return op
    }),
  },
  fc.tuple(arbPath, arbData, arbVersion).map(([path, data, version]): TxnOp => ({ op: 'set', path, data, version })),
  fc.tuple(arbPath, arbVersion).map(([path, version]): TxnOp => ({ op: 'delete', path, version })),
  fc.tuple(arbPath, arbVersion).map(([path, version]): TxnOp => ({ op: 'check', path, version })),
  fc.tuple(arbPath, fc.integer({ min: 0, max: 40 })).map(([path, token]): TxnOp => ({ op: 'fence', path, token })),
)

const arbSession = fc.constantFrom(...SESSIONS)

export const arbCommand: fc.Arbitrary<Command> = fc.oneof(
  { weight: 1, arbitrary: fc.tuple(arbSession, fc.integer({ min: 1, max: 5_000 }), arbTime).map(([session, timeoutMs, time]): Command => ({ type: 'open-session', session, timeoutMs, time })) },
  { weight: 1, arbitrary: fc.tuple(arbSession, arbTime).map(([session, time]): Command => ({ type: 'close-session', session, time })) },
  { weight: 1, arbitrary: fc.tuple(fc.subarray([...SESSIONS]), arbTime).map(([sessions, time]): Command => ({ type: 'expire-sessions', sessions, time })) },
  {
    weight: 8,
    arbitrary: fc
      .tuple(arbSession, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.array(arbOp, { minLength: 1, maxLength: 4 }), arbTime)
      .map(([session, seq, ackedBelow, multi, ops, time]): Command => ({ type: 'txn', session, seq, ackedBelow, multi, ops: multi ? ops : ops.slice(0, 1), time })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(fc.tuple(arbPath, fc.integer({ min: 0, max: 60 })), { maxLength: 3 }), arbTime)
      .map(([nodes, time]): Command => ({ type: 'reap', nodes: nodes.map(([path, czxid]) => ({ path, czxid })), time })),
  },
  { weight: 1, arbitrary: arbTime.map((time): Command => ({ type: 'noop', time })) },
)

/** a log that opens every session first, then runs random commands (sessions may close and re-open) */
export const arbLog = (maxLength: number): fc.Arbitrary<Command[]> =>
  fc
    .array(arbCommand, { minLength: Math.min(20, maxLength), maxLength, size: 'max' })
    .map((cmds) => [...SESSIONS.map((session): Command => ({ type: 'open-session', session, timeoutMs: 1_000, time: 0 })), ...cmds])
