// An in-memory signaling hub for tests: channels of one hub that joined the
// same room see each other (as on a signaling server), and a test can drop or
// inject signals (what an unreliable or hostile signaling path does).
import type { SignalData, SignalingChannel } from '../../src/transport/signaling'

type Member = { id: string; room: string; onPeer: Set<(p: string, present: boolean) => void>; onSignal: Set<(f: string, d: SignalData) => void> }

export class MemorySignalingHub {
  readonly members = new Map<string, Member>()
  /** return false to drop a signal */
  filter: (from: string, to: string, data: SignalData) => boolean = () => true
  /** return false to hide `peer`'s arrival from `observer` */
  presence: (peer: string, observer: string) => boolean = () => true
  readonly log: Array<{ from: string; to: string; data: SignalData }> = []
  /** every room name a channel joined, in order (what a signaling server sees) */
  readonly rooms: string[] = []

  channel(): SignalingChannel {
    const hub = this
    const me: Member = { id: '', room: '', onPeer: new Set(), onSignal: new Set() }
    return {
      name: 'memory',
      connected: true,
      join(room, peer) {
        me.id = peer
        me.room = room
        hub.rooms.push(room)
        for (const other of hub.members.values()) {
          if (other.room !== room) continue
          if (hub.presence(peer, other.id)) setTimeout(() => other.onPeer.forEach((fn) => fn(peer, true)), 0)
          if (hub.presence(other.id, peer)) setTimeout(() => me.onPeer.forEach((fn) => fn(other.id, true)), 0)
        }
        hub.members.set(peer, me)
      },
      onPeer(fn) {
        me.onPeer.add(fn)
        return () => me.onPeer.delete(fn)
      },
      onSignal(fn) {
        me.onSignal.add(fn)
        return () => me.onSignal.delete(fn)
      },
      signal(to, data) {
        hub.log.push({ from: me.id, to, data })
        if (!hub.filter(me.id, to, data) || hub.members.get(to)?.room !== me.room) return
        hub.inject(me.id, to, data)
      },
      sibling: () => hub.channel(),
      close() {
        hub.members.delete(me.id)
        for (const other of hub.members.values()) if (other.room === me.room) other.onPeer.forEach((fn) => fn(me.id, false))
      },
    }
  }

  /** deliver `data` to `to` as if `from` had sent it */
  inject(from: string, to: string, data: SignalData): void {
    const target = this.members.get(to)
    const copy = JSON.parse(JSON.stringify(data)) as SignalData
    if (target !== undefined) setTimeout(() => target.onSignal.forEach((fn) => fn(from, copy)), 0)
  }

  /** deliver `data` as is, as a structured clone (BroadcastChannel) would:
   *  no JSON round trip, so any shape and depth arrives */
  injectObject(from: string, to: string, data: SignalData): void {
    const target = this.members.get(to)
    if (target !== undefined) setTimeout(() => target.onSignal.forEach((fn) => fn(from, data)), 0)
  }
}
