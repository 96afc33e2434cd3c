// Several signaling servers sharing rooms. Each server keeps its own sockets;
// what its rooms need from the others travels as room events on a bus (Redis
// pub/sub: redis-bus.ts), one channel per room that has members here:
//   joined / left   a peer of another server entered or left the room
//   who / here      a server whose first member just entered the room (once
//                   subscribed) says who is here and asks who is there; each
//                   other server answers with its peers
//                   ('here' is that server's whole list: after an outage of
//                   the bus each server sends both, and the lists correct
//                   what was lost)
//   signal          a relay to a peer of another server; `from` was set by
//                   the server that holds the sender (the bus is trusted
//                   infrastructure, the sockets are not), `data` is the text
//                   the sender wrote, already checked there
// Without a bus a server runs alone, as it always did.

export type RoomEvent =
  | { t: 'joined'; server: string; peer: string }
  | { t: 'left'; server: string; peer: string }
  | { t: 'who'; server: string }
  | { t: 'here'; server: string; peers: string[] }
  | { t: 'signal'; server: string; to: string; from: string; data: string }

export interface RoomBus {
  /** start hearing `room`'s events; resolves once subscribed */
  subscribe(room: string): Promise<void>
  unsubscribe(room: string): void
  publish(room: string, event: RoomEvent): void
  /** events of subscribed rooms, this server's own included */
  onEvent(fn: (room: string, event: RoomEvent) => void): void
  /** problems talking to the bus (the server keeps serving its own sockets);
   *  reported once per outage */
  onError(fn: (err: Error) => void): void
  /** the bus is back after an outage: events were lost meanwhile */
  onReconnect(fn: () => void): void
  close(): Promise<void>
}

const isString = (x: unknown): x is string => typeof x === 'string'

/** Parse one bus message; null for anything that is not a room event. */
export function parseRoomEvent(text: string): RoomEvent | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null) return null
  const e = v as Record<string, unknown>
  if (!isString(e.server)) return null
  switch (e.t) {
    case 'joined':
    case 'left':
      return isString(e.peer) ? { t: e.t, server: e.server, peer: e.peer } : null
    case 'who':
      return { t: 'who', server: e.server }
    case 'here':
      return Array.isArray(e.peers) && e.peers.every(isString) ? { t: 'here', server: e.server, peers: e.peers } : null
    case 'signal':
      return isString(e.to) && isString(e.from) && isString(e.data) ? { t: 'signal', server: e.server, to: e.to, from: e.from, data: e.data } : null
    default:
      return null
  }
}
