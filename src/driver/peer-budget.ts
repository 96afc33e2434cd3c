// What the leader accepts from one peer's `forward` and `session-heartbeat`
// (issue 13: bounds per peer). A forward becomes a log entry that every
// member replicates, persists and applies, so the leader checks it before
// proposing, not at apply:
//   - a peer speaks only for its own sessions: a session id begins with the
//     member id and a dot (SessionKeeper.newSession in sessions.ts), so a peer may open, close,
//     write under or heartbeat only `${peer}.…` — with one exception: a tab
//     closes a dead member's sessions (a death certificate,
//     browser-death-watch.ts) when the member ran in its browser (as both
//     announced it) or the leader has no link to that member either;
//   - a session's timeout is at most MAX_MEMBER_SESSION_TIMEOUT_MS, and a member
//     holds at most MAX_SESSIONS_PER_MEMBER sessions, counting opens in flight;
//   - znode data is at most what the tree stores (so nothing the tree would
//     refuse enters the log), and an entry at most MAX_ENTRY_BYTES;
//   - forwards proposed but not applied yet: at most MAX_FORWARDS_IN_FLIGHT
//     and MAX_FORWARD_BYTES_IN_FLIGHT per peer. A forward that finds this
//     full waits for room at the leader (forward-intake.ts) while the peer's
//     forwards not yet committed and those waiting stay within the same
//     bounds (what an honest member may have sent, see there).
// A breach an honest member never commits is bad input (the peer is
// penalised); a budget an honest but busy member may exhaust is a quiet drop:
// its request pipeline resends.
import type { Command, TxnOp } from '../tree/types'
import type { ZTree } from '../tree/ztree'
import { DEFAULT_MAX_DATA_BYTES } from '../tree/ztree'
import { MeshError } from '../shared/errors'
import {
  MAX_ENTRY_BYTES,
  MAX_FORWARD_BYTES_IN_FLIGHT,
  MAX_FORWARDS_IN_FLIGHT,
  MAX_MEMBER_SESSION_TIMEOUT_MS,
  MAX_SESSIONS_PER_MEMBER,
} from '../wire/limits'

/** null: propose it; 'full': no room in flight now (room comes as the peer's
 *  forwards apply); 'busy': drop quietly; a MeshError: bad input from the peer */
export type ForwardVerdict = null | 'full' | 'busy' | MeshError

interface InFlight {
  index: number
  bytes: number
  opens: boolean
}

/** One peer's forwards proposed and not applied (by index), with their sums. */
interface PeerInFlight {
  entries: InFlight[]
  bytes: number
  /** the applied index `entries` were last trimmed to: a batch of forwards
   *  checked at one applied index trims once, not once per command */
  trimmedTo: number
}

/** Does `session` belong to `member` (its id begins with `${member}.`)? */
export function ownsSession(member: string, session: string): boolean {
  return session.startsWith(`${member}.`)
}

/** The member a session id names (everything before the first dot; SessionKeeper.newSession makes the ids). */
export function sessionOwner(session: string): string {
  const dot = session.indexOf('.')
  return dot < 0 ? '' : session.slice(0, dot)
}

/** TOO_LARGE for the first op whose data the tree would refuse at apply: such a write never enters the log. */
export function oversizedData(ops: readonly TxnOp[]): MeshError | null {
  for (const op of ops) {
    if ((op.op === 'create' || op.op === 'set') && op.data.length > DEFAULT_MAX_DATA_BYTES) {
      return new MeshError('TOO_LARGE', `${op.op} ${op.path}: ${op.data.length} bytes of data exceed ${DEFAULT_MAX_DATA_BYTES}`)
    }
  }
  return null
}

/** A command a peer may forward, as far as its content goes (no budgets). A
 *  close of another member's session that we cannot allow is dropped
 *  quietly (we may not know the members' browsers yet): the session then
 *  expires by its timeout. */
export function checkForwardedCommand(peer: string, cmd: Command, mayCloseSessionsOf: (peer: string, owner: string) => boolean): ForwardVerdict {
  switch (cmd.type) {
    case 'open-session':
      if (!ownsSession(peer, cmd.session)) return new MeshError('BAD_MESSAGE', `${peer} opened a session of another member (${cmd.session})`)
      if (cmd.timeoutMs > MAX_MEMBER_SESSION_TIMEOUT_MS) return new MeshError('BAD_MESSAGE', `session timeout ${cmd.timeoutMs} ms exceeds ${MAX_MEMBER_SESSION_TIMEOUT_MS} ms`)
      return null
    case 'close-session': {
      // not bad input when refused: we may not know (yet) that the owner ran in the peer's browser
      const owner = sessionOwner(cmd.session)
      return ownsSession(peer, cmd.session) || (owner !== '' && mayCloseSessionsOf(peer, owner)) ? null : 'busy'
    }
    case 'txn': {
      if (!ownsSession(peer, cmd.session)) return new MeshError('BAD_MESSAGE', `${peer} wrote under a session of another member (${cmd.session})`)
      return oversizedData(cmd.ops)
    }
    default:
      return new MeshError('BAD_MESSAGE', `a ${cmd.type} command cannot be forwarded`)
  }
}

/** TOO_LARGE for a forwarded command that could never be one log entry. */
export function checkForwardSize(bytes: number): MeshError | null {
  return bytes > MAX_ENTRY_BYTES ? new MeshError('TOO_LARGE', `a forwarded command of ${bytes} bytes exceeds the ${MAX_ENTRY_BYTES}-byte entry limit`) : null
}

/** The leader's per-peer budget of forwarded commands in flight. */
export class ForwardBudget {
  private readonly inFlight = new Map<string, PeerInFlight>()

  /**
   * Check a forward of `bytes` (its encoded command) from `peer` against
   * content rules and budgets. Entries at or below `applied` are no longer
   * in flight (a proposal lost to a leadership change is replaced at its
   * index by another entry, which is applied in its turn).
   */
  admit(peer: string, cmd: Command, bytes: number, applied: number, tree: ZTree, mayCloseSessionsOf: (peer: string, owner: string) => boolean): ForwardVerdict {
    const verdict = checkForwardSize(bytes) ?? checkForwardedCommand(peer, cmd, mayCloseSessionsOf)
    if (verdict !== null) return verdict
    return this.fits(peer, cmd, bytes, applied, tree)
  }

  /** The budget part of admit: room for one more command of `peer`? */
  private fits(peer: string, cmd: Command, bytes: number, applied: number, tree: ZTree): ForwardVerdict {
    const mine = this.release(peer, applied)
    if (mine !== undefined && (mine.entries.length >= MAX_FORWARDS_IN_FLIGHT || mine.bytes + bytes > MAX_FORWARD_BYTES_IN_FLIGHT)) return 'full'
    if (cmd.type === 'open-session' && tree.session(cmd.session) === null) {
      const opening = mine?.entries.filter((f) => f.opens).length ?? 0
      const open = tree.sessions().filter((s) => ownsSession(peer, s)).length + opening
      if (open >= MAX_SESSIONS_PER_MEMBER) return 'busy'
    }
    return null
  }

  /** `peer`'s command was proposed at `index`. */
  record(peer: string, index: number, bytes: number, cmd: Command): void {
    let mine = this.inFlight.get(peer)
    if (mine === undefined) this.inFlight.set(peer, (mine = { entries: [], bytes: 0, trimmedTo: 0 }))
    mine.entries.push({ index, bytes, opens: cmd.type === 'open-session' })
    mine.bytes += bytes
  }

  /** `peer`'s forwards in flight above `committed` (proposed, not committed yet): count and bytes. */
  uncommitted(peer: string, committed: number): { count: number; bytes: number } {
    let count = 0
    let bytes = 0
    for (const f of this.inFlight.get(peer)?.entries ?? []) {
      if (f.index <= committed) continue
      count++
      bytes += f.bytes
    }
    return { count, bytes }
  }

  private release(peer: string, applied: number): PeerInFlight | undefined {
    const mine = this.inFlight.get(peer)
    if (mine === undefined || mine.trimmedTo === applied) return mine
    mine.entries = mine.entries.filter((f) => f.index > applied)
    mine.trimmedTo = applied
    if (mine.entries.length === 0) {
      this.inFlight.delete(peer)
      return undefined
    }
    mine.bytes = mine.entries.reduce((n, f) => n + f.bytes, 0)
    return mine
  }
}
