// The chaos run's record of every client call, on the Node side of
// page.evaluate: the invoke time is taken before the call leaves Node, the
// response time after its answer is back, so each recorded interval contains
// the real one. The calls go into the simulator's HistoryRecorder
// (test/sim/linearizability) and are checked by its checker, with one rule per
// way a call can end:
// - an answer, or a ZooKeeper error (NO_NODE, BAD_VERSION, ...): returned;
// - a MeshError with outcome 'unknown' (a write that left this member and
//   may have committed), SESSION_EXPIRED (the tree workload's rule: a pending
//   write whose session was replaced), or no answer at all (the tab crashed,
//   closed or reloaded under the call): timed out, i.e. indeterminate — the
//   checker may apply it once after its call, or never;
// - any other MeshError (NO_QUORUM, TIMEOUT, CLOSED without outcome 'unknown':
//   the member knows it was never applied) and FENCED: left out of the
//   history. Left out means "no effect": if one had an effect after all, the
//   versions and reads of the other calls on that path cannot be explained
//   and the checker says so.
// Fenced writes are also kept on their own (FencedLog): the token each wrote
// and the version it got or was read at, for the fencing check.
import { HistoryRecorder, answer, checkHistory } from '../../sim/linearizability/index'
import type { CheckResult, ModelOp, ModelResult, Operation, ZnodeErrorCode } from '../../sim/linearizability/index'

/** What a mesh call in a page answered: a value, or a MeshError's fields (code 'NO_MESH': the page had no mesh yet). */
export type PageAnswer<T> = { ok: true; value: T } | { ok: false; code: string; outcome?: 'unknown'; opIndex?: number; message: string }

const ZNODE_ERRORS = new Set<string>(['NO_NODE', 'NODE_EXISTS', 'BAD_VERSION', 'NOT_EMPTY', 'NO_CHILDREN_FOR_EPHEMERALS', 'BAD_ARGUMENTS'])

/** How a recorded call ended. */
export type Outcome = 'ok' | 'definite-error' | 'indeterminate' | 'not-applied' | 'fenced'

export interface ChaosCounts {
  calls: number
  ok: number
  /** ZooKeeper errors (BAD_VERSION of a lost compare-and-set, ...) */
  definiteErrors: number
  /** outcome unknown: crashed under the call, outcome 'unknown', SESSION_EXPIRED */
  indeterminate: number
  /** failed and known not applied (NO_QUORUM, TIMEOUT without outcome, no mesh yet) */
  notApplied: number
  /** fenced writes refused with FENCED */
  fenced: number
  /** error codes seen, with how many */
  codes: Record<string, number>
}

export class ChaosHistory {
  private readonly t0 = performance.now()
  readonly recorder = new HistoryRecorder(() => performance.now() - this.t0)
  /** ids of operations left out of the checked history (known not applied, or FENCED) */
  private readonly leftOut = new Set<number>()
  readonly counts: ChaosCounts = { calls: 0, ok: 0, definiteErrors: 0, indeterminate: 0, notApplied: 0, fenced: 0, codes: {} }

  /** ms since the history began (the recorder's clock) */
  now(): number {
    return performance.now() - this.t0
  }

  /**
   * Record one client call. `call` runs it in the page and returns its answer,
   * or rejects when the page went away under it; `toResult` turns an answer
   * into the model's result. Returns the answer (undefined when none came back).
   */
  async record<T>(client: string, input: ModelOp, call: () => Promise<PageAnswer<T>>, toResult: (value: T) => ModelResult): Promise<{ outcome: Outcome; answer?: PageAnswer<T> }> {
    const id = this.recorder.call(client, input)
    this.counts.calls++
    let got: PageAnswer<T>
    try {
      got = await call()
    } catch {
      this.recorder.timedOut(id)
      this.counts.indeterminate++
      this.count('NO_ANSWER')
      return { outcome: 'indeterminate' }
    }
    if (got.ok) {
      this.recorder.returned(id, toResult(got.value))
      this.counts.ok++
      return { outcome: 'ok', answer: got }
    }
    this.count(got.code)
    if (ZNODE_ERRORS.has(got.code) && got.outcome === undefined) {
      this.recorder.returned(id, answer.error(got.code as ZnodeErrorCode, got.opIndex))
      this.counts.definiteErrors++
      return { outcome: 'definite-error', answer: got }
    }
    if (got.outcome === 'unknown' || got.code === 'SESSION_EXPIRED') {
      this.recorder.timedOut(id)
      this.counts.indeterminate++
      return { outcome: 'indeterminate', answer: got }
    }
    // no effect: out of the checked history (see the header)
    this.recorder.timedOut(id)
    this.leftOut.add(id)
    if (got.code === 'FENCED') {
      this.counts.fenced++
      return { outcome: 'fenced', answer: got }
    }
    this.counts.notApplied++
    return { outcome: 'not-applied', answer: got }
  }

  /** The history the checker reads: every call but those left out. */
  history(): Operation[] {
    return this.recorder.history().filter((op) => !this.leftOut.has(op.id))
  }

  check(maxSteps?: number): CheckResult {
    return checkHistory(this.history(), maxSteps === undefined ? {} : { maxSteps })
  }

  private count(code: string): void {
    this.counts.codes[code] = (this.counts.codes[code] ?? 0) + 1
  }
}

/** One observation of the fenced path: the token in its data at a version. */
export interface FencedSighting {
  version: number
  token: number
  /** 'write': a fenced write answered with this version; 'read': a read saw it */
  how: 'write' | 'read'
  client: string
  data: string
}

/**
 * The fencing check. Every fenced write puts `<token>:<unique>` in one node;
 * its version orders the writes as they committed. A write from a stale holder
 * (one whose lock a later holder took) that landed would sit at a higher
 * version than a newer holder's write with a lower token. So: over every
 * version seen (acknowledged writes, and reads, which also see writes whose
 * answer was lost), the token never goes down as the version goes up, and one
 * version always holds one value.
 */
export class FencedLog {
  readonly sightings: FencedSighting[] = []
  /** fenced writes made on purpose with a lease already released: how many answered, were refused (FENCED), landed */
  staleAnswered = 0
  staleRefused = 0
  staleLanded = 0

  see(s: FencedSighting): void {
    this.sightings.push(s)
  }

  /** Problems found (empty: none). */
  problems(): string[] {
    const out: string[] = []
    const byVersion = new Map<number, FencedSighting>()
    for (const s of this.sightings) {
      const seen = byVersion.get(s.version)
      if (seen !== undefined && seen.data !== s.data) out.push(`version ${s.version} of the fenced node holds two values: ${JSON.stringify(seen.data)} (${seen.how} by ${seen.client}) and ${JSON.stringify(s.data)} (${s.how} by ${s.client})`)
      if (seen === undefined) byVersion.set(s.version, s)
    }
    const ordered = [...byVersion.values()].sort((a, b) => a.version - b.version)
    for (let i = 1; i < ordered.length; i++) {
      const a = ordered[i - 1]!
      const b = ordered[i]!
      if (b.token < a.token) out.push(`fencing token went back in commit order: version ${a.version} has token ${a.token} (${a.how} by ${a.client}), version ${b.version} token ${b.token} (${b.how} by ${b.client})`)
    }
    if (this.staleLanded > 0) out.push(`${this.staleLanded} of ${this.staleAnswered} answered writes with a released lease landed (acknowledged, not FENCED)`)
    return out
  }
}
