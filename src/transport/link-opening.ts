// Opening a link on an attempt's connected data channel, and what its close
// means. Ids that cannot be borrowed (issue 13): a member id is derived from
// the member's key (src/wire/member-key.ts). On every new link, with or
// without a room secret, each side sends a HELLO with its public key and a
// fresh challenge, then a PROOF signing both challenges; the link is handed
// to the node only once the peer's id derives from its key and its signature
// verifies (hello-handshake.ts). A peer that fails is refused (UNAUTHORIZED)
// and, not being known to be who it claims, is held to account by its
// attempt only: it fails like an attempt that did not connect (backoff),
// never strikes the penalty of the id it claimed.
//
// Under a room key the HELLO is sealed (bound to both ends and the attempt),
// the PROOF also answers the peer's challenge with a membership proof
// (membership-proof.ts), and every message on the link is sealed (link.ts +
// LinkSecurity): bound to this link by both challenges, counted against
// replays.
//
// A new link to a member replaces the older one (closed as 'replaced') once
// the new one's hello is verified: an impostor replaces nothing. A verified
// peer whose link breaks the protocol (a frame we do not accept, a control
// message we do not speak) is refused for a while (penalties.ts); before its
// hello is verified the same faults only close the link and fail the attempt.
import { LinkSecurity } from '../wire/link-security'
import type { RoomKey } from '../wire/room-key'
import type { ReplayGuard, SealCounter } from '../wire/replay'
import type { Attempts } from './attempts'
import { decodeControl } from './control'
import type { ControlMessage } from './control'
import { HelloHandshake } from './hello-handshake'
import { FramedLink } from './link'
import type { MeshContext } from './mesh-context'
import type { Attempt, Remote } from './peer-table'
import type { RandomBytes } from './randomness'
import type { SignalSealer } from './room-sealer'
import { simplePeerPort } from './simple-peer-port'
import type { PeerHello } from './types'

/** the reason a link the node no longer wants is closed with (not retried from our side) */
export const UNWANTED = 'unwanted'

/** under a room key: the signal sealer, and one frame counter and one replay
 *  guard for all this member's links (a counter never repeats, a frame is taken once) */
export interface RoomSealing {
  sealer: SignalSealer
  key: RoomKey
  counter: SealCounter
  guard: ReplayGuard
}

export interface LinkOpeningHooks {
  /** a verified link is ready for the node */
  established(link: FramedLink, hello: PeerHello): void
  /** tell the neighbours whom we have links to now (relay.ts) */
  announce(): void
  /** a control message on an established link (relay.ts) */
  control(r: Remote, msg: ControlMessage): Promise<void>
  /** r's established link closed: what it was relaying is gone (discovery.ts, routeLost) */
  closed(r: Remote): void
}

export class LinkOpening {
  constructor(
    private readonly ctx: MeshContext,
    private readonly attempts: Attempts,
    private readonly sealing: RoomSealing | undefined,
    private readonly hooks: LinkOpeningHooks,
    /** the bytes of hello challenges (without a room secret; with one, LinkSecurity makes them) */
    private readonly randomBytes: RandomBytes,
  ) {}

  /** the attempt's data channel connected: frame it and start the hello exchange */
  open(r: Remote, attempt: Attempt): void {
    const { ctx, sealing } = this
    if (ctx.closed || r.attempt !== attempt) {
      attempt.peer.destroy()
      return
    }
    const security = sealing === undefined ? null : new LinkSecurity(sealing.key, ctx.self.member, sealing.counter, sealing.guard)
    const link = new FramedLink(r.member, simplePeerPort(attempt.peer), {
      ...ctx.opts.link,
      onError: (err) => {
        ctx.report(err, r.member)
        ctx.opts.link?.onError?.(err)
      },
      ...(security === null ? {} : { security }),
    })
    attempt.link = link
    attempt.handshake = new HelloHandshake({
      room: ctx.opts.room,
      self: ctx.self,
      selfId: ctx.selfId,
      peerId: r.id,
      peer: { member: r.member, tab: r.tab },
      attempt: attempt.id,
      identity: ctx.opts.identity,
      secured: security === null || sealing === undefined ? null : { security, sealer: sealing.sealer },
      randomBytes: this.randomBytes,
      ...(ctx.opts.keys === undefined ? {} : { keys: ctx.opts.keys }),
    })
    // one control message at a time: opening a sealed hello is asynchronous,
    // and what follows the hello must not be read as one
    let chain = Promise.resolve()
    link.onControl((bytes) => {
      chain = chain.then(() => this.onControl(r, attempt, link, bytes)).catch((err: unknown) => ctx.report(err, r.member))
    })
    link.onClose((reason) => this.onClosed(r, attempt, link, reason))
    attempt.helloSent = this.sendHello(r, attempt, attempt.handshake, link)
  }

  private async sendHello(r: Remote, attempt: Attempt, handshake: HelloHandshake, link: FramedLink): Promise<void> {
    try {
      const hello = await handshake.helloBytes()
      if (!link.open) return
      link.sendControl(hello)
      this.ctx.table.helloSent.add(link)
      if (attempt.established) this.hooks.announce()
    } catch (err) {
      this.ctx.report(err, r.member)
      link.close('hello failed')
    }
  }

  private async onControl(r: Remote, attempt: Attempt, link: FramedLink, bytes: Uint8Array): Promise<void> {
    const ctx = this.ctx
    let msg: ControlMessage
    try {
      msg = decodeControl(bytes)
    } catch (err) {
      ctx.report(err, r.member)
      // only a verified peer is held to its id; an unverified one fails its attempt
      if (attempt.established) ctx.refuse(r.member, 'bad control message')
      else link.close('bad control message')
      return
    }
    if (attempt.established) return this.hooks.control(r, msg)
    const handshake = attempt.handshake
    if (handshake === null) return
    try {
      if (handshake.hello === null) {
        // the first control message must be the hello (sealed when we have a
        // secret); answer it with our proof, after our own hello
        await handshake.readHello(msg)
        const proof = await handshake.proofBytes()
        await attempt.helloSent
        if (link.open && !ctx.closed) link.sendControl(proof)
        return
      }
      // the second is the peer's proof: its id is verified, or the link goes
      const hello = await handshake.acceptProof(msg)
      if (!link.open || ctx.closed) return
      this.establish(r, attempt, link, hello)
    } catch (err) {
      ctx.report(err, r.member)
      link.close('refused')
    }
  }

  private establish(r: Remote, attempt: Attempt, link: FramedLink, hello: PeerHello): void {
    const { table, penalties } = this.ctx
    // refused while the handshake ran
    if (penalties.remaining(r.member) > 0) {
      link.close('refused')
      return
    }
    attempt.established = true
    this.attempts.linked(r, attempt)
    const old = table.current.get(r.member)
    r.link = link
    table.current.set(r.member, link)
    // a newer link to the same member (a new tab of it, or a re-made link) wins
    if (old !== undefined && old !== link) old.close('replaced')
    for (const other of table.values()) {
      if (other !== r && other.member === r.member && other.link !== null && other.link !== link) other.link = null
    }
    this.hooks.established(link, hello)
    this.hooks.announce()
  }

  private onClosed(r: Remote, attempt: Attempt, link: FramedLink, reason: string): void {
    const { table, penalties } = this.ctx
    // a verified peer sent a frame we do not accept: not re-made until its
    // penalty ends (an unverified one only fails its attempt, below)
    if (link.fault !== null && attempt.established) penalties.strike(r.member)
    if (table.current.get(r.member) === link) table.current.delete(r.member)
    // what a newer link of this peer announced stays
    if (r.link === link || r.link === null) table.relayPeers.delete(r.id)
    if (r.link === link) r.link = null
    if (!attempt.established) {
      this.attempts.fail(r, attempt, reason)
      return
    }
    this.hooks.closed(r)
    // a link we closed because the node needs it no more is not made again
    // from our side (MeshTransport.setLinkPolicy); the peer remakes it if it
    // needs it, and the entry stays so the node can want it back
    if (reason === UNWANTED) this.hooks.announce()
    if (this.ctx.closed || reason === 'replaced' || reason === UNWANTED) return
    // the peer may be gone for good (its tab closed), or the link failed: try
    // again while some channel still knows the peer
    if (r.channels.size > 0 || table.reachableByRelay(r.id) !== null) this.attempts.scheduleRetry(r)
    else table.delete(r.id)
    this.hooks.announce()
  }
}
