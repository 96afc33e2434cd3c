// Errors the core raises towards its driver. Only local API calls throw
// (propose, proposeConfChange, readIndex, compact, construction); a message
// from a peer never makes the core throw: bad input is ignored.

/**
 * - NO_LEADER: no leader is known to forward a proposal or read to.
 * - NOT_LEADER: the call is only valid on the leader (conf changes).
 * - UNCOMMITTED_TOO_LARGE: the leader holds maxUncommittedEntriesSize bytes of
 *   uncommitted entries already (backpressure instead of unbounded growth).
 * - TRANSFER_IN_PROGRESS: the leader is handing leadership over.
 * - CONF_CHANGE_PENDING: an earlier conf change is not applied yet.
 * - INVALID_CONF_CHANGE: the change is not valid against the current config.
 * - BAD_CONF_CHANGE_ENCODING: decodeConfChange got malformed bytes.
 * - BAD_COMPACTION: compact() at an index that is not applied or already compacted.
 * - BAD_CONFIG: RaftConfig is unusable.
 */
export type RaftErrorCode =
  | 'NO_LEADER'
  | 'NOT_LEADER'
  | 'UNCOMMITTED_TOO_LARGE'
  | 'TRANSFER_IN_PROGRESS'
  | 'CONF_CHANGE_PENDING'
  | 'INVALID_CONF_CHANGE'
  | 'BAD_CONF_CHANGE_ENCODING'
  | 'BAD_COMPACTION'
  | 'BAD_CONFIG'

export class RaftError extends Error {
  readonly code: RaftErrorCode
  constructor(code: RaftErrorCode, message?: string) {
    super(message === undefined ? code : `${code}: ${message}`)
    this.name = 'RaftError'
    this.code = code
  }
}
