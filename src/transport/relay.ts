// Relay: signaling over the links we already have. Each linked neighbour is
// told whom we have links to ('peers'); a peer no signaling channel reaches
// (a WebSocket server down, a tab of another browser) can still be reached
// through a neighbour that has a link to it ('relay' carries the signal).
// What a neighbour relays or announces is its word only: the origin of a
// relayed signal is checked like any signal (and sealed end to end under a
// room key, so the relay reads and forges nothing), and the peers it names
// count against its share of introductions (introductions.ts).
import { TransportError } from './errors'
import { encodeControl } from './control'
import type { ControlMessage } from './control'
import type { MeshContext } from './mesh-context'
import type { Remote, Route } from './peer-table'
import { isPlainObject } from './signaling'
import type { SignalData, SignalingChannel } from './signaling'

/** peers named in one 'peers' message */
const MAX_ANNOUNCED = 256

/** how a signal to a peer goes now: by a connected channel, through a
 *  neighbour that says it has a link to the peer, or by nothing live (null) */
export type SignalRoute = { channel: SignalingChannel } | { via: string } | null

export interface RelayHooks {
  /** a neighbour (signaling id `via`) says it has a link to `id` */
  introduce(id: string, via: string): void
  /** a neighbour (`via`) no longer says it has a link to these peers: what it
   *  was relaying to them may have been dropped */
  unnamed(via: string, peers: ReadonlySet<string>): void
  /** a signal for us came relayed by a neighbour */
  receive(from: string, data: SignalData, route: Route): Promise<void>
}

export class Relay {
  constructor(
    private readonly ctx: MeshContext,
    private readonly hooks: RelayHooks,
  ) {}

  /** tell every neighbour whom we have links to, so they can relay through us */
  announce(): void {
    const { closed, table } = this.ctx
    if (closed) return
    const ids: string[] = []
    for (const r of table.values()) if (r.link?.open) ids.push(r.id)
    const msg = encodeControl({ type: 'peers', peers: ids.slice(0, MAX_ANNOUNCED) })
    for (const r of table.values()) {
      if (r.link !== null && r.link.open && table.helloSent.has(r.link)) {
        try {
          r.link.sendControl(msg)
        } catch {
          // closing under us
        }
      }
    }
  }

  /** a control message on r's established link: its peers, or a signal to relay or take */
  async onControl(r: Remote, msg: ControlMessage): Promise<void> {
    const { ctx } = this
    if (msg.type === 'peers') {
      const named = new Set(msg.peers)
      const before = ctx.table.relayPeers.get(r.id)
      ctx.table.relayPeers.set(r.id, named)
      const gone = new Set([...(before ?? [])].filter((id) => !named.has(id)))
      if (gone.size > 0) this.hooks.unnamed(r.id, gone)
      for (const id of msg.peers) if (id !== ctx.selfId) this.hooks.introduce(id, r.id)
    } else if (msg.type === 'relay') {
      if (msg.to === ctx.selfId) {
        // signaling meant for us; the relaying link vouches for nothing
        let data: unknown
        try {
          data = JSON.parse(msg.text)
        } catch {
          ctx.report(new TransportError('BAD_MESSAGE', 'relayed signal is not JSON', r.member), r.member)
          return
        }
        if (isPlainObject(data)) await this.hooks.receive(msg.from, data, { relayVia: r.id })
        return
      }
      // forward for a neighbour: `from` is who we got it from, never what it claims
      const target = ctx.table.get(msg.to)?.link
      if (target?.open) target.sendControl(encodeControl({ type: 'relay', to: msg.to, from: r.id, text: msg.text }))
    }
  }

  /** the route a signal to r takes now: a connected channel, else the
   *  neighbour that last relayed r's signals, else any that can relay; a
   *  neighbour only while it still says it has a link to r (one that closed
   *  it drops what it is given for r: issue 17, lost-signals.test.ts) */
  route(r: Remote): SignalRoute {
    const { table } = this.ctx
    const live = [...r.channels].find((c) => c.connected)
    if (live !== undefined) return { channel: live }
    const linked = (via: string | null): via is string => via !== null && table.get(via)?.link?.open === true
    const via = linked(r.relayVia) && table.relayPeers.get(r.relayVia)?.has(r.id) === true ? r.relayVia : table.reachableByRelay(r.id)
    return linked(via) ? { via } : null
  }

  /** pass `data` to r by one route (a duplicated offer would break the
   *  attempt): route(), else any channel (at best; null says none was live) */
  send(r: Remote, data: SignalData): SignalRoute {
    const route = this.route(r)
    if (route === null) r.channels.values().next().value?.signal(r.id, data)
    else if ('channel' in route) route.channel.signal(r.id, data)
    else this.ctx.table.get(route.via)?.link?.sendControl(encodeControl({ type: 'relay', to: r.id, from: this.ctx.selfId, text: JSON.stringify(data) }))
    return route
  }
}
