// Linearizability checking of znode histories (Porcupine-style).
//
// What the workload author does:
//
//   const recorder = new HistoryRecorder(() => clock.now)   // virtual ms
//   const id = recorder.call('client-3', op.set('/k7', 'x', 2))
//   ... when the client's promise settles:
//   recorder.returned(id, answer.setTo(3))          // or answer.error('BAD_VERSION')
//   recorder.timedOut(id)                           // TIMEOUT / connection lost: maybe applied
//   ... at the end:
//   const result = checkHistory(recorder.history())
//   if (!result.ok) throw new Error(`${result.verdict}\n${result.explanation}`)
//
// Recording rules (what the checker assumes):
// - record each client call once, even if the client library retried it
//   underneath: the answer is the one the app saw. A retry applied twice then
//   shows up as a violation (extra version, NODE_EXISTS for its own create,
//   an extra sequential child).
// - answers: `answer.*` (ops.ts) builds them: the created path (sequential
//   creates included), the new version of a set, data and version for get, the
//   version or null for exists, sorted child names, per-op results of a multi,
//   or a ZnodeErrorCode (opIndex optional: an answer without it matches any index).
//   Any other MeshError (TIMEOUT, NO_QUORUM, CLOSED, ...) => `timedOut(id)`:
//   the checker then lets the call take effect once after its call, or never.
// - data is a string (record `text()` of a get); write unique values (say the
//   operation id): equal values make the search guess which write a read saw.
// - the tree starts empty (only "/"): record setup creates as operations too.
// - a session that expires or is closed must be recorded as an
//   `op.closeSession(id)` operation, e.g. client 'system', call = when the
//   expiry or close was proposed, ret = when a member first applied it (the
//   interval must contain the commit). Ephemeral creates carry their session.
//   The model checks sessions only for ephemeral creates: a set or delete that
//   succeeds from an expired session is not caught, and SESSION_EXPIRED answers
//   of operations that create no ephemeral node are taken as "no effect".
// - local reads (`op.get(path, true)` etc.) are recorded but left out: they are
//   sequentially consistent, not linearizable. Linearizable (ReadIndex) reads
//   are checked, so a follower serving them without ReadIndex is caught.
// - equal times: a return at t and a call at t count as concurrent.
// - `checkHistory(history, { maxSteps })`: the search budget per partition
//   (default 5,000,000 moves); `verdict: 'unknown'` when it runs out. `ok` is
//   false for both 'violation' and 'unknown', so a bare `if (!result.ok)` fails safe.
//   The cost grows with what shares a partition (a multi joins its paths, a
//   session close joins everything the session made ephemeral, a children read
//   or sequential create joins a directory's children) and with timed-out
//   writes never seen again. `npx tsx test/sim/linearizability/bench.ts` prints figures.
// - the model (model.ts) is written from ZooKeeper's rules, not from src/tree.
export type {
  CreateMode, History, ModelOp, ModelResult, MultiSubOp, OkValue, Operation, ZnodeErrorCode,
} from './history'
export { ANY_VERSION, HistoryRecorder, validateHistory } from './history'
export { HistoryBuilder, answer, op } from './ops'
export type { WorkloadOptions } from './generate'
export { generateHistory } from './generate'
export type { CheckOptions, CheckResult } from './checker'
export { DEFAULT_MAX_STEPS, checkHistory, checkPartition } from './checker'
export type { Partition, Partitioning } from './partition'
export { partitionHistory } from './partition'
export { TreeState, step as modelStep, describeOp, describeResult } from './model'
