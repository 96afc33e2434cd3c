// A stable three-member simulated cluster with its leader and one follower
// picked out: where the argument attacks are performed (a follower is where a
// refused write used to stay pending and kill the tick).
import type { Mesh } from '../../src/shared/types'
import { createSimulatedCluster } from '../../src/testing/index'
import type { SimulatedCluster } from '../../src/testing/index'

export async function stableCluster(seed: number): Promise<{ cluster: SimulatedCluster; leader: Mesh; follower: Mesh }> {
  const cluster = createSimulatedCluster({ members: 3, seed })
  await cluster.stable()
  return { cluster, leader: cluster.meshes.find((m) => m.isLeader)!, follower: cluster.meshes.find((m) => !m.isLeader)! }
}
