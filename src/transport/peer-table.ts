// The peer table: every peer of the room we know of (by signaling id
// `member/tab`), what we are doing about it (an attempt, a retry, a link),
// and who vouched for it; plus the link handed out per member and what each
// linked neighbour says it has links to (the routes relay.ts may use).
//
// Every entry was introduced by a signaling channel or by a neighbour, and
// made-up ids cost an entry each: the table is bounded (MAX_REMOTES), and a
// peer a channel announces may take the place of an idle one that only a
// neighbour's word put here (idleUnvouched).
import type { HelloHandshake } from './hello-handshake'
import type { FramedLink } from './link'
import type { SignalingChannel } from './signaling'
import type { PeerLike } from './simple-peer-port'
import type { TimerHandle } from '../shared/clock'
import { parseSignalingId } from './control'

/** how a signal reached us, and so a way back: a channel, or a neighbour relaying */
export type Route = SignalingChannel | { relayVia: string }

/** one WebRTC connection attempt to a peer, until its hello is verified (or it fails) */
export interface Attempt {
  id: string
  initiator: boolean
  peer: PeerLike
  timer: TimerHandle
  link: FramedLink | null
  /** this link's hello, key and proof exchange (made when the channel connects) */
  handshake: HelloHandshake | null
  /** our hello went out (proofs are sent after it, never before) */
  helloSent: Promise<void>
  /** the link is (or was) handed out: the peer's id is verified */
  established: boolean
  /** the neighbours (signaling ids) that relayed our signals of this attempt */
  relays: Set<string>
  /** a signal of ours may not have reached the peer: no route was live when
   *  it left, or a neighbour that relayed it lost its link to the peer or to
   *  us (discovery.ts makes such an attempt again once a route is live) */
  lost: boolean
  /** knocks the peer sent while this attempt ran (discovery.ts) */
  knocks: number
}

export interface Remote {
  id: string
  member: string
  tab: string
  /** channels that told us of this peer (or brought its signals), in order of preference */
  channels: Set<SignalingChannel>
  /** the neighbour (signaling id) that last relayed this peer's signals to us */
  relayVia: string | null
  attempt: Attempt | null
  link: FramedLink | null
  failures: number
  retry: TimerHandle | null
  /** the channel or neighbour that brought this peer in, until it is settled (introductions.ts) */
  introducer: string | null
  /** it linked with us once: a real peer */
  linkedOnce: boolean
}

/** peers we track at once (a room is a handful of tabs and devices; a
 *  signaling server lets 64 into a room) */
const MAX_REMOTES = 256
/** introducer names of signaling channels start with this; a neighbour's is its signaling id */
export const CHANNEL = 'channel:'

/** a channel announced it, or it linked with us once: more than a neighbour's word */
export function isVouched(r: Remote): boolean {
  return r.channels.size > 0 || r.linkedOnce
}

export class PeerTable {
  private readonly remotes = new Map<string, Remote>()
  /** the link handed out per member (the newest verified one) */
  readonly current = new Map<string, FramedLink>()
  /** for each link (by remote signaling id): the ids it says it has links to */
  readonly relayPeers = new Map<string, Set<string>>()
  /** links our hello went out on: nothing else may be sent on a link before it */
  readonly helloSent = new WeakSet<FramedLink>()

  get(id: string): Remote | undefined {
    return this.remotes.get(id)
  }

  /** r is still the table's entry for its id (not forgotten, not replaced) */
  holds(r: Remote): boolean {
    return this.remotes.get(r.id) === r
  }

  values(): IterableIterator<Remote> {
    return this.remotes.values()
  }

  ids(): string[] {
    return [...this.remotes.keys()]
  }

  get full(): boolean {
    return this.remotes.size >= MAX_REMOTES
  }

  add(id: string, member: string, tab: string, introducer: string): Remote {
    const r: Remote = { id, member, tab, channels: new Set(), relayVia: null, attempt: null, link: null, failures: 0, retry: null, introducer, linkedOnce: false }
    this.remotes.set(id, r)
    return r
  }

  delete(id: string): void {
    this.remotes.delete(id)
  }

  /** a peer only a neighbour vouches for that nothing is under way with: the first to go when the table is full */
  idleUnvouched(): Remote | undefined {
    for (const r of this.remotes.values()) if (!isVouched(r) && r.attempt === null && r.link === null) return r
    return undefined
  }

  /** a linked neighbour that says it has a link to `id`, if any */
  reachableByRelay(id: string): string | null {
    for (const [via, peers] of this.relayPeers) if (peers.has(id) && this.current.has(parseSignalingId(via)?.member ?? '')) return via
    return null
  }
}
