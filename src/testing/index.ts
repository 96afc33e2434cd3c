// The `meshkeeper/testing` entry (Node and Playwright): a whole cluster on
// virtual time for unit tests of coordination logic.
export { createSimulatedCluster } from './cluster'
export type { SimulatedCluster, SimulatedClusterOptions } from './cluster'
export { VirtualHub, VirtualTransport, VirtualLink } from './virtual-transport'
export { TimeDriver } from './time-driver'
export { SimDisk } from './sim-disk'

// Playwright helpers for multi-tab tests (type-only imports of Playwright)
export * from './playwright'
