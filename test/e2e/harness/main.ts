// The page e2e tests load: it runs one MeshTransport (browser WebRTC through
// simple-peer's prebuilt bundle, BroadcastChannel signaling) and exposes a
// small API on `window.harness` for Playwright to drive.
import { BroadcastChannelSignaling } from '../../../src/transport/broadcast-channel-signaling'
import { MeshTransport } from '../../../src/transport/mesh-transport'
import { browserPeerFactory } from '../../../src/transport/simple-peer-browser'
import type { PeerFactory } from '../../../src/transport/simple-peer-port'
import type { Link } from '../../../src/transport/types'
import type { SignalingChannel } from '../../../src/transport/signaling'
import { websocketSignaling } from '../../../src/transport/websocket-signaling'
import { deriveRoomKey } from '../../../src/wire/room-key'
import { fixedMemberKey } from '../../transport/identities'

interface Received {
  from: string
  length: number
  /** a cheap checksum the test recomputes for the bytes it asked to send */
  sum: number
}

const received: Received[] = []
const closedLinks: Array<{ peer: string; reason: string }> = []
const errors: string[] = []
/** links handed out by the transport, per peer (a re-made link counts again) */
const linksSeen: Record<string, number> = {}
const ACK_ABOVE_BYTES = 1024 * 1024
let transport: MeshTransport | null = null
/** member ids are keys' ids: the tests name members ('a', 'b', ...), each
 *  name's key is fixed (fixedMemberKey), so every page maps names and ids alike */
const NAMES = 'abcdefgh'
const idOfName = new Map<string, string>()
const nameOfId = new Map<string, string>()
const nameOf = (id: string): string => nameOfId.get(id) ?? id

/** the bytes `send` makes for (size, seed): the test knows them without moving them */
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}

function checksum(bytes: Uint8Array): number {
  let h = 2166136261
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619) >>> 0
  return h
}

/** which channel frames went out on, over every peer this tab made: the
 *  mesh channel (and how often it asked the link to wait) or simple-peer's stream */
const paths = { peers: 0, withMeshChannel: 0, paced: 0, streamWrites: 0, channelWrites: 0, channelWaits: 0 }

/** set by start({ path: 'stream' }): frames go over simple-peer's stream as
 *  before the mesh channel (the figures compare the two) */
let streamOnly = false

/** browserPeerFactory, counting writes on both channels of each peer */
const countingPeerFactory: PeerFactory = (opts) => {
  const made = browserPeerFactory(opts)
  const peer: typeof made = streamOnly ? Object.assign(made, { meshChannel: undefined }) : made
  paths.peers++
  const streamWrite = peer.write.bind(peer)
  peer.write = (chunk) => {
    paths.streamWrites++
    return streamWrite(chunk)
  }
  const channel = peer.meshChannel
  if (channel !== undefined) {
    paths.withMeshChannel++
    if (channel.paced) paths.paced++
    const channelWrite = channel.write.bind(channel)
    channel.write = (frame) => {
      paths.channelWrites++
      const goOn = channelWrite(frame)
      if (!goOn) paths.channelWaits++
      return goOn
    }
  }
  return peer
}

/** the size of message `i` of a burst: mostly under one 16 KiB frame, every
 *  tenth one three frames long */
const burstSize = (i: number): number => (i % 10 === 0 ? 40_000 : ((i * 7919) % 2000) + 1)

let load: ReturnType<typeof setInterval> | null = null

function watch(link: Link): void {
  link.onMessage((bytes) => {
    // 0xEC-prefixed messages are echo requests for the round-trip figure
    if (bytes.length === 2 && bytes[0] === 0xec) {
      if (link.open) link.send(Uint8Array.of(0xed, bytes[1]!))
      return
    }
    // 0xEE alone acknowledges a large message we sent (transferTime listens
    // for it): not a message of the test's, so not counted as received — the
    // 3 MiB message's ack used to land here and race the exact-inbox check
    if (bytes.length === 1 && bytes[0] === 0xee) return
    received.push({ from: nameOf(link.peer), length: bytes.length, sum: checksum(bytes) })
    // large messages are acknowledged, for the transfer-time figure
    if (bytes.length >= ACK_ABOVE_BYTES && link.open) link.send(Uint8Array.of(0xee))
  })
  link.onClose((reason) => closedLinks.push({ peer: nameOf(link.peer), reason }))
}

function linkTo(peer: string): Link {
  const link = transport?.links().get(idOfName.get(peer) ?? peer)
  if (link === undefined) throw new Error(`no link to ${peer}`)
  return link
}

const harness = {
  /** `signal`: WebSocket signaling server URLs (else BroadcastChannel only);
   *  `secret`: the room secret; `frameBytes`: the links' frame size; `path`:
   *  'stream' sends and reads frames on simple-peer's stream only */
  async start(member: string, room: string, opts: { signal?: string[]; secret?: string; frameBytes?: number; path?: 'stream' } = {}): Promise<void> {
    streamOnly = opts.path === 'stream'
    const signaling: SignalingChannel[] = opts.signal === undefined ? [new BroadcastChannelSignaling()] : websocketSignaling(opts.signal, { onError: (code, message) => errors.push(`${code} ${message}`) })
    const roomKey = opts.secret === undefined ? undefined : await deriveRoomKey(opts.secret, room, { iterations: 100_000 })
    for (const name of [...NAMES, member]) {
      const id = (await fixedMemberKey(name)).id
      idOfName.set(name, id)
      nameOfId.set(id, name)
    }
    const identity = await fixedMemberKey(member)
    transport = new MeshTransport({
      self: { member: identity.id, tab: `t${member}`, browser: 'e2e' },
      identity,
      room,
      signaling,
      peerFactory: countingPeerFactory,
      ...(roomKey === undefined ? {} : { roomKey }),
      ...(opts.frameBytes === undefined ? {} : { link: { frameBytes: opts.frameBytes } }),
    })
    transport.onLink((link) => {
      linksSeen[nameOf(link.peer)] = (linksSeen[nameOf(link.peer)] ?? 0) + 1
      watch(link)
    })
    transport.onError((err) => errors.push(err.message))
  },
  peers(): string[] {
    return [...(transport?.links().keys() ?? [])].map(nameOf).sort()
  },
  send(peer: string, size: number, seed: number): number {
    const bytes = pattern(size, seed)
    linkTo(peer).send(bytes)
    return checksum(bytes)
  },
  /** `count` messages to `peer` at once (sizes: burstSize, bytes: pattern(size, seed + i)); their length and sum, in order */
  sendBurst(peer: string, count: number, seed: number): Array<{ length: number; sum: number }> {
    const link = linkTo(peer)
    const out: Array<{ length: number; sum: number }> = []
    for (let i = 0; i < count; i++) {
      const bytes = pattern(burstSize(i), seed + i)
      link.send(bytes)
      out.push({ length: bytes.length, sum: checksum(bytes) })
    }
    return out
  },
  paths(): typeof paths {
    return paths
  },
  /** setTimeout calls in this page so far (index.html counts them from before
   *  simple-peer's bundle loads: its nextTick shim keeps its own reference) */
  timeouts(): number {
    return (window as unknown as { setTimeoutCalls: number }).setTimeoutCalls
  },
  /** keep the main thread busy `busyMs` of every `everyMs` (or stop, with 0): a tab under load */
  load(busyMs: number, everyMs = 2 * busyMs): void {
    if (load !== null) clearInterval(load)
    load = null
    if (busyMs <= 0) return
    load = setInterval(() => {
      const until = performance.now() + busyMs
      while (performance.now() < until) {
        // busy
      }
    }, everyMs)
  },
  expectedSum(size: number, seed: number): number {
    return checksum(pattern(size, seed))
  },
  received(): Received[] {
    return received
  },
  closedLinks(): Array<{ peer: string; reason: string }> {
    return closedLinks
  },
  errors(): string[] {
    return errors
  },
  linksSeen(): Record<string, number> {
    return linksSeen
  },
  /** close our link to `peer` as a failure would; the transport re-makes it */
  breakLink(peer: string): void {
    linkTo(peer).close('simulated failure')
  },
  /** ms from sending `size` bytes to `peer` until its acknowledgement is back */
  async transferTime(peer: string, size: number): Promise<number> {
    const link = linkTo(peer)
    const bytes = pattern(size, 1)
    const t0 = performance.now()
    await new Promise<void>((resolve) => {
      const off = link.onMessage((m) => {
        if (m.length === 1 && m[0] === 0xee) {
          off()
          resolve()
        }
      })
      link.send(bytes)
    })
    return performance.now() - t0
  },
  /** round trips of a 2-byte message to `peer`, in ms */
  async roundTrips(peer: string, n: number): Promise<number[]> {
    const link = linkTo(peer)
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await new Promise<void>((resolve) => {
        const off = link.onMessage((m) => {
          if (m[0] === 0xed && m[1] === (i & 0xff)) {
            off()
            resolve()
          }
        })
        link.send(Uint8Array.of(0xec, i & 0xff))
      })
      out.push(performance.now() - t0)
    }
    return out
  },
  async stop(): Promise<void> {
    await transport?.close()
  },
}

declare global {
  interface Window {
    harness: typeof harness
  }
}
window.harness = harness
document.getElementById('log')!.textContent = 'harness ready'
