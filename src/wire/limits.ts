// Every bound the wire layer enforces on peer input, in one place. A decoder
// that reads a count, a length or a number checks it against one of these
// before it allocates or loops. Raise a bound only together with the sender
// that needs it: a receiver with a lower bound drops the sender's messages.

import { MAX_RAFT_NUMBER } from '../raft/types'

const KiB = 1024
const MiB = 1024 * KiB

/** Member ids: the IndexedDB slot name of a member. ASCII only, so a byte
 *  length and a character length agree and ids print safely in logs. */
export const MEMBER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
export const MAX_ID_LENGTH = 64

/** Terms, indexes, commit indexes, offsets: JavaScript numbers stay exact up
 *  to 2^53 - 1, and a varuint above it could not round-trip. */
export const MAX_WIRE_UINT = Number.MAX_SAFE_INTEGER

/** Raft terms and log indexes (and offsets into the log): the core's own
 *  bound, far below MAX_WIRE_UINT so that `+ 1` never leaves exact numbers. */
export const MAX_RAFT_UINT = MAX_RAFT_NUMBER

/** One entry's data: an encoded tree command (the node bounds a forwarded
 *  command at 4 MiB) plus room for the command's own framing. */
export const MAX_ENTRY_BYTES = 4 * MiB + 64 * KiB

/** Entries in one MsgApp/MsgProp. The core bounds a MsgApp by bytes
 *  (maxSizePerMsg, default 1 MiB); this bounds the count of tiny entries
 *  (a leader's no-op has empty data) so a peer cannot make us loop forever. */
export const MAX_ENTRIES_PER_MESSAGE = 65_536

/** Bytes of one snapshot chunk (the core's maxSnapshotChunkSize, default
 *  256 KiB, may be raised up to this). */
export const MAX_SNAPSHOT_CHUNK_BYTES = 4 * MiB

/** A whole snapshot, as announced by `SnapshotChunk.total`: the follower
 *  assembles it in memory. */
export const MAX_SNAPSHOT_BYTES = 1024 * MiB

/** Members in one list of a ConfState. */
export const MAX_CONF_MEMBERS = 1024

/** Message.context: a ReadIndex request id, or a transferee's member id. */
export const MAX_CONTEXT_BYTES = 1 * KiB

/** One whole link message (envelope included). A MsgApp of maxSizePerMsg
 *  bytes may carry one entry larger than that (the core always sends at
 *  least one entry), so the bound is what the largest legal raft message
 *  needs plus envelope and sealing overhead. Checked before parsing. */
export const MAX_MESSAGE_BYTES = 16 * MiB + 64 * KiB

/** A signaling payload (SDP offer/answer or ICE candidate as JSON text). */
export const MAX_SIGNAL_TEXT_BYTES = 64 * KiB

/** A session's timeout (`sessionTimeoutMs`): an hour. A dead tab's locks and
 *  ephemerals stay held this long at most; a peer cannot open sessions that
 *  outlive everyone's patience (the tree itself would take 2^31 - 1 ms). */
export const MAX_MEMBER_SESSION_TIMEOUT_MS = 60 * 60 * 1000

/** Sessions one member may hold open in the tree (a tab opens one; dead tabs'
 *  sessions linger until they expire). The leader refuses the next open. */
export const MAX_SESSIONS_PER_MEMBER = 64

/** Commands one peer may have forwarded to the leader and not yet applied,
 *  and their bytes: beyond either the leader drops the forward (an honest
 *  member resends after its retry interval). */
export const MAX_FORWARDS_IN_FLIGHT = 256
export const MAX_FORWARD_BYTES_IN_FLIGHT = 16 * MiB
