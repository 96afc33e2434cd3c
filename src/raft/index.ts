// The consensus core's public surface.
export { RawNode } from './raw-node'
export type { RaftStatus, ProgressStatus } from './raw-node'
export { RaftError } from './errors'
export type { RaftErrorCode } from './errors'
export {
  applyConfChange,
  allMembers,
  allVoters,
  decodeConfChange,
  emptyConfState,
  encodeConfChange,
  isJoint,
  isVoter,
} from './confchange'
export { majorityCommitted, jointCommitted, majorityVote, jointVote } from './quorum'
export type { VoteResult } from './quorum'
export type * from './types'
export { MAX_RAFT_NUMBER, MAX_TERM_JUMP } from './types'
export { PLANTED_BUGS } from './planted-bugs'
export { sendsBeforeSave } from './send-before-save'
