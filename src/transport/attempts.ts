// Connection attempts: one WebRTC peer per try, its connect timeout, the
// backoff before the next try, and giving a peer up.
//
//  - every attempt has an id; signals of another attempt are ignored by the
//    initiator (a stale answer), and make the answering side start over (the
//    initiator restarted: answered, and ours dropped);
//  - an attempt that does not connect and verify its hello in
//    `connectTimeoutMs`, or whose link fails before that, fails: the peer is
//    tried again after an exponential backoff with jitter (the jitter is the
//    injected `random`, the timers the injected clock);
//  - attempts in flight are bounded (attempt-slots.ts): a peer that finds no
//    slot waits its turn, and every attempt's end hands its slot on;
//  - a peer that keeps failing is forgotten until it is announced again
//    (`giveUpAfterFailures`), and one only a neighbour vouches for after two
//    tries: made-up ids must not hold the table.
// A peer that fails its hello is not known to be who it claims: it is held
// to account only as a failed attempt here, never by the penalty of the id.
import { AttemptSlots } from './attempt-slots'
import type { Outcome } from './introductions'
import type { MeshContext } from './mesh-context'
import { MESH_DEFAULTS } from './mesh-options'
import { isVouched } from './peer-table'
import type { Attempt, Remote } from './peer-table'
import { randomHex } from './randomness'
import type { RandomBytes } from './randomness'

/** failed tries after which a peer only a neighbour vouches for is given up */
const UNVOUCHED_GIVE_UP = 1
/** bytes of an attempt id (24 hex characters) */
const ATTEMPT_ID_BYTES = 12

/** what a signal of ours to a peer carries (before sealing) */
// a type, not an interface: it must be assignable to SignalData's index signature
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type SignalPayload = { a: string; k: 'knock' | 'sdp'; s?: unknown }

/** what attempts need from the rest of the transport */
export interface AttemptHooks {
  /** try to reach r again (discovery.ts decides how: an attempt or a knock) */
  connect(r: Remote): void
  /** an introduced peer proved real, junk, or neither */
  settle(r: Remote, outcome: Outcome): void
  /** pass a signal to r, over whatever route reaches it */
  signal(r: Remote, payload: SignalPayload): Promise<void>
  /** the attempt's data channel is open: the hello exchange starts (link-opening.ts) */
  connected(r: Remote, attempt: Attempt): void
}

export class Attempts {
  readonly slots: AttemptSlots<Remote>

  constructor(
    private readonly ctx: MeshContext,
    private readonly hooks: AttemptHooks,
    private readonly random: () => number,
    private readonly randomBytes: RandomBytes,
  ) {
    const bounds = ctx.opts.bounds ?? {}
    this.slots = new AttemptSlots<Remote>({ max: bounds.attemptsInFlight, maxUnvouched: bounds.unvouchedAttemptsInFlight }, (r) => isVouched(r), (r) => r.failures)
  }

  /** we initiate to r: start now if a slot is free, else it waits its turn (ended() hands it back) */
  initiate(r: Remote): void {
    if (this.slots.take(r, true)) this.start(r, randomHex(this.randomBytes, ATTEMPT_ID_BYTES), true)
  }

  /** r (the initiator) offers attempt `id` that is not ours: answer it, dropping ours.
   *  Null when no slot is free (and none of ours to hand over): unanswered, the initiator tries again. */
  answer(r: Remote, id: string): Attempt | null {
    if (!this.slots.take(r, false, true)) return null
    const ours = r.attempt
    if (ours !== null) {
      r.attempt = null
      this.abandon(ours, 'superseded')
    }
    this.cancelRetry(r)
    return this.start(r, id, false)
  }

  private start(r: Remote, id: string, initiator: boolean): Attempt {
    const { opts, clock } = this.ctx
    const config: RTCConfiguration | undefined = opts.iceServers === undefined ? undefined : { iceServers: opts.iceServers }
    // a peer a same-browser channel announced is a tab of this browser: its pipe goes first (browser/piped-peer.ts)
    const sameBrowser = [...r.channels].some((c) => c.sameBrowser === true)
    const peer = opts.peerFactory({ initiator, ...(config === undefined ? {} : { config }), ...(sameBrowser ? { sameBrowser } : {}) })
    const attempt: Attempt = {
      id,
      initiator,
      peer,
      link: null,
      handshake: null,
      helloSent: Promise.resolve(),
      established: false,
      relays: new Set(),
      lost: false,
      knocks: 0,
      timer: clock.setTimeout(() => this.fail(r, attempt, 'connect timeout'), opts.connectTimeoutMs ?? MESH_DEFAULTS.connectTimeoutMs),
    }
    r.attempt = attempt
    peer.on('signal', (data: unknown) => {
      if (r.attempt === attempt) void this.hooks.signal(r, { a: id, k: 'sdp', s: data })
    })
    peer.on('error', () => {
      // the 'close' that follows reports it
    })
    peer.on('close', () => {
      if (attempt.link === null) this.fail(r, attempt, 'peer connection closed')
    })
    peer.on('connect', () => this.hooks.connected(r, attempt))
    return attempt
  }

  /** r's attempt (ours, not connected) cannot connect: the peer never got
   *  its signals, or dropped it (discovery.ts). A new one at once, in the
   *  same slot; no failure of the peer's, so no backoff */
  restart(r: Remote, reason: string): void {
    const old = r.attempt
    if (old === null) return
    r.attempt = null
    this.abandon(old, reason)
    this.cancelRetry(r)
    this.start(r, randomHex(this.randomBytes, ATTEMPT_ID_BYTES), true)
  }

  /** the attempt failed (timeout, closed, refused): tear it down and try again later */
  fail(r: Remote, attempt: Attempt, reason: string): void {
    this.ctx.clock.clearTimeout(attempt.timer)
    if (attempt.link?.open) attempt.link.close(reason)
    else attempt.peer.destroy()
    if (r.attempt !== attempt) return
    r.attempt = null
    r.failures++
    if (!this.ctx.closed) this.scheduleRetry(r)
    this.ended(r)
  }

  /** the attempt linked: the peer is real, its slot frees */
  linked(r: Remote, attempt: Attempt): void {
    this.ctx.clock.clearTimeout(attempt.timer)
    r.attempt = null
    r.failures = 0
    this.cancelRetry(r)
    r.linkedOnce = true
    this.hooks.settle(r, 'real')
    this.ended(r)
  }

  /** r's attempt is over (or r is forgotten): its slot goes to the next peer waiting */
  private ended(r: Remote): void {
    this.slots.release(r)
    if (this.ctx.closed) return
    for (let next = this.slots.next(); next !== undefined; next = this.slots.next()) {
      if (this.ctx.table.holds(next)) this.hooks.connect(next)
    }
  }

  /** try r again after the backoff, or give it up when it failed too often */
  scheduleRetry(r: Remote): void {
    if (r.retry !== null || this.ctx.closed) return
    const opts = this.ctx.opts
    const giveUpAfterFailures = opts.giveUpAfterFailures ?? MESH_DEFAULTS.giveUpAfterFailures
    // a peer only a neighbour vouches for gets two tries: made-up ids must not hold the table
    const giveUpAfter = isVouched(r) ? giveUpAfterFailures : Math.min(UNVOUCHED_GIVE_UP, giveUpAfterFailures)
    if (r.link === null && r.failures > giveUpAfter) {
      // a peer that never answers (a crashed tab that said no goodbye): forget
      // it; if it is alive, its next announcement brings it back
      this.drop(r, 'unreachable')
      return
    }
    const base = opts.backoffBaseMs ?? MESH_DEFAULTS.backoffBaseMs
    const max = opts.backoffMaxMs ?? MESH_DEFAULTS.backoffMaxMs
    this.retryIn(r, Math.min(max, base * 2 ** Math.min(r.failures, 16)) * (0.5 + this.random() / 2))
  }

  /** connect to the peer again in `ms`, unless it was forgotten by then */
  retryIn(r: Remote, ms: number): void {
    r.retry = this.ctx.clock.setTimeout(() => {
      r.retry = null
      if (this.ctx.table.holds(r)) this.hooks.connect(r)
    }, ms)
  }

  cancelRetry(r: Remote): void {
    if (r.retry !== null) this.ctx.clock.clearTimeout(r.retry)
    r.retry = null
  }

  /** forget r: its retry, its attempt and its entry; never answering makes it junk for its introducer */
  drop(r: Remote, reason: string): void {
    this.cancelRetry(r)
    const attempt = r.attempt
    r.attempt = null
    if (attempt !== null) this.abandon(attempt, reason)
    this.ctx.table.delete(r.id)
    this.hooks.settle(r, reason === 'unreachable' ? 'junk' : 'neutral')
    this.ended(r)
  }

  /** stop an attempt that is no longer r's: its timer, and its link or bare peer */
  private abandon(attempt: Attempt, reason: string): void {
    this.ctx.clock.clearTimeout(attempt.timer)
    if (attempt.link !== null) attempt.link.close(reason)
    else attempt.peer.destroy()
  }
}
