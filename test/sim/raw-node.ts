// Binds the simulator's SimCore to the real consensus core (src/raft RawNode).
import { RawNode } from '../../src/raft/index'
import type { RaftConfig } from '../../src/raft/types'
import type { CoreFactory, SimCore } from './core'

/** The real core, as the simulator drives it. */
export const createRawNode: CoreFactory = (cfg: RaftConfig): SimCore => new RawNode(cfg)
