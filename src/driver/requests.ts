// Client writes, exactly once.
//
// A tab's session numbers its writes 1, 2, 3... (`seq`) and tells the tree
// which results it no longer needs (`ackedBelow`: every seq below it has been
// seen, so the dedup table may forget them). A write travels as an encoded
// tree Command: the leader stamps `time` and proposes it; a follower forwards
// it to the leader in a `forward` node message. No response message exists:
// the requester resolves when ITS OWN member applies the entry carrying its
// (session, seq). After a leader change, or when nothing happened for a
// while, the same command (same seq) is sent again; the dedup table turns a
// second copy into a replay of the first result, so a write applies once.
//
// What must stay true:
// - a seq is never reused for a different command;
// - ackedBelow never passes a seq whose copies might still be in flight and
//   whose result we have not seen (an abandoned request keeps it down), so the
//   tree can always recognise a late copy;
// - a command that could not be encoded is never queued: the encoder's own
//   checks (commandProblem) run once, in write(), so a resend can never throw
//   inside the tick;
// - a write that fails after it was submitted says its outcome is unknown
//   (MeshError.outcome): it may commit all the same.
//
// In-flight bound: at most MAX_FORWARDS_IN_FLIGHT writes (and about
// MAX_FORWARD_BYTES_IN_FLIGHT bytes) are handed to a leader and not yet
// applied; the next waits, unsent, and goes out as soon as one applies. These
// are the leader's per-peer budget (peer-budget.ts): a follower that sent
// more would see the excess dropped and resent only after retryMs. The
// leader counts a write until IT applies it, which may be after we did: what
// we send then waits at the leader for room (forward-intake.ts).
import { commandProblem, opProblem } from '../tree/command'
import type { Command, TxnOp, TxnResult } from '../tree/types'
import { MeshError } from '../shared/errors'
import type { MeshErrorDetails } from '../shared/errors'
import { MAX_ENTRY_BYTES, MAX_FORWARD_BYTES_IN_FLIGHT, MAX_FORWARDS_IN_FLIGHT } from '../wire/limits'
import type { CommitTimelineRecorder } from './commit-timeline'
import { oversizedData } from './peer-budget'

export type TxnCommand = Extract<Command, { type: 'txn' }>

/** the suffix of a claimed leadership (`member@claim`): a peer's claim named the member, its term unknown */
export const CLAIMED = '@claim'

/**
 * Do two leaderships (`leader@term`, `leader@claim`) name the same leader?
 * What went to a leader a claim named went to that leader: when the core
 * then learns it leads, nothing is sent to it again (a copy it lost goes
 * again after retryMs, as any unanswered request).
 */
export function sameLeadership(a: string | null, b: string | null): boolean {
  if (a === b) return true
  if (a === null || b === null || !(a.endsWith(CLAIMED) || b.endsWith(CLAIMED))) return false
  return a.slice(0, a.lastIndexOf('@')) === b.slice(0, b.lastIndexOf('@'))
}

/** What the pipeline needs from its member. */
export interface RequestRoute {
  now(): number
  /** true when this member can hand the command to a leader right now
   *  (proposing locally or forwarding); false when no leader is known */
  submit(cmd: Command): boolean
  /** a leader is known */
  hasLeader(): boolean
  /** who leads in which term (`leader@term`): a write already handed to this
   *  leadership is not resent on a leader change reported later (default:
   *  every leader change resends) */
  leadership?(): string | null
  /** writes may go before the session is known open: its open-session went
   *  to the current leader ahead of them (OwnSession.writable; default: no) */
  openAhead?(): boolean
}

export interface RequestTimings {
  /** resend an unresolved command after this long without a result */
  retryMs: number
  /** give up (TIMEOUT, or NO_QUORUM when no leader was known) after this long */
  timeoutMs: number
}

interface PendingWrite {
  cmd: TxnCommand
  /** an upper bound of its encoded size, for the in-flight bound */
  bytes: number
  sentAt: number | null
  /** the leadership it was last handed to (RequestRoute.leadership) */
  sentTo?: string | null
  deadline: number
  resolve: (r: TxnResult) => void
  reject: (e: MeshError) => void
}

/** Bound on abandoned seqs remembered; beyond it the oldest is forgotten
 *  (the tree's dedup table is bounded anyway). */
const MAX_ABANDONED = 256

export class RequestPipeline {
  private nextSeq = 1
  private readonly pending = new Map<number, PendingWrite>()
  /** timed-out seqs whose result we never saw: copies may still commit */
  private readonly abandoned = new Set<number>()
  private session: string
  private sessionReady = false
  /** writes handed to a leader (sentAt set) and not settled, and their bytes */
  private inFlight = 0
  private inFlightBytes = 0

  constructor(
    private readonly route: RequestRoute,
    private readonly timings: RequestTimings,
    session: string,
    /** the commit timeline (option `timeline`), or null: nothing recorded */
    private readonly timeline: CommitTimelineRecorder | null = null,
  ) {
    this.session = session
  }

  get sessionId(): string {
    return this.session
  }

  /** Requests wait until their session is open, or its open went ahead of them
   *  to the current leader (RequestRoute.openAhead). */
  setSessionReady(ready: boolean): void {
    this.sessionReady = ready
    if (ready) this.flush(true)
  }

  /**
   * A new session replaces an expired one: everything pending on the old
   * session fails with SESSION_EXPIRED, numbering starts again. As with
   * ZooKeeper's connection loss, such a write may still have committed
   * before the expiry: the outcome is unknown, read before retrying.
   */
  replaceSession(session: string): void {
    for (const p of this.pending.values()) p.reject(outcomeOf(p, new MeshError('SESSION_EXPIRED', 'the session expired before the write committed')))
    this.clearPending()
    this.abandoned.clear()
    this.session = session
    this.nextSeq = 1
    this.sessionReady = false
  }

  /**
   * Submit one txn. Resolves with the tree's result (ok or a failed txn).
   * A txn the command encoder would refuse is rejected with BAD_ARGUMENTS
   * here, before it takes a seq: nothing of it stays pending.
   */
  write(ops: TxnOp[], multi: boolean): Promise<TxnResult> {
    const seqIfTaken = this.nextSeq
    const written = new Promise<TxnResult>((resolve, reject) => {
      // the watermark before numbering: it may reach this seq, never pass it
      const ackedBelow = this.ackedBelow()
      const cmd: TxnCommand = { type: 'txn', session: this.session, seq: this.nextSeq, ackedBelow, multi, ops, time: 0 }
      const refused = unencodable(cmd)
      if (refused !== null) {
        reject(refused)
        return
      }
      const seq = this.nextSeq++
      const p: PendingWrite = { cmd, bytes: txnBytesUpperBound(ops), sentAt: null, deadline: this.route.now() + this.timings.timeoutMs, resolve, reject }
      this.pending.set(seq, p)
      this.timeline?.submitted(cmd.session, seq)
      this.send(p)
    })
    const timeline = this.timeline
    // a refused write took no seq: nothing to time
    if (timeline === null || this.nextSeq === seqIfTaken) return written
    // the write's last stage: its promise settles (the app's code after `await` runs next)
    const session = this.session
    return written.then((r) => {
      timeline.resolved(session, seqIfTaken)
      return r
    })
  }

  /** Called for every applied txn, before its promise may resolve anything else. */
  applied(cmd: TxnCommand, result: TxnResult): void {
    if (cmd.session !== this.session) return
    const p = this.pending.get(cmd.seq)
    if (p !== undefined && !this.sessionReady && !result.ok && result.code === 'SESSION_EXPIRED') {
      // a write sent right behind its session's open landed before it (the
      // open was refused or lost): the tree kept no trace of it, so it goes
      // again, to whichever leader hears our open next (sentTo: none), or
      // as soon as the open applies (setSessionReady flushes). Should the
      // session have ended instead, its open is refused and a new session
      // fails every write pending here (replaceSession).
      p.sentTo = null
      return
    }
    this.abandoned.delete(cmd.seq)
    if (p === undefined) return
    this.settle(cmd.seq, p)
    p.resolve(result)
    // room in flight: the oldest writes waiting for it go out now, not at the next tick
    if (this.pending.size > this.inFlight) this.sendWaiting()
  }

  /**
   * Called on every tick and on leader change. Resends what waited too long
   * (or everything, after a leader change) and fails what ran out of time.
   */
  flush(leaderChanged: boolean): void {
    const now = this.route.now()
    for (const [seq, p] of this.pending) {
      if (now >= p.deadline) {
        this.settle(seq, p)
        this.abandon(seq)
        p.reject(
          outcomeOf(
            p,
            this.route.hasLeader()
              ? new MeshError('TIMEOUT', `write did not commit within ${this.timings.timeoutMs} ms`)
              : new MeshError('NO_QUORUM', 'no leader: the write cannot commit'),
          ),
        )
        continue
      }
      // the leader change a tick reports may be one this write already went to
      // (a session opened as soon as its leader was known flushes at once)
      const moved = leaderChanged && this.notWithLeadership(p)
      if (moved || p.sentAt === null || now - p.sentAt >= this.timings.retryMs) this.send(p)
    }
  }

  /**
   * A leader became known (the Ready loop, as it learns one): what was handed
   * to an earlier leadership, or waited for any leader, goes to it now rather
   * than at the next tick. The tick would send it too, up to tickMs (100 ms in
   * a tab) later: after a leader tab closed, its successor led ~40 ms after
   * the close while the survivors' writes in flight waited for their tick
   * (bench flight records: the first write after the close committed at ~100
   * ms). What the leadership already has is not sent again, and what ran out
   * of time is left to the tick, which fails it.
   */
  leaderKnown(): void {
    const now = this.route.now()
    for (const p of this.pending.values()) {
      if (now >= p.deadline) continue
      if (p.sentAt === null || this.notWithLeadership(p)) this.send(p)
    }
  }

  /** `p` was not handed to the current leadership (without a way to tell
   *  leaderships apart, every leader change counts as a move). */
  private notWithLeadership(p: PendingWrite): boolean {
    return this.route.leadership === undefined || p.sentTo === undefined || !sameLeadership(p.sentTo, this.route.leadership())
  }

  /**
   * This member cannot reach a quorum and its writes fail fast (WhenNoQuorum
   * 'fail'): everything pending fails with NO_QUORUM now. A write never
   * handed to a leader surely did not apply (no `outcome`). One handed over
   * may still commit — its leader may have appended it before the cut, and a
   * later leader may commit it — so it says 'unknown', and its seq is
   * remembered as abandoned so the tree still recognises a late copy.
   */
  failWithoutQuorum(): void {
    // A write never sent is surely not applied: it fails now. One already
    // handed to a leader may still commit (the entry may be on a quorum's
    // disks already, or the quorum may come back in a moment — a closed
    // tab's voter taken over by a surviving tab): it keeps its resends and
    // its deadline, and only then fails with its outcome said unknown.
    for (const [seq, p] of this.pending) {
      if (p.sentAt !== null) continue
      this.settle(seq, p)
      p.reject(noQuorum('no quorum in reach: the write was not sent and did not apply'))
    }
  }

  /** Fail everything (member closed or crashed). */
  failAll(err: MeshError): void {
    for (const p of this.pending.values()) p.reject(outcomeOf(p, err))
    this.clearPending()
  }

  get size(): number {
    return this.pending.size
  }

  /** Hand `p` to a leader; false when it was not (no session, no room, no leader). */
  private send(p: PendingWrite): boolean {
    if (!this.sessionReady && this.route.openAhead?.() !== true) return false
    const first = p.sentAt === null
    // a write not yet in flight waits for room (a resend is already counted)
    if (first && this.inFlight > 0 && (this.inFlight >= MAX_FORWARDS_IN_FLIGHT || this.inFlightBytes + p.bytes > MAX_FORWARD_BYTES_IN_FLIGHT)) return false
    // the freshest watermark rides along with every copy; it only grows
    p.cmd = { ...p.cmd, ackedBelow: Math.max(p.cmd.ackedBelow, Math.min(this.ackedBelow(), p.cmd.seq)) }
    if (!this.route.submit(p.cmd)) return false
    p.sentAt = this.route.now()
    p.sentTo = this.route.leadership?.() ?? null
    if (first) {
      this.inFlight++
      this.inFlightBytes += p.bytes
    }
    return true
  }

  /** Send waiting writes, oldest first, while there is room in flight. */
  private sendWaiting(): void {
    for (const p of this.pending.values()) {
      if (p.sentAt !== null) continue
      if (!this.send(p)) return
    }
  }

  /** `p` leaves the pipeline (resolved, failed or given up). */
  private settle(seq: number, p: PendingWrite): void {
    this.pending.delete(seq)
    if (p.sentAt === null) return
    this.inFlight--
    this.inFlightBytes -= p.bytes
  }

  private clearPending(): void {
    this.pending.clear()
    this.inFlight = 0
    this.inFlightBytes = 0
  }

  private ackedBelow(): number {
    let low = this.nextSeq
    for (const seq of this.pending.keys()) if (seq < low) low = seq
    for (const seq of this.abandoned) if (seq < low) low = seq
    return low
  }

  private abandon(seq: number): void {
    this.abandoned.add(seq)
    if (this.abandoned.size > MAX_ABANDONED) {
      let oldest = Infinity
      for (const s of this.abandoned) if (s < oldest) oldest = s
      this.abandoned.delete(oldest)
    }
  }
}

/**
 * The error a failed write is rejected with. A write submitted at least once
 * may have committed: its error says `outcome: 'unknown'` (a copy, as one
 * error may fail many writes). One that never left is known not applied.
 */
function outcomeOf(p: PendingWrite, err: MeshError): MeshError {
  if (p.sentAt === null) return err
  const details: MeshErrorDetails = { outcome: 'unknown', cause: err }
  if (err.path !== undefined) details.path = err.path
  return new MeshError(err.code, `${err.message} (the write may have committed: read before retrying)`, details)
}

/**
 * Why the encoder would refuse this txn, as a MeshError naming the op (and
 * its index in a multi), or null. The checks are the codec's own
 * (`opProblem`, `commandProblem`), not a copy of them.
 */
function unencodable(cmd: TxnCommand): MeshError | null {
  if (Array.isArray(cmd.ops)) {
    for (let i = 0; i < cmd.ops.length; i++) {
      const op = cmd.ops[i]!
      const problem = opProblem(op)
      if (problem === null) continue
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- ops may come from untyped JavaScript
      const path = typeof op === 'object' && op !== null && typeof op.path === 'string' ? op.path : undefined
      return new MeshError('BAD_ARGUMENTS', problem, { ...(path === undefined ? {} : { path }), ...(cmd.multi ? { opIndex: i } : {}) })
    }
  }
  const problem = commandProblem(cmd)
  return problem === null ? null : new MeshError('BAD_ARGUMENTS', problem)
}

/** A write refused or given up for want of a quorum; `outcome: 'unknown'` when it may still commit. */
export function noQuorum(message: string, outcome?: 'unknown'): MeshError {
  return new MeshError('NO_QUORUM', message, outcome === undefined ? {} : { outcome })
}

/**
 * TOO_LARGE when a write could never enter the log, else null. A write is one
 * log entry; followers refuse a MsgApp carrying an entry over
 * MAX_ENTRY_BYTES, so such an entry would stall replication for good, and
 * data the tree would refuse at apply never enters the log either.
 */
export function tooLargeForOneEntry(ops: TxnOp[]): MeshError | null {
  const oversized = oversizedData(ops)
  if (oversized !== null) return oversized
  const bytes = txnBytesUpperBound(ops)
  if (bytes > MAX_ENTRY_BYTES) return new MeshError('TOO_LARGE', `a write of about ${bytes} bytes exceeds the ${MAX_ENTRY_BYTES}-byte entry limit`)
  return null
}

/** A bound on a txn command's encoded size (paths at up to 3 UTF-8 bytes per
 *  UTF-16 unit, plus per-op and per-command framing), so an oversized write is
 *  refused before it is encoded. */
function txnBytesUpperBound(ops: TxnOp[]): number {
  let bytes = 1024
  for (const op of ops) {
    bytes += 32 + op.path.length * 3
    if (op.op === 'create' || op.op === 'set') bytes += op.data.length
  }
  return bytes
}
