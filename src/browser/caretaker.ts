// A caretaker: this tab runs a dead tab's voter (invariant 4) — same
// IndexedDB slot, same log, its Web Lock now ours — so that closing tabs
// never costs quorum while one tab of the browser lives. It only keeps the
// member's vote alive until membership policy retires it:
//   - it reports itself invisible, so hand-offs never target it, and hands
//     leadership away whenever it wins an election;
//   - it tells every peer it is leaving, again each round (a leader that
//     changes meanwhile has not heard it, and the member's own 'join' on a
//     leader change clears the notice), so the leader removes it, with a
//     caught-up learner promoted in its place when one exists;
//   - once our own member's configuration no longer counts its vote (removed,
//     or demoted to a learner), it stops, says 'leaving' a last time, its
//     session is closed and its slot destroyed (a retired member's slot is
//     never run again);
//   - if the member's own tab comes back (a reload slower than the grace,
//     reclaim.ts), it stops at once and lets that tab have the member.
import { MeshError } from '../shared/errors'
import type { Storage, StorageProvider } from '../storage/types'
import type { MeshTransport } from '../transport/mesh-transport'
import type { PeerHello } from '../transport/types'
import type { MemberKey } from '../wire/member-key'
import { encodeNodeMessage } from '../wire/node-messages'
import { Member } from '../driver/member'
import type { MemberOptions } from '../driver/options'

export interface CaretakerOptions {
  room: string
  hello: PeerHello
  provider: StorageProvider
  openTransport(hello: PeerHello): MeshTransport
  /** this tab's own member: its configuration says when the caretaker is retired */
  primary: Member
  /** the rest of the member's options (scheduler, timing, random, ...) */
  member: Omit<MemberOptions, 'hello' | 'storage' | 'transport' | 'visible' | 'bootstrap'>
  /** aborted when this tab closes */
  signal: AbortSignal
  /** aborted when the member's own tab asks for it back (a reload, reclaim.ts): stop without retiring it */
  reclaimed?: AbortSignal
  /** how often the caretaker re-announces and checks retirement (default 500 ms) */
  roundMs?: number
  /** called once the member runs (its storage loaded, its transport open), with the member */
  started?: (member: Member) => void
  /** its storage and transport, opened ahead (a reopen: prepareSlot); `hello` is then theirs */
  prepared?: PreparedSlot
}

/** A vacant slot's storage and transport, opened while the reopening tab
 *  starts its own member (start-member.ts), for the caretaker to run. */
export interface PreparedSlot {
  hello: PeerHello
  storage: Storage
  transport: MeshTransport
}

/**
 * Open `hello.member`'s slot and transport ahead of its caretaker: its link
 * to our own member then forms while that member starts, not after. Null
 * when the slot has no key (it cannot be run) or does not open.
 */
export async function prepareSlot(o: {
  provider: StorageProvider
  room: string
  /** its hello but the browser id, which `browser` gives */
  hello: PeerHello
  browser: Promise<string>
  key: Promise<MemberKey | null>
  openTransport(hello: PeerHello, key: MemberKey): MeshTransport
}): Promise<PreparedSlot | null> {
  let transport: MeshTransport | null = null
  try {
    const key = await o.key
    if (key === null) return null
    const hello = { ...o.hello, browser: await o.browser }
    // the transport first: its link forms while the slot opens, and the slot
    // opens only behind our own member's first save (both read the room's database)
    transport = o.openTransport(hello, key)
    const storage = await o.provider.open(o.room, o.hello.member)
    return { hello, storage, transport }
  } catch {
    await transport?.close()
    return null // the caretaker opens it again, and reports what fails then
  }
}

/** Close what was prepared and not run (what prepareSlot gives, resolved or not). */
export async function discardPrepared(prepared: PreparedSlot | null | Promise<PreparedSlot | null>): Promise<void> {
  const p = await prepared
  if (p === null) return
  await p.transport.close()
  await p.storage.close()
}

const isVoter = (m: Member, id: string): boolean => m.conf.voters.includes(id) || m.conf.votersOutgoing.includes(id)

/** Run the member until it is retired or the tab closes. */
export type CaretakerOutcome = 'retired' | 'tab-closed' | 'reclaimed'

export async function runCaretaker(opts: CaretakerOptions): Promise<CaretakerOutcome> {
  const id = opts.hello.member
  const storage = reopenableSlot(opts.provider, opts.room, id, opts.prepared?.storage ?? (await opts.provider.open(opts.room, id)))
  const transport = opts.prepared?.transport ?? opts.openTransport(opts.hello)
  const member = new Member({ ...opts.member, hello: opts.hello, storage: storage.current(), reopenStorage: storage.reopen, transport, bootstrap: false, visible: () => false })
  try {
    await member.start()
  } catch (err) {
    await transport.close()
    await storage.close()
    throw err
  }
  opts.started?.(member)
  const leaving = encodeNodeMessage({ type: 'leaving', member: id })
  const sayLeaving = (): void => {
    for (const link of transport.links().values()) {
      try {
        if (link.open) link.send(leaving)
      } catch {
        // the link is closing; its peer hears the next round on a new one
      }
    }
  }
  const outcome = await new Promise<CaretakerOutcome>((resolve) => {
    const round = (): void => {
      if (opts.reclaimed?.aborted === true) {
        resolve('reclaimed')
        return
      }
      if (opts.signal.aborted || member.isStopped) {
        resolve('tab-closed')
        return
      }
      // retired once our member (which has a leader, so its view is current)
      // no longer counts its vote: removed, or demoted to a learner that the
      // leader removes as a departed member
      if (opts.primary.leader !== null && !isVoter(opts.primary, id)) {
        resolve('retired')
        return
      }
      if (member.isLeader) member.visibilityChanged() // invisible: hands leadership to a visible voter
      sayLeaving()
      setTimeout(round, opts.roundMs ?? 500)
    }
    opts.signal.addEventListener('abort', () => resolve('tab-closed'), { once: true })
    opts.reclaimed?.addEventListener('abort', () => resolve('reclaimed'), { once: true })
    round()
  })
  if (outcome === 'reclaimed') {
    // its own tab runs it again in a moment, from this slot: no 'leaving', no
    // report of its death — only the lock, once we let go, goes to that tab
    member.stop(new MeshError('CLOSED', 'its own tab took the member back'))
    await transport.close()
    await storage.close()
    return outcome
  }
  if (outcome === 'retired') opts.primary.closeSessions([member.sessionId])
  member.stop(new MeshError('CLOSED', outcome === 'retired' ? 'the member was retired' : 'the tab closed'))
  // the last word on every link (links are ordered): a 'join' the member sent
  // on a leader change must not leave it looking alive to the leader
  sayLeaving()
  opts.primary.reportPeerGone(id)
  await transport.close()
  if (outcome === 'retired') await storage.current().destroy()
  else await storage.close()
  return outcome
}

/** A member's slot that the member may wipe and reopen (a cluster that lost
 *  to an older one, MemberOptions.reopenStorage); `close` closes whichever is current. */
export interface ReopenableSlot {
  current(): Storage
  /** a property, not a method: callers pass it on unbound (MemberOptions.reopenStorage) */
  reopen: () => Promise<Storage>
  close(): Promise<void>
}

export function reopenableSlot(provider: StorageProvider, room: string, member: string, first: Storage): ReopenableSlot {
  let current = first
  return {
    current: () => current,
    reopen: async () => (current = await provider.open(room, member)),
    close: () => current.close(),
  }
}
