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
// proposed in command-route.ts, taken/committed/saved/persisted/sent in
// ready-loop.ts (one line each), heard in dispatch.ts, arrived/handled in
// links.ts (around the decoding of each frame), applied in apply-entries.ts.
//
// Each hop of a write is split where it happens: a message was sent (appSent,
// ackSent, commitSent; a forward: forwarded), reached the member before any
// decoding (…Arrived: the link's part ends here), was decoded and about to
// be stepped (…Heard: decoding), the Ready holding its effect was taken
// (appTaken, acknowledged → leaderCommitted, committed: the core's step and
// the Ready loop's wait for room), that Ready's save completed (saved) and
// the Ready loop reached it in order (…Persisted). A frame's arrival is
// stamped before the member knows what it holds, and given to the message
// it turns out to carry (`arrived`, then `heard` or `proposed`).
import type { Entry, Message } from '../raft/types'
import type { Command } from '../tree/types'
import type { CommitStage, CommitTimelineRecord } from '../shared/types'

/** The stages in the order they happen (the order the bench prints). */
export const COMMIT_STAGES: readonly CommitStage[] = [
  'submitted', 'forwarded', 'forwardArrived', 'proposed', 'saved', 'leaderPersisted', 'appSent', 'appArrived', 'appHeard', 'appTaken', 'followerPersisted', 'ackSent',
  'ackArrived', 'acknowledged', 'commitSent', 'commitArrived', 'commitHeard', 'committed', 'applied', 'resolved',
]

/** Entry records (and own writes not yet applied) kept at most; the oldest go first. */
export const MAX_RECORDS = 10_000

export class CommitTimelineRecorder {
  /** what this member saw of each entry, by index (a later term's entry at the same index replaces it) */
  private readonly entries = new OldestFirst<number, CommitTimelineRecord>(MAX_RECORDS)
  /** this tab's writes by `session seq`: before apply their own record, after it the entry's */
  private readonly writes = new Map<string, CommitTimelineRecord>()
  /** leader: indexes proposed here and not yet acknowledged by a follower, ascending */
  private unacked: number[] = []
  /** follower: indexes saved here and not yet acknowledged to the leader, ascending */
  private unackSent = new IndexQueue()
  /** leader: indexes committed here and not yet sent on as committed, ascending */
  private commitUnsent = new IndexQueue()
  /** follower: commit indexes heard above any heard before, with when their
   *  message arrived and was decoded, until a Ready hands their entries over */
  private commitsHeard: { commit: number; arrived: number; heard: number }[] = []
  /** when the frame being handled reached the member (between arrived and handled), else undefined */
  private arrival: number | undefined

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

  /** leader: an entry went into the log at (index, term); a peer's forward
   *  (proposed while its frame is handled) also gets the frame's arrival */
  proposed(index: number, term: number): void {
    const rec = this.entry(index, term)
    if (rec.stages.proposed !== undefined) return
    rec.stages.proposed = this.now()
    if (this.arrival !== undefined) rec.stages.forwardArrived = this.arrival
    this.unacked.push(index)
  }

  /** any member: a frame reached the member from a link, before it is decoded */
  arrived(): void {
    this.arrival = this.now()
  }

  /** any member: the frame `arrived` stamped was handled (nothing of it remains) */
  handled(): void {
    this.arrival = undefined
  }

  /** any member: a Ready was taken holding these new entries (before its save) */
  taken(entries: Entry[], leader: boolean): void {
    if (entries.length === 0 || leader) return
    const t = this.now()
    for (const e of entries) this.entry(e.index, e.term).stages.appTaken ??= t
  }

  /** any member: a Ready handed these entries over as committed (before its
   *  save); a follower's also get when the commit index that covers them
   *  arrived and was decoded, a leader's wait to be sent on as committed */
  committed(entries: Entry[], leader: boolean): void {
    if (entries.length === 0) return
    const t = this.now()
    let k = 0
    for (const e of entries) {
      const stages = this.entry(e.index, e.term).stages
      stages.committed ??= t
      if (leader) {
        this.commitUnsent.push(e.index)
        continue
      }
      while (k < this.commitsHeard.length && this.commitsHeard[k]!.commit < e.index) k++
      const heard = this.commitsHeard[k]
      if (heard === undefined) continue
      stages.commitArrived ??= heard.arrived
      stages.commitHeard ??= heard.heard
    }
    // what covers only entries handed over now is spent
    const last = entries[entries.length - 1]!.index
    let spent = 0
    while (spent < this.commitsHeard.length && this.commitsHeard[spent]!.commit <= last) spent++
    if (spent > 0) this.commitsHeard = this.commitsHeard.slice(spent)
  }

  /** any member: the save holding these entries completed (the Ready loop reaches it in order: persisted) */
  saved(entries: readonly Entry[] | undefined): void {
    if (entries === undefined || entries.length === 0) return
    const t = this.now()
    for (const e of entries) this.entry(e.index, e.term).stages.saved ??= t
  }

  /** any member: the Ready loop reached the Ready whose save held these entries */
  persisted(entries: Entry[], leader: boolean): void {
    if (entries.length === 0) return
    const t = this.now()
    for (const e of entries) {
      const stages = this.entry(e.index, e.term).stages
      if (leader) stages.leaderPersisted ??= t
      else {
        stages.followerPersisted ??= t
        this.unackSent.push(e.index)
      }
    }
  }

  /** any member: this message went to its link (each is timed once handed
   *  over: on a BroadcastChannel the hand-over itself is most of a send's
   *  cost). The first MsgApp carrying an entry times appSent; the first
   *  MsgApp or heartbeat whose commit index covers an entry committed here,
   *  commitSent; the first acknowledgement that covers an entry saved here,
   *  ackSent. */
  sent(m: Message): void {
    let t: number | undefined
    if (m.type === 'MsgApp') for (const e of m.entries) this.entry(e.index, e.term).stages.appSent ??= t ??= this.now()
    if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') {
      for (const index of this.commitUnsent.upTo(m.commit)) {
        const rec = this.entries.get(index)
        if (rec !== undefined) rec.stages.commitSent ??= t ??= this.now()
      }
    } else if (m.type === 'MsgAppResp' && !m.reject) {
      for (const index of this.unackSent.upTo(m.index)) {
        const rec = this.entries.get(index)
        if (rec !== undefined) rec.stages.ackSent ??= t ??= this.now()
      }
    }
  }

  /** any member: a raft message from a peer was decoded and is about to be
   *  stepped (after the consensus gate). At a leader a follower's
   *  acknowledgement times every entry of ours it covers; at a follower a
   *  MsgApp times the entries it carries and, when it brings a higher commit
   *  index, the entries that index covers once a Ready hands them over.
   *  Indexes are the peer's word, read before the core checks them: a lying
   *  peer can only make this diagnostic wrong (it never changes what we do);
   *  at most the entries we proposed, the entries it carries and one record
   *  per raised commit index are touched. */
  heard(m: Message): void {
    if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat') {
      const high = this.commitsHeard.at(-1)?.commit ?? 0
      if (m.entries.length === 0 && m.commit <= high) return
      const t = this.now()
      const arrived = this.arrival ?? t
      for (const e of m.entries) {
        const stages = this.entry(e.index, e.term).stages
        stages.appArrived ??= arrived
        stages.appHeard ??= t
      }
      if (m.commit > high) {
        this.commitsHeard.push({ commit: m.commit, arrived, heard: t })
        if (this.commitsHeard.length > MAX_RECORDS) this.commitsHeard = this.commitsHeard.slice(-MAX_RECORDS / 2)
      }
      return
    }
    if (m.type !== 'MsgAppResp' || m.reject || this.unacked.length === 0 || this.unacked[0]! > m.index) return
    const t = this.now()
    const arrived = this.arrival ?? t
    let i = 0
    for (; i < this.unacked.length && this.unacked[i]! <= m.index; i++) {
      const rec = this.entries.get(this.unacked[i]!)
      if (rec === undefined) continue
      rec.stages.ackArrived ??= arrived
      rec.stages.acknowledged ??= t
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

/** Ascending log indexes waiting for a message that covers them; at most MAX_RECORDS, the oldest go first. */
class IndexQueue {
  private items: number[] = []

  push(index: number): void {
    if (this.items.length > 0 && this.items[this.items.length - 1]! >= index) return
    this.items.push(index)
    if (this.items.length > MAX_RECORDS) this.items = this.items.slice(-MAX_RECORDS / 2)
  }

  /** the indexes up to `index`, which leave the queue */
  upTo(index: number): number[] {
    let i = 0
    while (i < this.items.length && this.items[i]! <= index) i++
    if (i === 0) return []
    const out = this.items.slice(0, i)
    this.items = this.items.slice(i)
    return out
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
