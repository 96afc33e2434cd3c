// The slice of the Raft core (src/raft RawNode) the simulator drives.
//
// The simulator is written against this interface rather than the class so
// that the world, the driver and the checkers do not depend on how the core is
// built; `raw-node.ts` binds it to the real RawNode. Keep this in step with
// the RawNode API documented in src/raft.
import type { RaftStatus } from '../../src/raft/index'
import type { ConfChange, Message, NodeId, RaftConfig, Ready, Snapshot } from '../../src/raft/types'

/** What `status()` reports; of the leader's progress map the simulator reads only the leader's own match (persist before acknowledge). */
export type CoreStatus = Omit<RaftStatus, 'progress'> & Partial<Pick<RaftStatus, 'progress'>>

/** One Raft member's consensus state machine, as the simulator drives it. */
export interface SimCore {
  readonly id: NodeId
  tick(): void
  step(m: Message): void
  campaign(): void
  /** throws a coded error when the proposal is refused (no leader, too much uncommitted, ...) */
  propose(data: Uint8Array): void
  proposeConfChange(cc: ConfChange): void
  readIndex(ctx: Uint8Array): void
  transferLeadership(to: NodeId): void
  reportUnreachable(id: NodeId): void
  /** `id` is gone for good (a death certificate): rank 0 campaigns now, the others after a stagger */
  reportPeerGone(id: NodeId, rank: number): void
  /** a member about to be added says its log agrees with ours up to `index` (a hint; it may lie) */
  hintLogEnd(id: NodeId, index: number): void
  hasReady(): boolean
  ready(): Ready
  advance(rd: Ready): void
  compact(index: number, data: Uint8Array): Snapshot
  status(): CoreStatus
}

/** Builds a core from a configuration (the real one: `createRawNode` in raw-node.ts). */
export type CoreFactory = (cfg: RaftConfig) => SimCore
