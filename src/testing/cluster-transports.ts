// The transports of a simulated cluster, one per member tab, in one of two kinds:
//  - 'mesh' (the default): the real MeshTransport (src/transport), the one
//    every browser runs (invariant 7), over virtual WebRTC peers
//    (virtual-peer.ts) and a virtual signaling server (virtual-signaling.ts)
//    on the cluster's VirtualNetwork, with seeded member keys
//    (seeded-member-keys.ts) and seeded randomness: reconnects, backoff,
//    penalties, the hello/proof handshake and relay run under seeds, virtual
//    time and faults like everything else;
//  - 'virtual': the VirtualHub stand-in (virtual-transport.ts), a link to
//    every online member at once with no handshake. Kept because test/driver
//    and test/browser build members on VirtualHub directly, and as the
//    faster choice for apps that test only their coordination logic.
import * as prng from 'lib0/prng'
import { MeshTransport } from '../transport/mesh-transport'
import type { Link, PeerHello, Transport } from '../transport/types'
import type { Clock } from '../shared/clock'
import type { VirtualClock } from './virtual-time'
import type { VirtualNetwork } from './virtual-network'
import { VirtualHub } from './virtual-transport'
import { VirtualHosts } from './virtual-host'
import type { VirtualHost } from './virtual-host'
import { VirtualSignalingServer } from './virtual-signaling'
import { DEFAULT_PEER_TIMING, virtualPeerFactory } from './virtual-peer'
import type { VirtualPeerTiming } from './virtual-peer'
import { SeededKeyring } from './seeded-member-keys'

export type ClusterTransportKind = 'mesh' | 'virtual'

/**
 * MeshTransport's timing on virtual time. Its defaults are for people
 * waiting on real networks; here they are tuned so a failed attempt or a
 * closed link is made again within the member's failure timeouts:
 *  - connectTimeoutMs 5 s (default 20 s): an attempt that stalls (a
 *    partition) fails after the data channel's consent would have expired;
 *  - backoff 100 ms .. 2 s (default 250 ms .. 10 s): after a heal, links
 *    come back within about two seconds instead of ten, so a seed's healed
 *    minority rejoins on the time scale of an election, not of a penalty.
 */
export const SIMULATED_MESH_TIMING = { connectTimeoutMs: 5_000, backoffBaseMs: 100, backoffMaxMs: 2_000 } as const

export interface ClusterTransports {
  readonly kind: ClusterTransportKind
  /** a transport for a new tab of `hello.member` */
  open(hello: PeerHello, clock: Clock): Transport
  /** the tab crashed: it sends nothing more; its peers' channels stall, then close */
  crash(member: string): void
  /** the tab closed: its channels close at once, after what they carry */
  close(member: string): void
  /** the live tab transports, by member id */
  readonly online: ReadonlyMap<string, Transport>
}

export function clusterTransports(kind: ClusterTransportKind, network: VirtualNetwork<Uint8Array>, clock: VirtualClock, gen: prng.PRNG, room: string, peerTiming: VirtualPeerTiming = DEFAULT_PEER_TIMING): ClusterTransports {
  return kind === 'virtual' ? hubTransports(network) : meshTransports(network, clock, gen, room, peerTiming)
}

function hubTransports(network: VirtualNetwork<Uint8Array>): ClusterTransports {
  const hub = new VirtualHub(network)
  const online = new Map<string, Transport>()
  const down = (member: string): void => {
    online.delete(member)
    hub.disconnect(member)
  }
  return {
    kind: 'virtual',
    online,
    open(hello) {
      const t = hub.connect(hello)
      online.set(hello.member, t)
      return t
    },
    crash: down,
    close: down,
  }
}

function meshTransports(network: VirtualNetwork<Uint8Array>, clock: VirtualClock, gen: prng.PRNG, room: string, peerTiming: VirtualPeerTiming): ClusterTransports {
  const hosts = new VirtualHosts(network, clock)
  const server = new VirtualSignalingServer(hosts)
  const keyring = new SeededKeyring(prng.create(prng.uint32(gen, 0, 0xffffffff)))
  const tabs = new Map<string, { host: VirtualHost; transport: MeshTransport }>()
  const online = new Map<string, Transport>()
  const end = (member: string, crashed: boolean): void => {
    const tab = tabs.get(member)
    if (tab === undefined) return
    tabs.delete(member)
    online.delete(member)
    // a crashed tab goes silent first (the signaling server sees its socket close); a closed
    // one says goodbye on every channel first
    if (crashed) {
      tab.host.shutdown()
      server.disconnect(member)
    }
    void tab.transport.close()
    tab.host.shutdown()
  }
  return {
    kind: 'mesh',
    online,
    open(hello, tabClock) {
      end(hello.member, false)
      const host = hosts.host(hello.member)
      // drawn here, not by the caller: the 'virtual' kind draws nothing, so its seeds run as before
      const jitter = prng.create(prng.uint32(gen, 0, 0xffffffff))
      const bytes = prng.create(prng.uint32(gen, 0, 0xffffffff))
      const transport = new MeshTransport({
        self: hello,
        identity: keyring.keyFor(hello.member),
        keys: keyring,
        room,
        signaling: [server.channel(host)],
        peerFactory: virtualPeerFactory(host, peerTiming),
        clock: tabClock,
        random: () => prng.real53(jitter),
        randomBytes: (n) => prng.uint8Array(bytes, n),
        ...SIMULATED_MESH_TIMING,
      })
      tabs.set(hello.member, { host, transport })
      online.set(hello.member, transport)
      return transport
    },
    crash: (member) => end(member, true),
    close: (member) => end(member, false),
  }
}

/** every link of `transport`, once it has one to each of `members` */
export function linksTo(transport: Transport, members: readonly string[]): Link[] | null {
  const links = transport.links()
  return members.every((m) => links.get(m)?.open === true) ? members.map((m) => links.get(m)!) : null
}
