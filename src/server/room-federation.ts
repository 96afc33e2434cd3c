// The rooms of one signaling server as a part of the rooms all servers on a
// bus share (room-bus.ts): it tells the other servers about this server's
// joins, leaves and relays, keeps which peers of a room are on other servers,
// tells this server's members of a room when those arrive and leave, and
// after an outage of the bus (or every minute) resyncs: peers no server
// vouches for within RESYNC_WINDOW_MS are taken as gone. Separate from
// hub.ts because the hub is the protocol with this server's sockets; this is
// the protocol with the other servers, and a server without a bus has none.
// Generic over the hub's member type: it reads the hub's rooms and asks the
// hub to send, and never touches a socket.
import type { ServerMessage } from './protocol'
import { encodeRelayedSignal } from './protocol'
import type { RoomBus, RoomEvent } from './room-bus'

/** How long the other servers have to vouch for their peers after a resync. */
const RESYNC_WINDOW_MS = 2_000

/** A room here: peer id -> this server's member. */
type LocalRoom<M> = ReadonlyMap<string, M>

export class RoomFederation<M> {
  /** room -> peer id -> the server it is on, for the rooms that have members here */
  private readonly remote = new Map<string, Map<string, string>>()
  /** during a resync: room -> the peers of other servers not yet vouched for */
  private unconfirmed: Map<string, Set<string>> | null = null
  private resyncAt = 0

  constructor(
    private readonly bus: RoomBus,
    /** this server's id on the bus */
    private readonly server: string,
    /** the hub's rooms with members here (read, never written) */
    private readonly rooms: ReadonlyMap<string, LocalRoom<M>>,
    private readonly send: (member: M, msg: ServerMessage | string) => void,
    private readonly maxPeersPerRoom: number,
    private readonly now: () => number,
  ) {
    bus.onEvent((room, event) => {
      try {
        this.onRoomEvent(room, event)
      } catch {
        // one bad event must not stop the others
      }
    })
    bus.onReconnect(() => this.resync())
  }

  /** room's peers on other servers (undefined: none known) */
  elsewhere(room: string): ReadonlyMap<string, string> | undefined {
    return this.remote.get(room)
  }

  /** `peer` joined `room` here; `first`: the room's first member here. */
  joined(room: string, peer: string, first: boolean): void {
    this.bus.publish(room, { t: 'joined', server: this.server, peer })
    // the room's first member here: hear the room, then say who is here and
    // ask who is elsewhere. Both, once subscribed: of two servers subscribing
    // at once, the later one's words reach the earlier one either way.
    if (first) void this.bus.subscribe(room).then(() => this.announce(room), () => { /* not subscribed: nothing to announce */ })
  }

  /** `peer` left `room` here; `empty`: it was the room's last member here. */
  left(room: string, peer: string, empty: boolean): void {
    this.bus.publish(room, { t: 'left', server: this.server, peer })
    if (empty) {
      this.bus.unsubscribe(room)
      this.remote.delete(room)
    }
  }

  /** Relay a signal to `to` if it is on another server; false when it is not. */
  relay(room: string, to: string, from: string, dataText: string): boolean {
    if (this.remote.get(room)?.get(to) === undefined) return false
    this.bus.publish(room, { t: 'signal', server: this.server, to, from, data: dataText })
    return true
  }

  /** After a bus outage joins and leaves may have been lost both ways, and a
   *  server that crashed never said its peers left: tell each room who is here
   *  and ask who is elsewhere. A peer of another server that no answer vouches
   *  for within RESYNC_WINDOW_MS is taken as gone (expire). Called when the bus
   *  comes back, and every minute (index.ts). */
  resync(): void {
    // a resync under way keeps its window (one every second must not starve it)
    if (this.unconfirmed === null) {
      this.unconfirmed = new Map([...this.remote].map(([room, elsewhere]) => [room, new Set(elsewhere.keys())]))
      this.resyncAt = this.now()
    }
    for (const room of this.rooms.keys()) this.announce(room)
  }

  /** Called often (the hub's sweep): ends a resync whose window is over. */
  expire(now: number): void {
    if (this.unconfirmed !== null && now - this.resyncAt > RESYNC_WINDOW_MS) this.forgetUnconfirmed()
  }

  /** Tell the room's other servers who is here (the whole list), and ask who is there. */
  private announce(room: string): void {
    const members = this.rooms.get(room)
    if (members === undefined) return
    this.bus.publish(room, { t: 'here', server: this.server, peers: [...members.keys()] })
    this.bus.publish(room, { t: 'who', server: this.server })
  }

  /** the end of a resync: who was not vouched for has gone */
  private forgetUnconfirmed(): void {
    const unconfirmed = this.unconfirmed
    this.unconfirmed = null
    for (const [room, peers] of unconfirmed ?? []) {
      const elsewhere = this.remote.get(room)
      for (const peer of peers) {
        if (elsewhere?.delete(peer) !== true) continue
        for (const c of this.rooms.get(room)?.values() ?? []) this.send(c, { type: 'left', room, peer })
      }
    }
  }

  /** What another server says about a room that has members here. */
  private onRoomEvent(room: string, e: RoomEvent): void {
    const members = this.rooms.get(room)
    if (e.server === this.server || members === undefined) return
    const elsewhere = this.remote.get(room) ?? new Map<string, string>()
    this.remote.set(room, elsewhere)
    const arrived = (peer: string): void => {
      this.unconfirmed?.get(room)?.delete(peer)
      if (members.has(peer) || elsewhere.has(peer) || elsewhere.size >= this.maxPeersPerRoom) return
      elsewhere.set(peer, e.server)
      for (const c of members.values()) this.send(c, { type: 'joined', room, peer })
    }
    switch (e.t) {
      case 'joined':
        {
          arrived(e.peer)
          return
        }
      case 'here': {
        // a server's whole list: those of it not listed have left
        const listed = new Set(e.peers)
        for (const [peer, server] of [...elsewhere]) {
          if (server !== e.server || listed.has(peer)) continue
          elsewhere.delete(peer)
          for (const c of members.values()) this.send(c, { type: 'left', room, peer })
        }
        e.peers.forEach(arrived)
        return
      }
      case 'left':
        if (elsewhere.get(e.peer) !== e.server) return
        elsewhere.delete(e.peer)
        for (const c of members.values()) this.send(c, { type: 'left', room, peer: e.peer })
        return
      case 'who':
        {
          this.bus.publish(room, { t: 'here', server: this.server, peers: [...members.keys()] })
          return
        }
      case 'signal': {
        const target = members.get(e.to)
        // `from` and `data` were checked by the sender's server; its `joined` may
        // still be on the way (a 'here' answer comes later), so it is not required
        if (target !== undefined) this.send(target, encodeRelayedSignal(room, e.from, e.data))
        return
      }
    }
  }
}
