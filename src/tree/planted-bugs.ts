// Planted bugs (TreeOptions.bugs) are test-only faults the simulator must
// find; their branches are written `if (PLANTED_BUGS && ...)` so the library
// build, which defines __MESHKEEPER_PLANTED_BUGS__ as false, drops them and
// their names (src/raft/planted-bugs.ts says why; the tree imports nothing
// outside src/tree, hence its own copy of the one line).
declare const __MESHKEEPER_PLANTED_BUGS__: boolean | undefined

/** false in the library build, true in tests and the simulator */
export const PLANTED_BUGS: boolean = typeof __MESHKEEPER_PLANTED_BUGS__ === 'undefined' || __MESHKEEPER_PLANTED_BUGS__
