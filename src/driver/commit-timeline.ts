// The commit timeline (issue 16): with the member option `timeline: true`, the
// instant each log entry passes each stage of its way to commit, measured on
// the member where the stage happens — a leader's save is timed in the
// leader's tab, a follower's in the follower's. Nothing is carried on the
// wire (no new field an attacker could write): every member keeps its own
// records by (index, term), and `joinCommitTimelines` puts one write's
// records from every member together afterwards (the bench collects them
// from every tab; their clocks are the one machine's, as epoch ms).
//
// What must stay true:
// - off (no recorder) costs nothing: every hook is `ctx.timeline?.x(...)`,
//   one property read and no allocation;
// - recording never changes what the member does: the recorder only reads
//   what it is handed, and throws nothing;
// - memory is bounded: the oldest records go beyond MAX_RECORDS.
//
// Where each hook is: submitted/resolved in requests.ts, forwarded and
// proposed in command-route.ts, committed/persisted/sent in ready-loop.ts
// (one line each), acknowledged in dispatch.ts, applied in apply-entries.ts.
import type { Entry, Message } from '../raft/types'
import type { Command } from '../tree/types'
import type { CommitStage, CommitTimelineRecord } from '../shared/types'

/** The stages in the order they happen (the order the bench prints). */
export const COMMIT_STAGES: readonly CommitStage[] = ['submitted', 'forwarded', 'proposed', 'leaderPersisted', 'appSent', 'followerPersisted', 'acknowledged', 'committed', 'applied', 'resolved']

/** Entry records (and own writes not yet applied) kept at most; the oldest go first. */
export const MAX_RECORDS = 10_000

export class CommitTimelineRecorder {
  /** what this member saw of each entry, by index (a later term's entry at the same index replaces it) */
  private readonly entries = new OldestFirst<number, CommitTimelineRecord>(MAX_RECORDS)
  /** this tab's writes by `session seq`: before apply their own record, after it the entry's */
  private readonly writes = new Map<string, CommitTimelineRecord>()
  /** leader: indexes proposed here and not yet acknowledged by a follower, ascending */
  private unacked: number[] = []

  constructor(
    private readonly member: string,
    private readonly now: () => number,
  ) {}

  /** requester: the app called the write, and it took `seq` */
  submitted(session: string, seq: number): void {
    const rec: CommitTimelineRecord = { member: this.member, index: 0, term: 0, write: { session, seq }, stages: { submitted: this.now() } }
    this.writes.set(writeKey(session, seq), rec)
    trim(this.writes)
  }

  /** requester: a follower handed the write to its link to the leader (a resend keeps the first instant) */
  forwarded(cmd: Command): void {
    if (cmd.type !== 'txn') return
    const rec = this.writes.get(writeKey(cmd.session, cmd.seq))
    if (rec !== undefined) rec.stages.forwarded ??= this.now()
  }

  /** leader: an entry went into the log at (index, term) */
  proposed(index: number, term: number): void {
    const rec = this.entry(index, term)
    if (rec.stages.proposed !== undefined) return
    rec.stages.proposed = this.now()
    this.unacked.push(index)
  }

  /** any member: a Ready handed these entries over as committed (before its save) */
  committed(entries: Entry[]): void {
    if (entries.length === 0) return
    const t = this.now()
    for (const e of entries) this.entry(e.index, e.term).stages.committed ??= t
  }

  /** any member: the save holding these entries completed */
  persisted(entries: Entry[], leader: boolean): void {
    if (entries.length === 0) return
    const t = this.now()
    for (const e of entries) {
      const stages = this.entry(e.index, e.term).stages
      if (leader) stages.leaderPersisted ??= t
      else stages.followerPersisted ??= t
    }
  }

  /** leader: these messages went to the links; the first MsgApp carrying an entry times it */
  sent(messages: readonly Message[]): void {
    let t: number | undefined
    for (const m of messages) {
      if (m.type !== 'MsgApp') continue
      for (const e of m.entries) this.entry(e.index, e.term).stages.appSent ??= t ??= this.now()
    }
  }

  /** leader: a message arrived; a follower's acknowledgement times every entry of ours it covers.
   *  The index is the peer's word, read before the core checks it: a lying
   *  peer can only make this diagnostic wrong (it never changes what we do),
   *  and no more than the entries we proposed are touched. */
  heard(m: Message): void {
    if (m.type !== 'MsgAppResp' || m.reject || this.unacked.length === 0) return
    let t: number | undefined
    let i = 0
    for (; i < this.unacked.length && this.unacked[i]! <= m.index; i++) {
      const rec = this.entries.get(this.unacked[i]!)
      if (rec !== undefined) rec.stages.acknowledged ??= t ??= this.now()
    }
    if (i > 0) this.unacked = this.unacked.slice(i)
  }

  /** any member: the entry was applied; a txn of this tab's joins its write's stages to the entry's */
  applied(e: Entry, cmd: Command | null): void {
    const rec = this.entry(e.index, e.term)
    rec.stages.applied ??= this.now()
    if (cmd?.type !== 'txn') return
    const key = writeKey(cmd.session, cmd.seq)
    const own = this.writes.get(key)
    if (own === undefined || own === rec || own.index !== 0) return
    rec.write = { session: cmd.session, seq: cmd.seq }
    if (own.stages.submitted !== undefined) rec.stages.submitted = own.stages.submitted
    if (own.stages.forwarded !== undefined) rec.stages.forwarded = own.stages.forwarded
    this.writes.set(key, rec)
  }

  /** requester: the write's promise settled (its last stage: the record leaves the write table) */
  resolved(session: string, seq: number): void {
    const key = writeKey(session, seq)
    const rec = this.writes.get(key)
    if (rec === undefined) return
    rec.stages.resolved = this.now()
    this.writes.delete(key)
  }

  /** Copies of the records, entries by index, then own writes that never applied. */
  records(): CommitTimelineRecord[] {
    const out: CommitTimelineRecord[] = []
    for (const rec of [...this.entries.values()].sort((a, b) => a.index - b.index)) out.push(copy(rec))
    for (const rec of this.writes.values()) if (rec.index === 0) out.push(copy(rec))
    return out
  }

  private entry(index: number, term: number): CommitTimelineRecord {
    const found = this.entries.get(index)
    if (found?.term === term) return found
    // a new entry, or a later leader's entry replacing an uncommitted one at this index
    const rec: CommitTimelineRecord = { member: this.member, index, term, stages: {} }
    this.entries.set(index, rec)
    return rec
  }
}

function writeKey(session: string, seq: number): string {
  return `${session} ${seq}`
}

/**
 * A map holding at most `max` keys, dropping the oldest first, in O(1) per
 * insertion. Once full, every entry record evicts one: asking a Map for its
 * first key after many deletions at its front makes V8 walk past every
 * deleted slot until the table is rebuilt (measured in Node: 7 µs per
 * insertion at 10,000 records, 2-4 % of a bench tab's CPU in the 64-writer
 * run), so the insertion order is kept in an array of its own.
 */
class OldestFirst<K, V> {
  private readonly map = new Map<K, V>()
  private order: K[] = []
  private head = 0

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    return this.map.get(key)
  }

  /** a key already present keeps its place in the order */
  set(key: K, value: V): void {
    if (!this.map.has(key)) this.order.push(key)
    this.map.set(key, value)
    while (this.map.size > this.max) this.map.delete(this.order[this.head++]!)
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head)
      this.head = 0
    }
  }

  values(): IterableIterator<V> {
    return this.map.values()
  }
}

function trim<K>(map: Map<K, unknown>): void {
  if (map.size <= MAX_RECORDS) return
  // a Map iterates in insertion order: the first key is the oldest
  for (const oldest of map.keys()) {
    map.delete(oldest)
    return
  }
}

function copy(rec: CommitTimelineRecord): CommitTimelineRecord {
  return { ...rec, ...(rec.write === undefined ? {} : { write: { ...rec.write } }), stages: { ...rec.stages } }
}
