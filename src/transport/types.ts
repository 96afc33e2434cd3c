// The Transport contract: how members exchange bytes. Implementations:
// WebRTC data channels (simple-peer) found through signaling, and the
// simulator's virtual network. The node above sees only Links.

/** A live, ordered, reliable, message-oriented channel to one peer. Messages
 *  of any size (the link chunks and reassembles). */
export interface Link {
  /** the peer's member id */
  readonly peer: string
  readonly open: boolean
  /** queue a message; throws MeshError CLOSED once the link is closed */
  send(bytes: Uint8Array): void
  /** each whole message, in order */
  onMessage(fn: (bytes: Uint8Array) => void): () => void
  /** fires once, when the link closes for any reason */
  onClose(fn: (reason: string) => void): () => void
  /** close the link; `reason` is what onClose listeners on this side receive */
  close(reason?: string): void
}

/** Peer information exchanged during discovery. */
export interface PeerHello {
  /** member id */
  member: string
  /** a per-tab id; two tabs may not run one member, so (member, tab) is unique */
  tab: string
  /** stable id of the browser profile (same IndexedDB), to spread voters across devices */
  browser: string
}

export interface Transport {
  readonly self: PeerHello
  /** a new link to a peer is open (it may replace an older one to the same peer) */
  onLink(fn: (link: Link, hello: PeerHello) => void): () => void
  /** links currently open, by peer member id */
  links(): Map<string, Link>
  /** stop discovery, close every link */
  close(): Promise<void>
  /** the node found the peer breaking the protocol (a message that does not
   *  decode, or is out of protocol): drop its links and refuse it for a while.
   *  Optional: a virtual network may have nothing to refuse. */
  refuse?(peer: string, reason: string): void
  /** a member left every signaling channel (false: its sockets closed, as a closed or crashed
   *  page's do at once) or is present again (true). A hint, not proof: optional, and a
   *  transport without signaling never calls it. */
  onPresence?(fn: (member: string, present: boolean) => void): () => void
  /** the node says which peers it needs a link to (src/driver/link-policy.ts),
   *  and calls this again whenever its answers may have changed. The
   *  transport makes and keeps links only to peers `wants` names, and still
   *  answers a peer that wants a link to us: a pair is linked when either
   *  side wants it. Until called, every peer is wanted. Optional: a
   *  transport may link everyone. */
  setLinkPolicy?(wants: (peer: string) => boolean): void
}

/** A link's close reason when the peer closed it (its page closed its connection, or its
 *  mesh closed): the one close that says the peer itself went, not the path to it. */
export const CLOSED_BY_PEER = 'closed by peer'

/** A channel's close reason from the last error it reported before closing. Chromium
 *  reports a peer's RTCPeerConnection.close() as the error "User-Initiated Abort,
 *  reason=Close called" just before the close (measured): that too is the peer's close. */
export function channelCloseReason(lastError: string | null): string {
  return lastError === null || lastError.includes('User-Initiated Abort') ? CLOSED_BY_PEER : `failed: ${lastError}`
}
