// Prints how long the checker takes on generated histories (no assertions):
//   npx tsx test/sim/linearizability/bench.ts
import { performance } from 'node:perf_hooks'
import { checkHistory } from './checker'
import { generateHistory } from './generate'
import type { WorkloadOptions } from './generate'

const cases: { name: string, options: WorkloadOptions }[] = [
  { name: '2000 ops, 20 paths, 5 clients, no multi', options: { seed: 1, operations: 2000, clients: 5, paths: 20, timeoutRate: 0.02, localReadRate: 0.1 } },
  { name: '2000 ops, 20 paths, 5 clients, 5% multi', options: { seed: 2, operations: 2000, clients: 5, paths: 20, timeoutRate: 0.02, multiRate: 0.05 } },
  { name: '2000 ops, 20 paths, 5 clients, 10% timeouts', options: { seed: 3, operations: 2000, clients: 5, paths: 20, timeoutRate: 0.1 } },
  { name: '2000 ops, 20 paths, 10 clients, 5% multi, 5% timeouts', options: { seed: 4, operations: 2000, clients: 10, paths: 20, timeoutRate: 0.05, multiRate: 0.05 } },
  { name: '2000 ops, 2 paths (2 big partitions), 5 clients, 5% multi, 2% timeouts', options: { seed: 7, operations: 2000, clients: 5, paths: 2, timeoutRate: 0.02, multiRate: 0.05 } },
  { name: '2000 ops, stale reads planted', options: { seed: 5, operations: 2000, clients: 5, paths: 20, plant: { bug: 'stale-read', rate: 0.05 } } },
  { name: '2000 ops, double apply planted', options: { seed: 6, operations: 2000, clients: 5, paths: 20, plant: { bug: 'double-apply', rate: 0.05 } } },
]

for (const { name, options } of cases) {
  const history = generateHistory(options)
  // the first runs include JIT warm-up; the machine is shared, so print the median and the best
  for (let i = 0; i < 3; i++) checkHistory(history)
  const times: number[] = []
  let result = checkHistory(history)
  for (let i = 0; i < 11; i++) {
    const start = performance.now()
    result = checkHistory(history)
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  console.log(`${name}: median ${times[5]!.toFixed(1)} ms, best ${times[0]!.toFixed(1)} ms, ${result.verdict}, ${result.partitions} partitions, ${result.checked} checked, ${result.skipped} skipped, ${result.steps} steps`)
}
