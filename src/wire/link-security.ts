// One link's security under a room secret, packaged for the transport: the
// membership proof handshake, the link binding, and sealing/opening frames
// in order. Built from membership-proof.ts, envelope.ts and replay.ts; use
// those directly for anything this does not fit.
//
// Lifecycle (both ends run the same code):
//   const sec = new LinkSecurity(key, self, counter, guard)
//   send sec.challenge to the peer (in the transport's hello)
//   on the peer's hello (peer id, peer challenge):
//       send await sec.prove(peer, peerChallenge)
//   on the peer's proof:
//       await sec.accept(proof)        // throws WireError UNAUTHORIZED → close the link
//   then for every message:
//       sec.seal(kind, body)           // frames come out of onFrame in call order
//       sec.open(frame)                // envelopes come out of onEnvelope in arrival order,
//                                      // bad frames out of onError (drop them, keep the link)
//
// Ordering: WebCrypto calls are asynchronous and may settle out of order;
// seal and open each run through a promise chain so frames leave, and opened
// messages are delivered, in the order of the calls. The link stays FIFO.
//
// `counter` and `guard` are shared by all links of one member in one tab:
// the counter so that (boot, counter) never repeats across links, the guard
// so that a peer's frame is accepted once whatever link it arrives on.
import { WireError } from './errors'
import type { Envelope } from './envelope'
import { openEnvelope, sealEnvelope } from './envelope'
import { createChallenge, linkBinding, proveMembership, verifyProof } from './membership-proof'
import type { ReplayGuard, SealCounter } from './replay'
import type { RoomKey } from './room-key'

/** Frames a peer may send before our side has verified its proof. */
export const MAX_EARLY_FRAMES = 256

export type LinkSecurityState = 'handshake' | 'open' | 'failed'

export class LinkSecurity {
  /** our challenge for this link: send it to the peer */
  readonly challenge: Uint8Array = createChallenge()
  private peer: string | null = null
  private peerChallenge: Uint8Array | null = null
  private binding: Uint8Array | null = null
  private stateNow: LinkSecurityState = 'handshake'
  private sendChain: Promise<void> = Promise.resolve()
  private receiveChain: Promise<void> = Promise.resolve()
  private early: Uint8Array[] = []

  /** each sealed frame, in the order seal() was called */
  onFrame: (frame: Uint8Array) => void = () => {
    // no handler until the owner assigns one
  }
  /** each opened envelope (plaintext body), in the order open() was called */
  onEnvelope: (env: Envelope) => void = () => {
    // no handler until the owner assigns one
  }
  /** a frame that did not open or was a replay: drop it, report it */
  onError: (err: WireError) => void = () => {
    // no handler until the owner assigns one: the bad frame is dropped either way
  }

  constructor(
    private readonly key: RoomKey,
    private readonly self: string,
    private readonly counter: SealCounter,
    private readonly guard: ReplayGuard,
  ) {}

  get state(): LinkSecurityState {
    return this.stateNow
  }

  /** Answer the peer's challenge: the proof to send it. */
  async prove(peer: string, peerChallenge: Uint8Array): Promise<Uint8Array> {
    if (this.peer !== null && this.peer !== peer) throw new WireError('UNAUTHORIZED', 'the peer changed its id during the handshake')
    this.peer = peer
    this.peerChallenge = peerChallenge.slice()
    return proveMembership(this.key, peerChallenge, this.self, peer)
  }

  /** Check the peer's proof for our challenge; afterwards the link is open.
   *  Call after prove() (which names the peer). Throws WireError UNAUTHORIZED. */
  async accept(proof: Uint8Array): Promise<void> {
    if (this.peer === null || this.peerChallenge === null) throw new WireError('UNAUTHORIZED', 'proof before the peer’s hello')
    try {
      await verifyProof(this.key, this.challenge, this.peer, this.self, proof)
    } catch (err) {
      this.stateNow = 'failed'
      this.early = []
      throw err
    }
    this.binding = linkBinding(this.challenge, this.peerChallenge)
    this.stateNow = 'open'
    const early = this.early
    this.early = []
    for (const frame of early) this.open(frame)
  }

  /** Seal `body` as a frame of `kind` (ENVELOPE_KIND or a node kind); it comes out of onFrame. */
  seal(kind: number, body: Uint8Array): void {
    const binding = this.requireOpen()
    const sealing = sealEnvelope(this.key, { kind, sender: this.self, body }, this.counter, binding)
    this.sendChain = this.sendChain.then(() =>
      sealing.then(
        (frame) => this.callSafely(() => this.onFrame(frame)),
        (err: unknown) => this.callSafely(() => this.onError(asWireError(err))),
      ),
    )
  }

  /** Open a frame from the peer; it comes out of onEnvelope, or onError. A
   *  frame whose sender is not the link's peer is an error too. Frames that
   *  arrive while our accept() is still verifying the peer's proof (the peer
   *  may already be open and sending) wait, up to MAX_EARLY_FRAMES. */
  open(frame: Uint8Array): void {
    if (this.stateNow === 'handshake') {
      if (this.early.length >= MAX_EARLY_FRAMES) this.onError(new WireError('TOO_LARGE', 'too many frames before the handshake completed'))
      else this.early.push(frame)
      return
    }
    if (this.binding === null) {
      this.onError(new WireError('UNAUTHORIZED', 'link failed its handshake'))
      return
    }
    // decrypt concurrently; the guard accepts each counter once whatever
    // order decryption finishes in, and the chain delivers in arrival order
    const opened = openEnvelope(this.key, frame, this.guard, this.binding)
    this.receiveChain = this.receiveChain.then(() =>
      opened.then(
        (env) =>
          this.callSafely(() => {
            if (env.sender !== this.peer) this.onError(new WireError('UNAUTHORIZED', `frame from ${env.sender} on the link of ${String(this.peer)}`))
            else this.onEnvelope(env)
          }),
        (err: unknown) => this.callSafely(() => this.onError(asWireError(err))),
      ),
    )
  }

  /** Resolves when every frame sealed or opened so far has come out. */
  async flush(): Promise<void> {
    await Promise.all([this.sendChain, this.receiveChain])
  }

  /** A callback above threw: by default rethrown on its own task, so the
   *  bug surfaces as an uncaught error instead of vanishing. */
  onCallbackError: (err: unknown) => void = (err) =>
    queueMicrotask(() => {
      throw err
    })

  /** Run a consumer callback without breaking the chain: if it throws, the
   *  next frames still come out. */
  private callSafely(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.onCallbackError(err)
    }
  }

  private requireOpen(): Uint8Array {
    if (this.binding === null) throw new WireError('UNAUTHORIZED', 'link not proven yet')
    return this.binding
  }
}

function asWireError(err: unknown): WireError {
  return err instanceof WireError ? err : new WireError('BAD_MESSAGE', 'malformed frame')
}
