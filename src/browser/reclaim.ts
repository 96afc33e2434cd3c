// Asking for a member back (identity.ts, caretaker.ts).
//
// A reloaded tab takes back the member its previous page ran (invariant 4).
// Its old page frees the member's Web Lock as it goes, and the survivors of
// the browser leave the member free for `graceMs` (death-watch.ts) before one
// of them runs it as a caretaker. A new page that takes longer than that to
// load (a busy machine, a slow dev server) finds the lock held by a caretaker
// that is about to retire the member — and used to give up and make a new
// member, a new voter for the cluster to admit while the old one is retired.
//
// Two messages on a BroadcastChannel of the room keep the member with its tab:
//   - `reloading`: the old page, on `pageswap` of a reload (the Navigation
//     API tells it the navigation is a reload, a close has no pageswap), says
//     its member is coming back; the survivors then wait `reloadGraceMs`
//     instead of `graceMs` before they act on its death certificate;
//   - `reclaim`: the new page, while it waits for the lock, asks for its
//     member back; a caretaker of that member (a survivor that did not hear
//     the notice, or whose longer grace ran out too) stops at once without
//     retiring it (no 'leaving', the slot kept) and its lock goes to the page.
// Only pages of this origin can post on the channel; messages are checked all
// the same, and one about a member nobody here runs or watches changes nothing.
import { MEMBER_ID_PATTERN } from '../wire/limits'

export interface ReclaimRequests {
  /** ask every tab of this browser to let go of `member` */
  ask(member: string): void
  /** `handler` hears every ask for a member; returns the unsubscribe */
  listen(handler: (member: string) => void): () => void
  /** tell every tab of this browser that `member`'s page is reloading */
  announceReload(member: string): void
  /** `handler` hears every reload notice; returns the unsubscribe */
  onReload(handler: (member: string) => void): () => void
  close(): void
}

const channelName = (room: string): string => `meshkeeper:${room}:reclaim`

const nowhere: ReclaimRequests = { ask: () => undefined, listen: () => () => undefined, announceReload: () => undefined, onReload: () => () => undefined, close: () => undefined }

/** The room's reclaim channel; without BroadcastChannel (an old runtime) messages go nowhere. */
export function openReclaimRequests(room: string): ReclaimRequests {
  if (typeof globalThis.BroadcastChannel !== 'function') return nowhere
  const channel = new BroadcastChannel(channelName(room))
  const asks = new Set<(member: string) => void>()
  const reloads = new Set<(member: string) => void>()
  const memberIn = (data: unknown, field: 'reclaim' | 'reloading'): string | null => {
    if (typeof data !== 'object' || data === null) return null
    const member = (data as Record<string, unknown>)[field]
    return typeof member === 'string' && MEMBER_ID_PATTERN.test(member) ? member : null
  }
  channel.onmessage = (e: MessageEvent<unknown>) => {
    const asked = memberIn(e.data, 'reclaim')
    if (asked !== null) for (const handler of asks) handler(asked)
    const reloading = memberIn(e.data, 'reloading')
    if (reloading !== null) for (const handler of reloads) handler(reloading)
  }
  const subscribe = (set: Set<(member: string) => void>, handler: (member: string) => void): (() => void) => {
    set.add(handler)
    return () => set.delete(handler)
  }
  return {
    ask: (member) => channel.postMessage({ reclaim: member }),
    listen: (handler) => subscribe(asks, handler),
    announceReload: (member) => channel.postMessage({ reloading: member }),
    onReload: (handler) => subscribe(reloads, handler),
    close: () => {
      asks.clear()
      reloads.clear()
      channel.close()
    },
  }
}

/** Ask for `member` at once and every `everyMs` until the returned stop is called
 *  (a caretaker may start just after an ask). */
export function keepAsking(requests: Pick<ReclaimRequests, 'ask'>, member: string, everyMs = 250): () => void {
  requests.ask(member)
  const timer = setInterval(() => requests.ask(member), everyMs)
  return () => clearInterval(timer)
}
