// The flags of `npm run bench` that the parts read (run.ts reads `--only`),
// and the trial counts they imply: --quick keeps every figure with fewer
// samples, --failover-trials / --scale-failover-trials / --lifecycle-trials
// raise one part's count (a tail or a join's stages need n >> 1), --diag and
// --profile DIR add diagnosis without changing what is measured.

export const quick = process.argv.includes('--quick')
/** --diag: print each tab's view every 2 s while a mesh forms, and its error events */
export const diagnose = process.argv.includes('--diag')
const profileArg = process.argv.indexOf('--profile')
/** --profile DIR: CPU profiles of idle tabs are written there */
export const profileDir = profileArg >= 0 ? (process.argv[profileArg + 1] ?? null) : null

/** `--NAME N`, a positive trial count, or null when the flag is absent */
function trialsArg(name: string): number | null {
  const at = process.argv.indexOf(name)
  if (at < 0) return null
  const n = Number(process.argv[at + 1])
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${name} takes a positive integer`)
  return n
}
/** `--failover-trials N`: more failover trials than the run's default (a tail needs n ≫ 1). */
const failoverTrials = trialsArg('--failover-trials')
/** `--scale-failover-trials N`: the scale meshes' crash failover trials (10 full, 1 quick): a 9-tab failover's stages vary by tens of ms. */
const scaleFailoverTrials = trialsArg('--scale-failover-trials')
/** `--lifecycle-trials N`: more join trials than the run's default (2 quick, 5 full: a join's stages vary by tens of ms from one to the next). */
const lifecycleTrials = trialsArg('--lifecycle-trials')

/** Trial counts: --quick keeps every key with fewer samples. */
const N0 = quick
  ? { rtt: 100, locks: 100, idb: 100, peerTrials: 1, failover: 1, commits: 30, reads: 30, watches: 20, throughputMs: 1000, coldPages: 10, closeStall: 4, lockOps: 20, reopenNodes: 10_000, scaleCommits: 20, scaleFailover: 1, lifecycle: 2, vanish: 2 }
  : { rtt: 1000, locks: 500, idb: 300, peerTrials: 10, failover: 10, commits: 300, reads: 300, watches: 100, throughputMs: 4000, coldPages: 30, closeStall: 10, lockOps: 100, reopenNodes: 10_000, scaleCommits: 100, scaleFailover: 10, lifecycle: 5, vanish: 10 }
/** The run's trial counts (results.json `trials`). */
export const N = {
  ...N0,
  ...(failoverTrials === null ? {} : { failover: failoverTrials }),
  ...(scaleFailoverTrials === null ? {} : { scaleFailover: scaleFailoverTrials }),
  ...(lifecycleTrials === null ? {} : { lifecycle: lifecycleTrials }),
}
