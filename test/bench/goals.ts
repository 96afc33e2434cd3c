// What the figures are judged by. Ratios: each meshkeeper figure names the
// floor it is compared with (FLOORS: keys of floor figures, summed), and
// ratio = figure / floor. Goals: issue 7's (commit, throughput, failover,
// locks, watches against the floor) and issue 17's (joining, scale, a
// vanished device), each met, missed or n/a with why.
import { figures } from './figures'

/** Attach each figure's floor (sum of floor keys) and ratio. */
function attachFloor(key: string, floorOf: string[]): void {
  const f = figures[key]
  if (f === undefined) return
  const parts = floorOf.map((k) => figures[k]?.value ?? null)
  const floor = parts.some((v) => v === null) ? null : parts.reduce<number>((s, v) => s + v!, 0)
  f.floorOf = floorOf
  f.floor = floor
  f.ratio = floor === null || f.value === null || floor === 0 ? null : f.value / floor
}

/** Floors the meshkeeper figures are compared with (ratio = figure / floor). */
const FLOORS: Array<[RegExp, string[]]> = [
  [/^mesh\w*\.commit\.\w+\.(p50|p99)$/, ['floor.webrtc.rtt.$1', 'floor.idb.strict.$1']],
  [/^mesh3\.throughput\.\w+$/, ['floor.idb.strict.rate']],
  [/^mesh3\.read\.linearizable\.(p50|p99)$/, ['floor.webrtc.rtt.$1']],
  [/^mesh3\.watch\.(p50|p99)$/, ['floor.webrtc.rtt.$1', 'floor.idb.strict.$1']],
  [/^mesh\w*\.failover\.(crash|close)\.(p50|p99|max)$/, ['peers.webLocks.failover.$1.$2']],
  [/^mesh3\.lock\.acquireRelease\.(p50|p99)$/, ['floor.locks.acquireRelease.$1']],
  [/^mesh3\.lock\.handoff\.(p50|p99)$/, ['floor.locks.handoff.$1']],
  // a new, reloaded or reopened tab is a fresh page: it cannot write before its first lock and strict write
  [/^lifecycle\.(firstTab|newTab|reload|reopen)\.(p50|p99)$/, ['floor.page.write.$2']],
  [/^peers\.broadcastChannel\w*\.failover\.(crash|close)\.(p50|p99|max)$/, ['peers.webLocks.failover.$1.$2']],
]

/** Every figure that has a floor (FLOORS) gets its floor and ratio. */
export function attachFloors(): void {
  for (const key of Object.keys(figures)) {
    for (const [re, floorKeys] of FLOORS) {
      const m = re.exec(key)
      if (m !== null) {
        attachFloor(key, floorKeys.map((k) => k.replace(/\$(\d)/g, (_, i: string) => m[Number(i)]!)))
        break
      }
    }
  }
}

export interface Goal {
  goal: string
  figure: string
  value: number | null
  target: number | null
  comparison: '<=' | '>='
  met: boolean | null
  reason?: string
}

function goal(text: string, figure: string, comparison: '<=' | '>=', target: number | null, why?: string): Goal {
  const value = figures[figure]?.value ?? null
  const met = value === null || target === null ? null : comparison === '<=' ? value <= target : value >= target
  const reason = met === null ? (figures[figure] === undefined ? 'not measured in this run' : (figures[figure]!.reason ?? why ?? 'floor not measured')) : undefined
  return { goal: text, figure, value, target, comparison, met, ...(reason === undefined ? {} : { reason }) }
}

const v = (key: string): number | null => figures[key]?.value ?? null
const times = (k: number, ...keys: string[]): number | null => (keys.some((x) => v(x) === null) ? null : k * keys.reduce((s, x) => s + v(x)!, 0))

/** Every goal, judged by the figures of this run. */
export function goals(): Goal[] {
  return [
    goal('commit p50 (follower) <= 1.5 x (WebRTC rtt + IndexedDB strict commit)', 'mesh3.commit.follower.p50', '<=', times(1.5, 'floor.webrtc.rtt.p50', 'floor.idb.strict.p50')),
    goal('commit p50 (leader) <= 1.5 x (WebRTC rtt + IndexedDB strict commit)', 'mesh3.commit.leader.p50', '<=', times(1.5, 'floor.webrtc.rtt.p50', 'floor.idb.strict.p50')),
    goal('writes/s with 64 writers >= 20 x IndexedDB strict commit rate', 'mesh3.throughput.writers64', '>=', times(20, 'floor.idb.strict.rate')),
    goal('failover after graceful close p50 <= 50 ms', 'mesh3.failover.close.p50', '<=', 50),
    goal('failover after graceful close p99 <= 50 ms', 'mesh3.failover.close.p99', '<=', 50),
    goal('failover after crash p50 <= 300 ms', 'mesh3.failover.crash.p50', '<=', 300),
    goal('failover after crash p99 <= 1 s', 'mesh3.failover.crash.p99', '<=', 1000),
    goal('lock acquire+release p50 <= 4 x navigator.locks', 'mesh3.lock.acquireRelease.p50', '<=', times(4, 'floor.locks.acquireRelease.p50')),
    goal('watch p50 <= commit p50 + one WebRTC round trip', 'mesh3.watch.p50', '<=', v('mesh3.commit.follower.p50') === null ? null : times(1, 'mesh3.commit.follower.p50', 'floor.webrtc.rtt.p50'), 'commit latency not measured'),
    // issue 17: joinMesh call → first write resolved
    goal('first tab ever (no signaling) joinMesh → first write p50 <= 50 ms', 'lifecycle.firstTab.p50', '<=', 50),
    goal('new tab joining a live mesh joinMesh → first write p50 <= 100 ms', 'lifecycle.newTab.p50', '<=', 100),
    goal('reloaded tab joinMesh → first write p50 <= 100 ms', 'lifecycle.reload.p50', '<=', 100),
    goal('first tab after every tab closed joinMesh → first write p50 <= 150 ms', 'lifecycle.reopen.p50', '<=', 150),
    goal('new device through signaling joinMesh → first write p50 <= 1 s', 'lifecycle.newDevice.p50', '<=', 1000),
    // issue 17, item 5: scale (the 3-tab figure is mesh3's, in the same run)
    goal('16 tabs over 4 browsers: every formation within 5 s (max, from the first page opened)', 'mesh16x4.formation.max', '<=', 5000),
    goal('16 tabs over 4 browsers: every formation within 5 s (max, from every tab joined)', 'mesh16x4.formation.afterReady.max', '<=', 5000),
    goal('16 tabs over 4 browsers: commit p50 <= 2 x the 3-tab figure', 'mesh16x4.commit.follower.p50', '<=', times(2, 'mesh3.commit.follower.p50')),
    goal('50 tabs over 5 browsers: commit p50 <= 3 x the 3-tab figure', 'mesh50x5.commit.follower.p50', '<=', times(3, 'mesh3.commit.follower.p50')),
    goal('50 tabs over 5 browsers: a learner links to the voters only (<= 5)', 'mesh50x5.links.learnerMax', '<=', 5),
    goal('raft failover after a device vanishes p99 <= 2 s', 'vanish.raftFailover.p99', '<=', 2000),
    goal('election recipe: a new app leader after the leader\'s device vanishes p99 <= 3 s', 'vanish.electionRecipe.p99', '<=', 3000),
  ]
}
