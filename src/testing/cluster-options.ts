// createSimulatedCluster's options, checked before the cluster is built: a
// bad one is a MeshError BAD_ARGUMENTS naming it, like every entry point's
// (node/option-checks.ts), never a cluster that silently runs on NaN.
import { MEMBER_SETTING_RULES, arrayOf, checkOptions, duration, integer, oneOf, refuse, text } from '../driver/option-checks'
import type { OptionRule } from '../driver/option-checks'

/** a [min, max] range of virtual ms, 0 ≤ min ≤ max */
const delayRange: OptionRule = (option, value) => {
  const ok = Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) && value[0] <= value[1]
  if (!ok) refuse(option, 'a [min, max] range of milliseconds with 0 ≤ min ≤ max', value)
}

const CLUSTER_RULES: Readonly<Record<string, OptionRule>> = {
  ...MEMBER_SETTING_RULES,
  members: integer(1, 64),
  seed: integer(0, 0xffffffff),
  bootstrap: oneOf('static', 'join'),
  transport: oneOf('mesh', 'virtual'),
  founders: arrayOf(integer(0, 63)),
  latencyMs: delayRange,
  diskLatencyMs: delayRange,
  maxWaitMs: duration(),
  browsers: arrayOf(text(1, 64)),
  // a wall clock reading in ms (entries carry the leader's clock: never negative)
  clockOffsetsMs: arrayOf(integer(0, 2 ** 50)),
}

export function checkClusterOptions(opts: unknown): void {
  checkOptions('createSimulatedCluster', opts, CLUSTER_RULES)
  const { members = 3, founders = [] } = opts as { members?: number; founders?: number[] }
  for (const f of founders) if (f >= members) refuse('founders', `indexes of members (0 to ${members - 1})`, f)
}
