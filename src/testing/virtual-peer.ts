// A virtual WebRTC peer: the PeerLike that MeshTransport drives
// (src/transport/simple-peer-port.ts), over a VirtualHost on virtual time, so
// the real transport (signaling, attempts, hello/proof, relay, backoff,
// penalties) runs in the simulator (invariant 7: one code path).
//
// What it models, and why:
//  - signals are data: the initiator emits an offer and a candidate, the
//    answerer an answer and a candidate; a candidate names the peer's host
//    and endpoint. Nothing connects until each side has the other's candidate;
//  - connectivity checks (ICE) are unreliable packets, sent until one is
//    answered; the channel opens on the first answer (or on the first data);
//  - the data channel is SCTP: reliable and ORDERED (the network's streams),
//    never a lost or reordered single message. A partition stalls it;
//  - consent freshness: a check goes out whenever the channel was idle for
//    `consentIntervalMs`; when nothing was heard from the peer for
//    `consentTimeoutMs` the channel fails and closes ('error', then 'close'):
//    a partitioned or crashed peer's channel stalls, then closes. An attempt
//    whose checks are never answered fails the same way (ICE failed);
//  - destroy() closes the channel after what it already carries (the peer
//    sees 'close' once the data before it arrived): a closed tab closes its
//    channels at once. A crashed tab (host shut down) sends nothing more.
import type { PeerFactory, PeerFactoryOptions, PeerLike } from '../transport/simple-peer-port'
import type { PacketKind, PacketReceiver, VirtualHost } from './virtual-host'
import { PacketKind as Kind } from './virtual-host'
import type { TimerId } from './virtual-time'

export interface VirtualPeerTiming {
  /** a check goes out after this long without sending (default 1 s) */
  consentIntervalMs: number
  /** nothing heard from the peer for this long: the channel fails (default 5 s) */
  consentTimeoutMs: number
}

export const DEFAULT_PEER_TIMING: VirtualPeerTiming = { consentIntervalMs: 1_000, consentTimeoutMs: 5_000 }

type PeerEvent = 'signal' | 'connect' | 'data' | 'drain' | 'close' | 'error'

/** PeerFactory for MeshTransport: virtual peers on `host`. */
export function virtualPeerFactory(host: VirtualHost, timing: VirtualPeerTiming = DEFAULT_PEER_TIMING): PeerFactory {
  return (opts: PeerFactoryOptions) => new VirtualPeer(host, opts.initiator, timing)
}

export class VirtualPeer implements PeerLike, PacketReceiver {
  readonly endpoint: number
  private state: 'new' | 'checking' | 'open' | 'closed' = 'new'
  private remote: { member: string; endpoint: number } | null = null
  private described = false
  private lastHeard = 0
  private lastSent = 0
  private timer: TimerId | null = null
  private readonly listeners = new Map<PeerEvent, ((...args: never[]) => void)[]>()

  constructor(
    private readonly host: VirtualHost,
    readonly initiator: boolean,
    private readonly timing: VirtualPeerTiming,
  ) {
    this.endpoint = host.world.nextEndpoint()
    host.attach(this.endpoint, this)
    // as simple-peer: the offer comes after the caller attached its listeners
    if (initiator) this.later(() => this.describe('offer'))
  }

  get open(): boolean {
    return this.state === 'open'
  }

  on(event: PeerEvent, fn: (...args: never[]) => void): unknown {
    const fns = this.listeners.get(event) ?? []
    fns.push(fn)
    this.listeners.set(event, fns)
    return this
  }

  signal(data: unknown): void {
    if (this.state === 'closed') return
    const s = data as { type?: unknown; sdp?: unknown; candidate?: { candidate?: unknown } }
    if (s.type === 'offer' || s.type === 'answer') {
      if ((s.type === 'offer') === this.initiator || typeof s.sdp !== 'string' || !s.sdp.startsWith('virtual')) throw new Error(`unexpected ${s.type}`)
      if (!this.initiator && !this.described) this.later(() => this.describe('answer'))
      return
    }
    if (s.type === 'candidate') {
      const remote = parseCandidate(s.candidate?.candidate)
      if (remote === null) throw new Error('malformed candidate')
      if (this.remote === null) {
        this.remote = remote
        this.startChecks()
      }
      return
    }
    throw new Error('unknown signal')
  }

  write(chunk: Uint8Array): boolean {
    if (this.state !== 'open' || this.remote === null) return true
    this.lastSent = this.host.clock.now()
    // a copy: the caller may reuse its buffer
    this.host.sendInOrder(this.remote.member, Kind.data, this.remote.endpoint, this.endpoint, chunk.slice(), () => this.state === 'open')
    return true
  }

  destroy(): void {
    if (this.state === 'closed') return
    const remote = this.remote
    const wasOpen = this.state === 'open'
    this.end()
    if (wasOpen && remote !== null) {
      // after everything the channel carries; kept through a stall only as long as the peer's consent lasts
      const until = this.host.clock.now() + this.timing.consentTimeoutMs
      this.host.sendInOrder(remote.member, Kind.close, remote.endpoint, this.endpoint, new Uint8Array(0), () => this.host.clock.now() < until)
    }
    this.later(() => this.emit('close'))
  }

  receive(kind: PacketKind, from: string, fromEndpoint: number, payload: Uint8Array): void {
    if (this.state === 'closed' || this.remote?.member !== from || fromEndpoint !== this.remote.endpoint) return
    this.lastHeard = this.host.clock.now()
    switch (kind) {
      case Kind.check:
        this.host.sendPacket(from, Kind.checkAnswer, fromEndpoint, this.endpoint)
        return
      case Kind.checkAnswer:
        if (this.state === 'checking') this.connect()
        return
      case Kind.data:
        // data proves the path as well as an answered check does
        if (this.state === 'checking') this.connect()
        this.emit('data', payload)
        return
      case Kind.close:
        this.end()
        this.emit('close')
        return
    }
  }

  private describe(type: 'offer' | 'answer'): void {
    if (this.state === 'closed' || this.described) return
    this.described = true
    this.emit('signal', { type, sdp: `virtual ${type}` })
    this.emit('signal', { type: 'candidate', candidate: { candidate: `virtual ${this.host.member} ${this.endpoint}`, sdpMLineIndex: 0, sdpMid: '0' } })
  }

  private startChecks(): void {
    if (this.state !== 'new') return
    this.state = 'checking'
    this.lastHeard = this.host.clock.now()
    this.check()
  }

  /** one tick of the checks: probe when idle, fail when the peer went quiet too long */
  private check(): void {
    this.timer = null
    // a crashed tab runs nothing: its channels neither probe nor fail (the peer's stall and close)
    if (this.state === 'closed' || this.remote === null || !this.host.isAlive) return
    const now = this.host.clock.now()
    if (now - this.lastHeard >= this.timing.consentTimeoutMs) {
      this.fail(this.state === 'open' ? 'consent expired' : 'ICE failed')
      return
    }
    if (this.state === 'checking' || now - this.lastSent >= this.timing.consentIntervalMs) {
      this.lastSent = now
      this.host.sendPacket(this.remote.member, Kind.check, this.remote.endpoint, this.endpoint)
    }
    this.timer = this.host.clock.setTimeout(() => this.check(), this.state === 'checking' ? this.timing.consentIntervalMs / 2 : this.timing.consentIntervalMs)
  }

  private connect(): void {
    this.state = 'open'
    this.emit('connect')
  }

  private fail(reason: string): void {
    this.end()
    this.emit('error', new Error(reason))
    this.emit('close')
  }

  private end(): void {
    this.state = 'closed'
    if (this.timer !== null) this.host.clock.clearTimeout(this.timer)
    this.timer = null
    this.host.detach(this.endpoint)
  }

  private later(fn: () => void): void {
    this.host.clock.setTimeout(fn, 0)
  }

  private emit(event: PeerEvent, ...args: unknown[]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) (fn as (...a: unknown[]) => void)(...args)
  }
}

function parseCandidate(text: unknown): { member: string; endpoint: number } | null {
  if (typeof text !== 'string') return null
  const parts = text.split(' ')
  const endpoint = Number(parts[2])
  if (parts.length !== 3 || parts[0] !== 'virtual' || parts[1] === '' || !Number.isSafeInteger(endpoint) || endpoint <= 0) return null
  return { member: parts[1]!, endpoint }
}
