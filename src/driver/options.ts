// Everything a member is given from outside (invariant 7: inject everything,
// so the same member runs in a browser, in Node tests and in the simulator).
import type { ConfState, DurableState, RaftConfig } from '../raft/types'
import type { Storage } from '../storage/types'
import type { PeerHello, Transport } from '../transport/types'
import type { Clock } from '../shared/clock'
import type { WhenNoQuorum } from '../shared/types'

export interface MemberOptions {
  /** who we are: member id, tab id, browser id */
  hello: PeerHello
  storage: Storage
  /** open this member's slot afresh after `destroy()`: a member of a cluster
   *  that lost to another (two clusters of one room met) wipes its slot and
   *  rejoins the winner as a newcomer; without it such a member stops */
  reopenStorage?: () => Promise<Storage>
  transport: Transport
  scheduler: Clock
  /** seeded randomness in [0, 1): election timeouts, session ids (never Math.random in the simulator) */
  random: () => number
  /** start a brand-new one-member cluster when the slot is empty (the first
   *  member of a room); otherwise an empty slot waits to be added by a leader */
  bootstrap?: boolean
  /** voters of the brand-new cluster (default: just this member); all
   *  members of a static cluster must be given the same list */
  bootstrapVoters?: string[]
  /** the cluster id a bootstrapping member records (default: derived from its id) */
  clusterId?: string
  sessionTimeoutMs?: number
  maxVoters?: number
  /** while no quorum is in reach: writes fail fast ('fail', default) or wait and retry ('wait') */
  whenNoQuorum?: WhenNoQuorum
  /** is the tab visible (leadership moves away from hidden tabs); default always */
  visible?: () => boolean
  timing?: Partial<MemberTiming>
  /** extra raft settings (tests: planted bugs, small chunks) */
  raft?: Partial<Pick<RaftConfig, 'preVote' | 'checkQuorum' | 'maxSizePerMsg' | 'maxInflightMsgs' | 'maxUncommittedEntriesSize' | 'maxSnapshotChunkSize' | 'bugs'>>
  /** record each entry's commit stages (commit-timeline.ts; default false: no recorder, nothing recorded) */
  timeline?: boolean
  /** the timeline's clock, epoch ms at sub-ms resolution where the platform has it (default: the scheduler's) */
  timelineNow?: () => number
  /** planted bugs (tests only): the linearizability workload (test/sim/workload) must catch each; never set in production */
  bugs?: MemberBugs
}

/** planted bugs (tests only) */
export interface MemberBugs {
  /** planted bug (tests only): `{ linearizable: true }` reads and sync are served from local state, without ReadIndex */
  readWithoutReadIndex?: boolean
  /** planted bug (tests only): the tree replays no retried write, it applies it again (dedup off) */
  applyRetriesTwice?: boolean
}

export interface MemberTiming {
  /** ms per raft tick */
  tickMs: number
  /** ticks without a leader before campaigning (randomized up to twice this) */
  electionTicks: number
  heartbeatTicks: number
  /** resend an unanswered write / read index / open-session after this long */
  retryMs: number
  /** a write or linearizable read fails after this long */
  requestTimeoutMs: number
  /** session heartbeat period (default a third of the session timeout) */
  sessionHeartbeatMs: number
  /** a voter silent this long is replaced */
  failureTimeoutMs: number
  /** the leader ends the sessions of a member known to be gone this long (Roster.vanished: left
   *  the signaling and silent since, or closed its link), before their timeout (sessions.ts); a
   *  follower whose leader vanished a third of this long campaigns (tick-duties.ts); a member
   *  whose link to its leader closed a third of this long ago says `suspended` (no-quorum.ts) */
  vanishedAfterMs: number
  /** the leader proposes reaps at most this often */
  reapEveryMs: number
  /** the leader re-evaluates membership this often */
  membershipEveryMs: number
  /** a member not yet in the configuration repeats its join request this often */
  joinEveryMs: number
  /** compact the log into a snapshot after this many applied entries, and
   *  no sooner than as many as the tree had nodes at the last snapshot */
  snapshotEntries: number
  /** learners within this many entries of the commit index are caught up */
  catchUpLag: number
}

export const DEFAULT_SESSION_TIMEOUT_MS = 10_000
export const DEFAULT_MAX_VOTERS = 5

export function memberTiming(sessionTimeoutMs: number, given: Partial<MemberTiming> = {}): MemberTiming {
  const tickMs = given.tickMs ?? 100
  const electionTicks = given.electionTicks ?? 10
  return {
    tickMs,
    electionTicks,
    heartbeatTicks: given.heartbeatTicks ?? 1,
    retryMs: given.retryMs ?? tickMs * electionTicks,
    requestTimeoutMs: given.requestTimeoutMs ?? Math.max(sessionTimeoutMs, tickMs * electionTicks * 5),
    sessionHeartbeatMs: given.sessionHeartbeatMs ?? Math.max(tickMs, Math.floor(sessionTimeoutMs / 3)),
    failureTimeoutMs: given.failureTimeoutMs ?? Math.max(sessionTimeoutMs * 3, tickMs * electionTicks * 10),
    vanishedAfterMs: given.vanishedAfterMs ?? tickMs * electionTicks,
    reapEveryMs: given.reapEveryMs ?? 1_000,
    membershipEveryMs: given.membershipEveryMs ?? tickMs * 5,
    joinEveryMs: given.joinEveryMs ?? tickMs * 10,
    snapshotEntries: given.snapshotEntries ?? 10_000,
    catchUpLag: given.catchUpLag ?? 16,
  }
}

/** Raft timing for members in a browser tab and in Node (src/browser/visibility.ts says why the
 *  election timeout exceeds 1 s: a hidden tab's timers are throttled to once a second). */
export const BROWSER_TIMING = {
  tickMs: 100,
  /** 15 ticks = 1.5 s (randomized up to 3 s): more than a throttled hidden leader's 1 s heartbeat cadence */
  electionTicks: 15,
  /** a visible leader heartbeats every 300 ms, five times per election timeout (a hidden one every tick:
   *  heartbeatTicksNow). Idle heartbeats to every member were most of an idle mesh's work. New entries and
   *  commits do not wait for a heartbeat: they leave at once (MsgApp), as do ReadIndex rounds. */
  heartbeatTicks: 3,
} as const

/** The core's configuration for this member: its timing, its options' raft
 *  settings (with the defaults a member runs with), and what it starts from. */
export function raftConfig(opts: MemberOptions, timing: MemberTiming, durable: DurableState | null, bootstrap: ConfState | undefined): RaftConfig {
  const raftOpts = opts.raft ?? {}
  return {
    id: opts.hello.member,
    electionTick: timing.electionTicks,
    heartbeatTick: timing.heartbeatTicks,
    random: opts.random,
    preVote: raftOpts.preVote ?? true,
    checkQuorum: raftOpts.checkQuorum ?? true,
    maxSizePerMsg: raftOpts.maxSizePerMsg ?? 1024 * 1024,
    maxInflightMsgs: raftOpts.maxInflightMsgs ?? 256,
    maxUncommittedEntriesSize: raftOpts.maxUncommittedEntriesSize ?? 64 * 1024 * 1024,
    maxSnapshotChunkSize: raftOpts.maxSnapshotChunkSize ?? 256 * 1024,
    durable: durable ?? { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] },
    ...(bootstrap === undefined ? {} : { bootstrap }),
    ...(raftOpts.bugs === undefined ? {} : { bugs: raftOpts.bugs }),
  }
}
