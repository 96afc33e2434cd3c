// The remote address a socket's share is counted against (limits:
// maxSocketsPerAddress, maxRoomPeersPerAddress). An IPv6 host is usually given
// a whole /64, so the /64 is one address; an IPv4-mapped IPv6 address is its
// IPv4 address. Behind a reverse proxy every socket comes from the proxy:
// with `trustProxy` the address is the last hop the proxy appended to
// X-Forwarded-For (the only entry a client cannot write itself).
import { isIPv4, isIPv6 } from 'node:net'
import type { IncomingMessage } from 'node:http'

export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  let address = req.socket.remoteAddress ?? 'unknown'
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for']
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((h) => h.trim())
    const last = hops.at(-1)
    if (last !== undefined && last.length > 0) address = last
  }
  return shareKey(address)
}

/** The key one share is counted under: IPv4 as is, IPv6 by its /64. */
export function shareKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return mapped[1]!
  if (isIPv4(address) || !isIPv6(address)) return address
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const zeros = Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0')
  return [...left, ...(tail === undefined ? [] : zeros), ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
}
