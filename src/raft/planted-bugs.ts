// Planted bugs (RaftConfig.bugs) are test-only faults the simulator must
// find. Every branch of theirs is written `if (PLANTED_BUGS && ...)`: the
// library build (vite.lib.config.ts) defines __MESHKEEPER_PLANTED_BUGS__ as
// false, so its dead-code elimination drops the branches and the bug names
// from what ships (test/package/planted-bugs-not-shipped.test.ts checks it).
// Under Vitest and tsx nothing defines it, and the bugs stay plantable.
// A build-time constant, not a clock or randomness: the core stays pure.
declare const __MESHKEEPER_PLANTED_BUGS__: boolean | undefined

/** false in the library build, true in tests and the simulator */
export const PLANTED_BUGS: boolean = typeof __MESHKEEPER_PLANTED_BUGS__ === 'undefined' || __MESHKEEPER_PLANTED_BUGS__
