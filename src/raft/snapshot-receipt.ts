// A follower's receipt of a chunked snapshot (MsgSnap): the chunks of one
// snapshot are assembled in order into a buffer of the announced size, and
// each chunk gets an answer — an ack of the bytes held so far, a refusal that
// makes the leader start over, or the whole snapshot once the last chunk is
// in. Separate from follower.ts because it is its own small protocol over
// untrusted input (every size, offset and configuration of a chunk is
// checked here before a byte is allocated) and needs nothing of the state
// machine but the commit index; installing the snapshot stays in follower.ts.
import type { ConfState, NodeId, Snapshot, SnapshotChunk, SnapshotMeta } from './types'
import { isCount } from './types'

/** Largest snapshot a follower assembles from chunks (untrusted `total`). */
export const MAX_SNAPSHOT_BYTES = 1 << 30

/** What to do with a chunk, as the follower answers it. */
export type ChunkOutcome =
  /** malformed, or a stale chunk of an older snapshot: no answer */
  | { kind: 'ignore' }
  /** our log already holds everything up to the snapshot: answer MsgAppResp at our commit index */
  | { kind: 'committed' }
  /** MsgSnapResp: the first `received` bytes are held, send on from there */
  | { kind: 'ack'; received: number }
  /** MsgSnapResp refusing the chunk: the leader starts over from offset 0 */
  | { kind: 'refuse' }
  /** the last chunk is in: install this snapshot */
  | { kind: 'complete'; snapshot: Snapshot }

interface IncomingSnapshot {
  meta: SnapshotMeta
  /** the term of the message that began it: a leader's own older snapshot is stale */
  msgTerm: number
  total: number
  received: number
  buf: Uint8Array
}

export class SnapshotReceipt {
  private incoming: IncomingSnapshot | null = null

  /**
   * Take one chunk of a message of term `msgTerm`, given our commit index
   * and the term of the entry at it. Only one snapshot is assembled at a
   * time: a chunk of another snapshot starts it over (when it is a first
   * chunk) or is refused.
   */
  receive(c: SnapshotChunk, msgTerm: number, committed: number, committedTerm: number): ChunkOutcome {
    const meta = c.meta
    if (!isCount(meta.index) || !isCount(meta.term) || !isCount(c.offset) || !isCount(c.total)) return IGNORE
    if (c.total > MAX_SNAPSHOT_BYTES || c.offset + c.data.length > c.total || !isConfState(meta.conf)) return IGNORE
    if (meta.index > committed && !possibleSnapshotTerm(meta.term, msgTerm, committedTerm)) return IGNORE
    if (meta.index <= committed) {
      // we already have all of it
      this.incoming = null
      return { kind: 'committed' }
    }
    let inc = this.incoming
    const same = inc !== null && inc.meta.index === meta.index && inc.meta.term === meta.term && inc.total === c.total
    if (!same) {
      // a chunk of an older snapshot from the same leader is stale: drop it
      if (inc !== null && msgTerm === inc.msgTerm && meta.index < inc.meta.index) return IGNORE
      if (c.offset !== 0) return REFUSE
      inc = { meta, msgTerm, total: c.total, received: 0, buf: new Uint8Array(c.total) }
      this.incoming = inc
    }
    inc = inc!
    if (c.offset < inc.received) return { kind: 'ack', received: inc.received } // a duplicate
    if (c.offset > inc.received) {
      this.incoming = null // a gap: restart from the beginning
      return REFUSE
    }
    inc.buf.set(c.data, c.offset)
    inc.received += c.data.length
    if (inc.received < inc.total) return { kind: 'ack', received: inc.received }
    this.incoming = null
    return { kind: 'complete', snapshot: { meta: inc.meta, data: inc.buf } }
  }
}

/**
 * Could a genuine leader of term `msgTerm` send a snapshot of term `term`
 * reaching past our commit, whose last entry has `committedTerm`? Terms
 * never fall along a log, so the snapshot's last entry has at least our
 * committed entry's term; no leader holds an entry of a later term than its
 * own, and every entry has a term of at least 1. A snapshot failing this was
 * forged (or corrupted): installing it would replace committed entries.
 */
function possibleSnapshotTerm(term: number, msgTerm: number, committedTerm: number): boolean {
  return term >= 1 && term >= committedTerm && term <= msgTerm
}

const IGNORE: ChunkOutcome = { kind: 'ignore' }
const REFUSE: ChunkOutcome = { kind: 'refuse' }

const isIdList = (xs: unknown): xs is NodeId[] =>
  Array.isArray(xs) && xs.every((x) => typeof x === 'string' && x.length > 0)

/** A snapshot's configuration must be usable before we adopt it. */
function isConfState(cs: ConfState): boolean {
  return (
    isIdList(cs.voters) &&
    cs.voters.length > 0 &&
    isIdList(cs.learners) &&
    isIdList(cs.votersOutgoing) &&
    isIdList(cs.learnersNext) &&
    typeof cs.autoLeave === 'boolean'
  )
}
