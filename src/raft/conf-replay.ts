// Configuration replay: the configuration is not stored, it is the
// snapshot's configuration plus every conf entry of the log after it, each
// taking effect when it is handed out for application (or, at a restart, when
// it is already committed). This file knows which conf entries have taken
// effect and can replay the configuration as of any index (for a compaction's
// snapshot). Separate from membership.ts because none of it depends on the
// role: it is arithmetic over the log, and membership.ts only switches to
// what it yields.
import { applyConfChange, cloneConfState, decodeConfChange, emptyConfState } from './confchange'
import type { RaftLog } from './log'
import type { ConfState, Entry } from './types'

/**
 * The configuration after the conf entry `e`, or null when the entry is
 * invalid against `conf`: it is skipped, and every member skips it alike,
 * since all see the same entry against the same configuration.
 */
export function confAfter(conf: ConfState, e: Entry): ConfState | null {
  try {
    return applyConfChange(conf, decodeConfChange(e.data))
  } catch {
    return null
  }
}

/** The configuration as of `index`, replayed from the snapshot. */
export function confAt(log: RaftLog, index: number): ConfState {
  let cs = log.snapshot === null ? emptyConfState() : cloneConfState(log.snapshot.meta.conf)
  for (let i = log.snapshotIndex + 1; i <= index; i++) {
    const e = log.entryAt(i)
    if (e?.type === 'conf') cs = confAfter(cs, e) ?? cs
  }
  return cs
}

/**
 * Which conf entries have taken effect. Each `take…` method returns the conf
 * entries that take effect now, in log order, and counts them as taken: the
 * caller switches to each in turn.
 */
export class ConfReplay {
  /** conf entries up to this index are reflected in the current configuration */
  appliedIndex: number

  constructor(appliedIndex: number) {
    this.appliedIndex = appliedIndex
  }

  /** The committed conf entries up to `index` not yet in effect (a restart replays them). */
  takeUpTo(log: RaftLog, index: number): Entry[] {
    const out: Entry[] = []
    for (let i = this.appliedIndex + 1; i <= index; i++) {
      const e = log.entryAt(i)
      if (e?.type === 'conf') out.push(e)
    }
    if (index > this.appliedIndex) this.appliedIndex = index
    return out
  }

  /** Entries handed out for application: conf entries take effect as they are. */
  takeHandedOut(ents: readonly Entry[]): Entry[] {
    if (ents.length === 0) return []
    const last = ents[ents.length - 1]!.index
    if (last <= this.appliedIndex) return []
    const out = ents.filter((e) => e.index > this.appliedIndex && e.type === 'conf')
    this.appliedIndex = last
    return out
  }

  /** For a planted bug only (conf entries in effect early, see planted-bugs.ts): conf entries take effect once appended. */
  takeAppended(ents: readonly Entry[]): Entry[] {
    const out: Entry[] = []
    for (const e of ents) {
      if (e.type === 'conf' && e.index > this.appliedIndex) {
        out.push(e)
        this.appliedIndex = e.index
      }
    }
    return out
  }

  /** Is a committed conf entry not in effect yet? (a member then must not campaign) */
  hasCommittedNotInEffect(log: RaftLog): boolean {
    for (let i = Math.max(log.applied, this.appliedIndex) + 1; i <= log.committed; i++) {
      if (log.entryAt(i)?.type === 'conf') return true
    }
    return false
  }
}
