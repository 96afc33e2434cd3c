// Awareness (presence: cursors, names) for a bound doc, over ephemeral znodes:
//   /__yjs-awareness/<name>/<clientID>   (data: a y-protocols awareness update
//                                          holding exactly that client's state)
// Each binding writes its own client's state into an ephemeral node of its
// session, so the state goes away by itself when the tab's session ends (close,
// crash + session expiry), and watches the directory for the others.
//
// Awareness is not durable, but here each change is a replicated write: one
// write is in flight at a time and later changes coalesce into the next one
// (the latest state wins), which bounds the write rate by the commit latency.
// y-protocols renews the local state every 15 s, so an idle tab writes that often.
//
// Untrusted input: a node whose update is malformed, or holds any client but
// the one its name says, is reported (BAD_MESSAGE) and ignored, so a member
// cannot smuggle another client's state in under its own node. (The tree has
// no ACLs: a member can still `set` another client's node; presence is not
// authenticated beyond the room secret, as in y-webrtc.)
import * as decoding from 'lib0/decoding'
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates, type Awareness } from 'y-protocols/awareness'
import { MeshError } from '../shared/errors'
import type { Mesh, WatchEvent } from '../shared/types'

/** where awareness states live; apps should not write under it */
export const AWARENESS_ROOT = '/__yjs-awareness'

/** The single client id an awareness update is about, or null when it is not exactly one well-formed entry. */
function soleClientOf(update: Uint8Array): number | null {
  try {
    const d = decoding.createDecoder(update)
    if (decoding.readVarUint(d) !== 1) return null
    const client = decoding.readVarUint(d)
    decoding.readVarUint(d) // clock
    JSON.parse(decoding.readVarString(d))
    return decoding.hasContent(d) ? null : client
  } catch {
    return null
  }
}

export interface AwarenessSync {
  /** (re)register the directory watch and reload every state (a new session has no watches) */
  resync(): void
  stop(): void
}

/**
 * Starts syncing `awareness` under `name`. `ensureNode` creates a persistent
 * node unless it exists; errors go to `report`.
 */
export function syncAwareness(
  mesh: Mesh,
  name: string,
  awareness: Awareness,
  ensureNode: (path: string) => Promise<void>,
  report: (err: unknown) => void,
): AwarenessSync {
  const dir = `${AWARENESS_ROOT}/${name}`
  const ownPath = `${dir}/${awareness.clientID}`
  const origin = { awareness: dir }
  let stopped = false
  let stopWatch: (() => void) | null = null
  let ready: Promise<void> | null = null

  const applyNode = async (child: string): Promise<void> => {
    if (child === String(awareness.clientID)) return
    let data: Uint8Array
    try {
      data = (await mesh.get(`${dir}/${child}`)).data
    } catch (err) {
      if (err instanceof MeshError && err.code === 'NO_NODE') {
        removeNamed(child)
        return
      }
      throw err
    }
    if (stopped) return
    const client = soleClientOf(data)
    if (client === null || String(client) !== child) {
      report(new MeshError('BAD_MESSAGE', `awareness: ${dir}/${child} is not the state of client ${child}`, { path: `${dir}/${child}` }))
      return
    }
    applyAwarenessUpdate(awareness, data, origin)
  }

  const removeNamed = (child: string): void => {
    const client = Number(child)
    if (Number.isSafeInteger(client) && client !== awareness.clientID && awareness.states.has(client)) {
      removeAwarenessStates(awareness, [client], origin)
    }
  }

  const onEvent = (e: WatchEvent): void => {
    if (stopped || !e.path.startsWith(`${dir}/`)) return
    const child = e.path.slice(dir.length + 1)
    if (child.includes('/')) return
    if (e.type === 'deleted') removeNamed(child)
    else if (e.type === 'created' || e.type === 'data') applyNode(child).catch(report)
  }

  const setup = async (): Promise<void> => {
    await ensureNode(AWARENESS_ROOT)
    await ensureNode(dir)
    stopWatch?.()
    stopWatch = mesh.watch(dir, onEvent, { recursive: true })
    const present = new Set(await mesh.children(dir))
    for (const child of present) await applyNode(child)
    // states whose node went while we were not watching
    for (const client of awareness.states.keys()) if (!present.has(String(client))) removeNamed(String(client))
    dirty = true
    await write()
  }

  // ---- our own state: one write in flight, the latest state wins ----
  let dirty = false
  let writing = false
  const write = async (): Promise<void> => {
    if (writing || stopped) return
    writing = true
    try {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may run during the loop's awaits
      while (dirty && !stopped) {
        dirty = false
        const update = encodeAwarenessUpdate(awareness, [awareness.clientID])
        try {
          await mesh.set(ownPath, update).catch((err: unknown) => {
            if (!(err instanceof MeshError && err.code === 'NO_NODE')) throw err
            // first write of this session (the node is ephemeral): create it
            return mesh.create(ownPath, update, { mode: 'ephemeral' })
          })
        } catch (err) {
          dirty = true // the next change or renewal tries again
          throw err
        }
      }
    } finally {
      writing = false
    }
  }

  const onUpdate = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, updateOrigin: unknown): void => {
    if (updateOrigin === origin || stopped) return
    if (![...added, ...updated, ...removed].includes(awareness.clientID)) return
    dirty = true
    if (ready !== null) write().catch(report)
  }
  awareness.on('update', onUpdate)

  const resync = (): void => {
    if (stopped) return
    ready = setup()
    ready.catch(report)
  }
  resync()

  return {
    resync,
    stop() {
      if (stopped) return
      stopped = true
      awareness.off('update', onUpdate)
      stopWatch?.()
      // others drop our state now rather than at session end
      mesh.delete(ownPath).catch(() => {
        // best effort: if it fails, the node goes with our session
      })
    },
  }
}
