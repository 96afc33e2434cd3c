// The handshake on a new link, before it is handed to the node (issue 13:
// ids that cannot be borrowed). Both ends run the same steps:
//   1. send HELLO: our PeerHello, our member key's public half and a fresh
//      challenge (sealed under the room key when the room has a secret);
//   2. on the peer's HELLO: its id must be the id its key derives
//      (src/wire/member-key.ts) and its (member, tab) the ones the link was
//      made for; answer with PROOF: our signature over both challenges, both
//      signaling ids, the room and the attempt (and, under a room secret, the
//      membership proof for its challenge, src/wire/membership-proof.ts);
//   3. on the peer's PROOF: check the membership proof, then the signature.
//      Only then is the peer's id verified and the link may be established.
// Every failure throws a TransportError (UNAUTHORIZED, or BAD_MESSAGE for a
// message out of order) and the caller closes the link. A peer that fails is
// not known to be who it claims: nothing may be held against the id it
// claimed (see penalties.ts and link-opening.ts).
import { WireError } from '../wire/errors'
import type { LinkSecurity } from '../wire/link-security'
import { webCryptoKeys } from '../wire/member-key'
import type { MemberKey, MemberKeyScheme, MemberPublicKey } from '../wire/member-key'
import { CHALLENGE_BYTES } from '../wire/membership-proof'
import { decodeControl, encodeControl } from './control'
import type { ControlMessage } from './control'
import { TransportError } from './errors'
import { platformRandomBytes } from './randomness'
import type { RandomBytes } from './randomness'
import type { SignalSealer } from './room-sealer'
import type { PeerHello } from './types'

const HELLO_CONTEXT = (from: string, to: string, attempt: string) => `hello:${from}->${to}:${attempt}`

export interface HelloHandshakeOptions {
  room: string
  self: PeerHello
  /** our signaling id and the peer's (`member/tab`) */
  selfId: string
  peerId: string
  /** the (member, tab) the link was made for: the hello must name them */
  peer: { member: string; tab: string }
  /** the attempt id both ends share */
  attempt: string
  identity: MemberKey
  /** under a room secret: the link's sealing (its challenge is the link's) and the hello's sealer */
  secured: { security: LinkSecurity; sealer: SignalSealer } | null
  /** the bytes of our challenge without a room secret (default crypto.getRandomValues; a simulator seeds it) */
  randomBytes?: RandomBytes
  /** how hellos are signed and checked (default webCryptoKeys; the simulator's are seeded) */
  keys?: MemberKeyScheme
}

export class HelloHandshake {
  /** our challenge on this link (the LinkSecurity's under a room secret, so frames bind to it) */
  readonly challenge: Uint8Array
  private peerHello: PeerHello | null = null
  private peerKey: MemberPublicKey | null = null
  private peerChallenge: Uint8Array | null = null

  private readonly keys: MemberKeyScheme

  constructor(private readonly o: HelloHandshakeOptions) {
    this.challenge = o.secured?.security.challenge ?? (o.randomBytes ?? platformRandomBytes)(CHALLENGE_BYTES)
    this.keys = o.keys ?? webCryptoKeys
  }

  /** the peer's hello, once read (its id verified only after acceptProof) */
  get hello(): PeerHello | null {
    return this.peerHello
  }

  /** Our HELLO, as control bytes to send first. */
  async helloBytes(): Promise<Uint8Array> {
    const { identity, self } = this.o
    const hello = encodeControl({ type: 'hello', hello: self, key: { algorithm: identity.algorithm, publicKey: identity.publicKey }, challenge: this.challenge })
    if (this.o.secured === null) return hello
    const sealed = await this.o.secured.sealer.seal(toBase64(hello), HELLO_CONTEXT(this.o.selfId, this.o.peerId, this.o.attempt))
    return encodeControl({ type: 'sealedHello', text: sealed })
  }

  /** Read the peer's first control message: its HELLO. Throws TransportError. */
  async readHello(msg: ControlMessage): Promise<PeerHello> {
    const who = this.o.peerId
    let inner: ControlMessage = msg
    if (this.o.secured !== null) {
      if (msg.type !== 'sealedHello') throw new TransportError('UNAUTHORIZED', `${who} sent no sealed hello`, this.o.peer.member)
      try {
        inner = decodeControl(fromBase64(await this.o.secured.sealer.open(msg.text, HELLO_CONTEXT(who, this.o.selfId, this.o.attempt))))
      } catch {
        throw new TransportError('UNAUTHORIZED', `${who} cannot prove the room secret`, this.o.peer.member)
      }
    }
    if (inner.type !== 'hello') throw new TransportError('BAD_MESSAGE', `${who} sent no hello`, this.o.peer.member)
    const { hello, key, challenge } = inner
    if (hello.member !== this.o.peer.member || hello.tab !== this.o.peer.tab) {
      throw new TransportError('BAD_MESSAGE', `hello from ${hello.member}/${hello.tab} on a link to ${who}`, this.o.peer.member)
    }
    // checked here as well as with the signature: a hello naming an id its key
    // does not own gets no signature of ours in answer
    if (this.keys.deriveId(key) !== hello.member) throw new TransportError('UNAUTHORIZED', `${who} shows a key that is not its id's`, this.o.peer.member)
    this.peerHello = hello
    this.peerKey = key
    this.peerChallenge = challenge
    return hello
  }

  /** Our PROOF for the peer's challenge, as control bytes (after readHello). */
  async proofBytes(): Promise<Uint8Array> {
    const peerChallenge = this.requirePeer().challenge
    const signature = await this.keys.sign(this.o.identity, {
      room: this.o.room,
      signer: this.o.selfId,
      signerBrowser: this.o.self.browser,
      verifier: this.o.peerId,
      attempt: this.o.attempt,
      signerChallenge: this.challenge,
      verifierChallenge: peerChallenge,
    })
    if (this.o.secured === null) return encodeControl({ type: 'proof', signature })
    const proof = await this.o.secured.security.prove(this.o.peer.member, peerChallenge)
    return encodeControl({ type: 'proof', proof, signature })
  }

  /** Check the peer's PROOF: membership (under a secret), then its signature.
   *  Throws TransportError UNAUTHORIZED; on return the peer's id is verified. */
  async acceptProof(msg: ControlMessage): Promise<PeerHello> {
    const who = this.o.peerId
    const peer = this.requirePeer()
    if (msg.type !== 'proof') throw new TransportError('UNAUTHORIZED', `${who} sent no proof`, this.o.peer.member)
    if (this.o.secured !== null) {
      try {
        if (msg.proof === undefined) throw new WireError('UNAUTHORIZED', 'no membership proof')
        await this.o.secured.security.accept(msg.proof)
      } catch {
        throw new TransportError('UNAUTHORIZED', `${who} cannot prove the room secret`, this.o.peer.member)
      }
    }
    try {
      await this.keys.verify(peer.hello.member, peer.key, msg.signature, {
        room: this.o.room,
        signer: who,
        signerBrowser: peer.hello.browser,
        verifier: this.o.selfId,
        attempt: this.o.attempt,
        signerChallenge: peer.challenge,
        verifierChallenge: this.challenge,
      })
    } catch (err) {
      throw new TransportError('UNAUTHORIZED', `${who} cannot prove it holds the key of ${peer.hello.member}: ${err instanceof WireError ? err.reason : String(err)}`, this.o.peer.member)
    }
    return peer.hello
  }

  private requirePeer(): { hello: PeerHello; key: MemberPublicKey; challenge: Uint8Array } {
    if (this.peerHello === null || this.peerKey === null || this.peerChallenge === null) throw new TransportError('BAD_MESSAGE', `proof before ${this.o.peerId}'s hello`, this.o.peer.member)
    return { hello: this.peerHello, key: this.peerKey, challenge: this.peerChallenge }
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text)
  return Uint8Array.from(s, (c) => c.charCodeAt(0))
}
