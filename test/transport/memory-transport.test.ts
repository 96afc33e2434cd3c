import { describe, expect, it } from 'vitest'
import { MemoryHub } from '../../src/transport/memory-transport'
import type { MemoryTransport } from '../../src/transport/memory-transport'
import type { Link, PeerHello } from '../../src/transport/types'
import { patterned, sameBytes } from './bytes'

const hello = (member: string): PeerHello => ({ member, tab: `tab-${member}`, browser: `browser-${member}` })

const linkTo = (t: MemoryTransport, peer: string): Promise<{ link: Link; hello: PeerHello }> =>
  new Promise((resolve) => {
    const off = t.onLink((link, h) => {
      if (link.peer !== peer) return
      off()
      resolve({ link, hello: h })
    })
  })

describe('MemoryTransport', () => {
  it('every member gets a link to every other, with its hello', async () => {
    const hub = new MemoryHub()
    const a = hub.connect(hello('a'))
    const ab = linkTo(a, 'b')
    const ac = linkTo(a, 'c')
    const b = hub.connect(hello('b'))
    const bc = linkTo(b, 'c')
    const c = hub.connect(hello('c'))
    expect((await ab).hello).toEqual(hello('b'))
    expect((await ac).hello).toEqual(hello('c'))
    await bc
    await new Promise((r) => setTimeout(r, 5))
    expect([...a.links().keys()].sort()).toEqual(['b', 'c'])
    expect([...b.links().keys()].sort()).toEqual(['a', 'c'])
    expect([...c.links().keys()].sort()).toEqual(['a', 'b'])
  })

  it('carries a 3 MiB message between two members', async () => {
    const hub = new MemoryHub()
    const a = hub.connect(hello('a'))
    const ab = linkTo(a, 'b')
    const b = hub.connect(hello('b'))
    const ba = linkTo(b, 'a')
    const [{ link: l1 }, { link: l2 }] = await Promise.all([ab, ba])
    const got = new Promise<Uint8Array>((resolve) => l2.onMessage(resolve))
    l1.send(patterned(3 * 1024 * 1024, 3))
    expect(sameBytes(await got, patterned(3 * 1024 * 1024, 3))).toBe(true)
  })

  it('closing a member closes its links in the others', async () => {
    const hub = new MemoryHub()
    const a = hub.connect(hello('a'))
    const ab = linkTo(a, 'b')
    const b = hub.connect(hello('b'))
    const { link } = await ab
    const closed = new Promise<string>((resolve) => link.onClose(resolve))
    await b.close()
    expect(await closed).toBe('closed by peer')
    expect(a.links().size).toBe(0)
    expect(hub.online()).toEqual(['a'])
  })

  it('a failed link is re-made and replaces the old one', async () => {
    const hub = new MemoryHub()
    const a = hub.connect(hello('a'))
    const ab = linkTo(a, 'b')
    hub.connect(hello('b'))
    const first = (await ab).link
    const second = linkTo(a, 'b')
    hub.fail('a', 'b')
    const again = (await second).link
    expect(first.open).toBe(false)
    expect(again.open).toBe(true)
    expect(a.links().get('b')).toBe(again)
  })
})
