// Leader election (Curator's LeaderSelector / etcd's concurrency.Election):
// candidates queue as in a mutex; the first holds leadership until it releases
// its lease (resigns) or its session dies. Each candidate's node carries its
// member id and an optional value, so anyone can ask who leads.
import type { Election, ElectionLeader, MeshCore, NodeData } from '../shared/types'
import { NodeLease } from './lease'
import { SequentialLock } from './sequential-lock'
import { bySequence, childPath, isCode } from './support'
import { realClock } from '../shared/clock'
import type { Clock, TimerHandle } from '../shared/clock'

const KIND = 'candidate-'
/** observe() reads again after a failed read, after this pause, doubling up to LAST_RETRY_MS */
const FIRST_RETRY_MS = 100
const LAST_RETRY_MS = 2000

/** `clock` times the candidate's wait (default the platform's timers; a Mesh's `election` gets its own) */
export function election(mesh: MeshCore, path: string, clock: Clock = realClock): Election {
  return {
    async campaign(opts = {}): Promise<NodeLease> {
      const lock = new SequentialLock(mesh, {
        path,
        kind: KIND,
        kinds: [KIND],
        rule: (c, mine) => (mine === 0 ? { hold: true } : { node: c[mine - 1]!.name }),
        data: () => JSON.stringify(opts.value === undefined ? { id: mesh.id } : { id: mesh.id, value: opts.value }),
      }, clock)
      return lock.acquire(opts.signal ? { signal: opts.signal } : {})
    },

    leader: () => currentLeader(mesh, path),

    observe(fn: (leader: ElectionLeader | null) => void): () => void {
      let stopped = false
      let last: string | undefined
      let running: Promise<void> = Promise.resolve()
      let retry: TimerHandle | null = null
      let pause = FIRST_RETRY_MS
      // Re-read on every change of the candidates, one read at a time, and
      // report only real changes of leader. A read that fails (no quorum for
      // a moment, while a crashed tab's voters are taken over) is read again
      // later: the change that caused it may be the last one for a long time,
      // and dropping it would leave the app with a leader that is gone.
      const refresh = () => {
        running = running.then(async () => {
          if (stopped) return
          let leader: ElectionLeader | null
          try {
            leader = await currentLeader(mesh, path)
          } catch {
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop may be called during the await above
            if (retry === null && !stopped) {
              retry = clock.setTimeout(() => {
                retry = null
                refresh()
              }, pause)
              pause = Math.min(pause * 2, LAST_RETRY_MS)
            }
            return
          }
          pause = FIRST_RETRY_MS
          const key = JSON.stringify(leader)
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop may be called during the await above
          if (stopped || key === last) return
          last = key
          fn(leader)
        })
      }
      const unwatch = mesh.watch(path, (e) => {
        if (e.type === 'children' || e.type === 'created' || e.type === 'deleted') refresh()
      })
      refresh()
      return () => {
        stopped = true
        if (retry !== null) clock.clearTimeout(retry)
        unwatch()
      }
    },
  }
}

async function currentLeader(mesh: MeshCore, path: string): Promise<ElectionLeader | null> {
  // who leads *now*, not as this tab last heard: catch up with the leader first
  await mesh.sync(path)
  for (;;) {
    let names: string[]
    try {
      names = bySequence(await mesh.children(path))
    } catch (err) {
      if (isCode(err, 'NO_NODE')) return null
      throw err
    }
    if (names.length === 0) return null
    try {
      return describe(await mesh.get(childPath(path, names[0]!)), names[0]!)
    } catch (err) {
      if (!isCode(err, 'NO_NODE')) throw err
      // the first candidate left between the two reads: look again
    }
  }
}

/** The candidate a node names. Node data is written by other tabs: read it
 *  defensively, falling back to the node name when it is not ours to parse. */
function describe(node: NodeData, name: string): ElectionLeader {
  let parsed: { id?: unknown; value?: unknown } = {}
  try {
    const v = node.json()
    if (typeof v === 'object' && v !== null) parsed = v
  } catch {
    // not JSON
  }
  const leader: ElectionLeader = { id: typeof parsed.id === 'string' ? parsed.id : name }
  if (typeof parsed.value === 'string') leader.value = parsed.value
  return leader
}
