// What the pieces of a member share (member.ts wires them; etcd's node.go,
// rawnode.go and raft.go split one node the same way).
//
// One object instead of back-references: every piece of the member (the Ready
// loop, the applier, sessions, the roster, cluster identity, leaving, message
// dispatch, no-quorum handling) reads and writes the same few facts — the
// core, the tree, the slot, the links, who leads — and each would otherwise
// need a pointer to the Member and to half of its siblings. The facts live
// here; behaviour lives in the pieces.
//
// Some of these facts are REPLACED, never mutated in place: `raft` and `tree`
// by a snapshot install or a divergence, `storage` by a divergence. Read them
// through the context each time, never keep a copy across an await (the Ready
// loop compares `raft` before and after a save for exactly this reason).
//
// `control` is what only the Member as a whole can do (drain the core, stop,
// pause and resume its ticks); the Member fills it in when it wires the pieces.
import type { RawNode } from '../raft/index'
import type { ConfState, Message, Role } from '../raft/types'
import { ZTree } from '../tree/ztree'
import type { TreeOptions } from '../tree/types'
import { PLANTED_BUGS } from '../raft/index'
import { MeshError, toMeshError } from '../shared/errors'
import type { DivergedEvent, MemberInfo, MeshState } from '../shared/types'
import type { Clock } from '../shared/clock'
import type { Storage } from '../storage/types'
import { encodeRaftMessage } from '../wire/raft-codec'
import { CommitTimelineRecorder } from './commit-timeline'
import type { LinkTable } from './links'
import { ConnectionState } from './state'
import type { MemberOptions, MemberTiming } from './options'
import { CLAIMED } from './requests'

export interface MemberEvents {
  leader: (e: { leader: string | null; term: number }) => void
  state: (state: MeshState) => void
  members: (members: MemberInfo[]) => void
  error: (err: MeshError) => void
  diverged: (e: DivergedEvent) => void
  /** after each applied entry (index); tests and tools watch progress with it */
  applied: (index: number) => void
}

/** Emit to the app's listeners; a throwing listener never breaks the member. */
export type EmitSafe = <N extends keyof MemberEvents & string>(name: N, args: Parameters<MemberEvents[N]>) => void

/** What only the Member as a whole can do; the pieces ask for it here. */
export interface MemberControl {
  /** drain the core (ready-loop.ts); re-entrant calls return at once */
  pump(): void
  /** stop at once, sending nothing more (a crash, or a fatal error) */
  stop(reason: MeshError): void
  /** no more ticks until resumeTicks (a divergence wipes the slot meanwhile) */
  pauseTicks(): void
  /** tick every tickMs again, starting with one tick now */
  resumeTicks(): void
}

export class MemberContext {
  readonly id: string
  readonly browser: string
  readonly tab: string
  readonly clock: Clock
  readonly timing: MemberTiming
  readonly sessionTimeoutMs: number

  /** stop() ran: nothing is sent or applied again */
  stopped = false
  /** the core exists and is ours to drive (false before start and while a divergence wipes the slot) */
  running = false
  /** our cluster lost a meet and the slot is being wiped (cluster-identity.ts) */
  diverging = false
  /** we announced that we leave (a graceful close): we never ask to join again */
  leaving = false

  storage: Storage
  raft!: RawNode
  tree: ZTree
  appliedIndex = 0
  snapshotIndex = 0
  /** undefined until start: links open at start are adopted while the table is built */
  links!: LinkTable
  readonly connection = new ConnectionState()

  /** who leads, our role and the term, as of the last Ready finished (its
   *  save complete): what the app hears and the leader's duties follow */
  lead: string | null = null
  role: Role = 'follower'
  term = 0
  /** who leads and in which term as of the last Ready TAKEN (its save may
   *  still be on the disk): where commands go. A follower that learns a new
   *  leader from an append forwards to it at once, not one save later; a
   *  new leader proposes its own commands beside its first entry (the save
   *  of both merges). Routing vouches for nothing: a command is answered
   *  only by our own apply. */
  routeTo: { lead: string | null; term: number } = { lead: null, term: 0 }
  /** the leader changed since the last tick: requests and sessions resend at once */
  leaderChanged = true
  /** the leader peers' claims name (ClusterIdentity.claimedLeader; set at construction) */
  claimedLeader: () => string | null = () => null
  /** the commit timeline's recorder, only with the option `timeline: true` (null costs nothing) */
  readonly timeline: CommitTimelineRecorder | null

  constructor(
    readonly opts: MemberOptions,
    timing: MemberTiming,
    sessionTimeoutMs: number,
    readonly emit: EmitSafe,
    readonly control: MemberControl,
  ) {
    this.id = opts.hello.member
    this.browser = opts.hello.browser
    this.tab = opts.hello.tab
    this.clock = opts.scheduler
    this.storage = opts.storage
    this.timing = timing
    this.sessionTimeoutMs = sessionTimeoutMs
    const clock = opts.scheduler
    this.timeline = opts.timeline === true ? new CommitTimelineRecorder(this.id, opts.timelineNow ?? (() => clock.now())) : null
    // planted bug (tests only): a tree that applies retries twice when asked
    this.tree = PLANTED_BUGS && opts.bugs?.applyRetriesTwice === true ? this.newTree() : new ZTree()
  }

  get isLeader(): boolean {
    return this.lead === this.id && this.role === 'leader'
  }

  /**
   * Where our commands go: the leader the core knows; without one, the
   * leader peers' claims name (a newcomer hears a claim as its first link
   * opens, a round before the leader lets it in and speaks to it: its
   * session's open and first writes then commit in the round that admits
   * it). A claim is a peer's word only: a claimed leader that does not lead
   * drops what it is sent, which goes again to the leader the core learns of
   * (requests.ts), and nothing is ever answered but by our own apply.
   */
  routeLead(): string | null {
    const lead = this.routeTo.lead
    if (lead !== null) return lead
    const claimed = this.claimedLeader()
    return claimed === this.id ? null : claimed
  }

  /** Our core leads, as of the last Ready taken: our own commands are
   *  proposed here (isLeader, the leader's duties, waits for that Ready's save). */
  get proposesHere(): boolean {
    return this.routeTo.lead === this.id
  }

  /** `leader@term`, or `leader@claim` for a claimed leader (routeLead); null when neither */
  leadership(): string | null {
    if (this.routeTo.lead !== null) return `${this.routeTo.lead}@${this.routeTo.term}`
    const claimed = this.routeLead()
    return claimed === null ? null : `${claimed}${CLAIMED}`
  }

  /** Is this member in `conf` (voter, learner, or outgoing voter of a joint change)? */
  inConfiguration(conf: ConfState): boolean {
    return conf.voters.includes(this.id) || conf.learners.includes(this.id) || conf.votersOutgoing.includes(this.id)
  }

  visible(): boolean {
    return this.opts.visible?.() ?? true
  }

  /** An empty tree with the options every replica shares. */
  newTree(): ZTree {
    return new ZTree(this.treeOptions())
  }

  /** A tree restored from a snapshot, with the options every replica shares. */
  restoreTree(data: Uint8Array): ZTree {
    return ZTree.restore(data, this.treeOptions())
  }

  /** Send one message of the core to its peer; a leader whose link failed stops pipelining to that peer and probes. */
  sendRaft(m: Message): void {
    if (m.to === this.id) return
    if (!this.links.send(m.to, { type: 'raft', bytes: encodeRaftMessage(m) }) && this.isLeader) this.raft.reportUnreachable(m.to)
  }

  /** The slot failed: raise STORAGE and stop rather than vote or acknowledge on a disk we cannot trust. */
  failStorage(err: unknown): void {
    if (this.stopped) return
    const e = toMeshError(err, 'STORAGE')
    const storageErr = e.code === 'STORAGE' ? e : new MeshError('STORAGE', e.message, { cause: err })
    this.emit('error', [storageErr])
    this.control.stop(storageErr)
  }

  /** tree options every replica shares; only planted bugs (tests only) for now */
  private treeOptions(): TreeOptions {
    return PLANTED_BUGS && this.opts.bugs?.applyRetriesTwice === true ? { bugs: { applyRetriesTwice: true } } : {}
  }
}

/** An app callback threw: surface it without breaking the apply loop. */
export function reportAppError(err: unknown): void {
  queueMicrotask(() => {
    throw err
  })
}
