// Waiting on a transport's links in tests.
import type { Link, PeerHello, Transport } from '../../src/transport/types'

/** the next link to `peer` the transport announces */
export function nextLink(t: Transport, peer: string): Promise<{ link: Link; hello: PeerHello }> {
  return new Promise((resolve) => {
    const off = t.onLink((link, hello) => {
      if (link.peer !== peer) return
      off()
      resolve({ link, hello })
    })
  })
}

/** the next message on `link` */
export function nextMessage(link: Link): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const off = link.onMessage((m) => {
      off()
      resolve(m)
    })
  })
}
