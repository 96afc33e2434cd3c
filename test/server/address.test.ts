// The key a socket's share is counted under (src/server/address.ts).
import type { IncomingMessage } from 'node:http'
import { expect, it } from 'vitest'
import { clientAddress, shareKey } from '../../src/server/address'

it('counts IPv4 as is, IPv4-mapped IPv6 as its IPv4, and IPv6 by its /64', () => {
  expect(shareKey('203.0.113.7')).toBe('203.0.113.7')
  expect(shareKey('::ffff:203.0.113.7')).toBe('203.0.113.7')
  expect(shareKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
  expect(shareKey('2001:0DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
  expect(shareKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
  expect(shareKey('::1')).toBe('0:0:0:0::/64')
})

it('reads the last X-Forwarded-For hop only when the proxy is trusted', () => {
  const req = { socket: { remoteAddress: '10.0.0.1' }, headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.4' } } as unknown as IncomingMessage
  expect(clientAddress(req, false)).toBe('10.0.0.1')
  expect(clientAddress(req, true)).toBe('198.51.100.4')
})
