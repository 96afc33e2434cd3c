// MeshTransports over stand-in WebRTC peers (fake-peers.ts) and an in-memory
// signaling hub, watched the way the attack tests need: every WebRTC peer a
// transport makes is counted, and so are the attempts in flight (peers made
// that neither connected nor closed yet), with the highest count seen.
import { MeshTransport } from '../../src/transport/mesh-transport'
import type { MeshTransportOptions } from '../../src/transport/mesh-transport'
import type { TransportError } from '../../src/transport/errors'
import type { FakePeer, FakePeerNet } from './fake-peers'
import { nextLink } from './links'
import type { MemorySignalingHub } from './memory-signaling'
import { namedKeys } from './identities'

/** a member id is the id of its key: the rig's members are named ('a', 'b',
 *  'c', 'm', 'n'), their ids in that order ('a' lowest, so it initiates; any
 *  made-up id starting after 'k' — 'x001', 'z' — is higher than all of them) */
const RIG_KEYS = await namedKeys('a', 'b', 'c', 'm', 'n')
type RigName = keyof typeof RIG_KEYS
/** the member id of a rig member's name */
export const id = (name: RigName): string => RIG_KEYS[name].id
/** its signaling id (`member/t`) */
export const sig = (name: RigName): string => `${id(name)}/t`

export interface WatchedTransport {
  t: MeshTransport
  /** WebRTC peers made, in total */
  peersMade: () => number
  /** peers made that have neither connected nor closed */
  inFlight: () => number
  /** the most attempts ever in flight at once */
  maxInFlight: () => number
  errors: TransportError[]
}

export class MeshRig {
  readonly open: MeshTransport[] = []

  constructor(
    readonly hub: MemorySignalingHub,
    readonly net: FakePeerNet,
  ) {}

  start(member: RigName, extra: Partial<MeshTransportOptions> = {}): WatchedTransport {
    let made = 0
    let settled = 0
    let max = 0
    const t = new MeshTransport({
      self: { member: id(member), tab: 't', browser: `b${member}` },
      identity: RIG_KEYS[member],
      room: 'room',
      signaling: [this.hub.channel()],
      peerFactory: (opts) => {
        const peer = this.net.factory(opts)
        made++
        max = Math.max(max, made - settled)
        let done = false
        const settle = () => {
          if (!done) settled++
          done = true
        }
        peer.on('connect', settle)
        peer.on('close', settle)
        return peer
      },
      backoffBaseMs: 20,
      backoffMaxMs: 100,
      ...extra,
    })
    this.open.push(t)
    const errors: TransportError[] = []
    t.onError((e) => errors.push(e))
    return { t, peersMade: () => made, inFlight: () => made - settled, maxInFlight: () => max, errors }
  }

  /** victim `a` linked with `m`; returns a and m's end of their data channel, to write what a hostile m would */
  async victimLinkedToAttacker(extra: Partial<MeshTransportOptions> = {}): Promise<{ a: WatchedTransport; mPeer: FakePeer }> {
    const a = this.start('a', extra)
    const m = this.start('m')
    await Promise.all([nextLink(a.t, id('m')), nextLink(m.t, id('a'))])
    // a (the lower id) initiated: m's end is the answering peer
    const mPeer = this.net.peers.find((p) => !p.initiator && !p.closed)!
    return { a, mPeer }
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((t) => t.close()))
  }
}

/** `p`, or a rejection naming `what` after `ms` (a deadline for a test that would otherwise hang, not a timing assertion) */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e instanceof Error ? e : new Error(String(e)))
      },
    )
  })
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
