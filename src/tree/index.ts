// src/tree: the znode tree, sessions, dedup table and watch matching — a pure,
// deterministic state machine over committed entries (see shared/design.md).
export * from './types'
export { TreeError } from './errors'
export { validatePath, MAX_PATH_LENGTH } from './paths'
export { encodeCommand, decodeCommand, commandProblem, opProblem, sessionIdProblem, MAX_OPS_PER_TXN } from './command'
export { ZTree, DEFAULT_MAX_DATA_BYTES } from './ztree'
export { SessionTracker } from './session-tracker'
export type { SessionView } from './session-tracker'
export { WatchTable } from './watches'
export type { WatchKind, WatchRegistration, Delivery, WatchTreeView } from './watches'
export { MAX_RESULTS_PER_SESSION } from './dedup'
export { exportNodes } from './export'
export type { ExportedNode, NodeKind } from './export'
