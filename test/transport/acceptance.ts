// The Transport contract (src/transport/types.ts) as a suite every
// implementation runs: MemoryTransport and MeshTransport here; the
// simulator's VirtualTransport may run it too.
import { afterEach, describe, expect, it } from 'vitest'
import type { Transport } from '../../src/transport/types'
import { patterned, sameBytes } from './bytes'
import { nextLink, nextMessage } from './links'

export interface TransportFactory {
  /** bring member `name` ('a' or 'b') online in a fresh room shared by this test's members */
  start(name: string): Transport
  /** the member id of `name` (default: the name; a transport whose ids are keys' maps them) */
  idOf?(name: string): string
  /** a fresh room for the next test */
  reset(): void
}

export function transportAcceptance(name: string, make: () => TransportFactory): void {
  describe(`Transport contract: ${name}`, () => {
    const started: Transport[] = []
    let factory: TransportFactory
    const start = (member: string) => {
      const t = factory.start(member)
      started.push(t)
      return t
    }
    const id = (name: string) => factory.idOf?.(name) ?? name
    const pair = async () => {
      const a = start('a')
      const ab = nextLink(a, id('b'))
      const b = start('b')
      const ba = nextLink(b, id('a'))
      const [x, y] = await Promise.all([ab, ba])
      return { a, b, ab: x, ba: y }
    }
    afterEach(async () => {
      await Promise.all(started.splice(0).map((t) => t.close()))
      factory?.reset()
    })

    it('two members get one open link each, announced with the other’s hello', async () => {
      factory = make()
      const { a, b, ab, ba } = await pair()
      expect(ab.hello.member).toBe(id('b'))
      expect(ba.hello.member).toBe(id('a'))
      expect(ab.link.peer).toBe(id('b'))
      expect(ab.link.open && ba.link.open).toBe(true)
      expect([...a.links().keys()]).toEqual([id('b')])
      expect([...b.links().keys()]).toEqual([id('a')])
      expect(a.links().get(id('b'))).toBe(ab.link)
    })

    it('messages arrive whole and in order, both ways, up to a megabyte and empty', async () => {
      factory = make()
      const { ab, ba } = await pair()
      const sizes = [3, 0, 1024 * 1024, 17]
      const got: Uint8Array[] = []
      const all = new Promise<void>((resolve) =>
        ba.link.onMessage((m) => {
          got.push(m)
          if (got.length === sizes.length) resolve()
        }),
      )
      sizes.forEach((n, i) => ab.link.send(patterned(n, i)))
      await all
      got.forEach((m, i) => expect(sameBytes(m, patterned(sizes[i]!, i))).toBe(true))
      const back = nextMessage(ab.link)
      ba.link.send(Uint8Array.of(5))
      expect(await back).toEqual(Uint8Array.of(5))
    })

    it('closing a transport closes its links on both sides, once; send then throws CLOSED', async () => {
      factory = make()
      const { a, b, ab, ba } = await pair()
      let closes = 0
      const closed = new Promise<void>((resolve) =>
        ab.link.onClose(() => {
          closes++
          resolve()
        }),
      )
      await b.close()
      await closed
      expect(ba.link.open).toBe(false)
      expect(ab.link.open).toBe(false)
      expect(a.links().size).toBe(0)
      let code: unknown
      try {
        ab.link.send(Uint8Array.of(1))
      } catch (err) {
        code = (err as { code?: unknown }).code
      }
      expect(code).toBe('CLOSED')
      ab.link.close()
      expect(closes).toBe(1)
    })
  })
}
