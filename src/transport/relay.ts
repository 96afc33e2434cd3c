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
import type { SignalData } from './signaling'

/** peers named in one 'peers' message */
const MAX_ANNOUNCED = 256

export interface RelayHooks {
  /** a neighbour (signaling id `via`) says it has a link to `id` */
  introduce(id: string, via: string): void
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
      ctx.table.relayPeers.set(r.id, new Set(msg.peers))
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

  /** pass `data` to r by one route (a duplicated offer would break the
   *  attempt): a connected channel, else a neighbour that can relay, else any channel */
  send(r: Remote, data: SignalData): void {
    const { table, selfId } = this.ctx
    const channels = [...r.channels]
    const live = channels.find((c) => c.connected)
    if (live !== undefined) {
      live.signal(r.id, data)
      return
    }
    const via = (r.relayVia !== null && table.get(r.relayVia)?.link?.open === true ? r.relayVia : null) ?? table.reachableByRelay(r.id)
    const viaLink = via === null ? undefined : table.get(via)?.link
    if (viaLink?.open) {
      viaLink.sendControl(encodeControl({ type: 'relay', to: r.id, from: selfId, text: JSON.stringify(data) }))
      return
    }
    channels[0]?.signal(r.id, data)
  }
}
