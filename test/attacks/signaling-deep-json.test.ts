// Attack: one `signal` whose data is JSON nested ~4,500 deep (~9 KB). The hub
// re-serialised `data` with JSON.stringify, which overflowed the stack inside
// the socket handler: RangeError, the process exited, every room died.
// Now the hub measures the depth on the text (no recursion), refuses what is
// too deep, and relays the text it received instead of re-serialising it.
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../src/server/index'
import { signalingHarness } from './signaling-harness'

const { server, client } = signalingHarness()
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)

describe('attack: deeply nested signal data', () => {
  it('refuses data nested 4,500 deep with BAD_MESSAGE, and the server keeps relaying for everyone', async () => {
    const s = await server()
    const [attacker, victim, bystander] = [await client(s), await client(s), await client(s)]
    await attacker.join('r', 'attacker')
    await victim.join('r', 'victim')
    await bystander.join('r', 'bystander')
    attacker.send(`{"type":"signal","room":"r","to":"victim","data":${nested(4_500)}}`)
    expect(await attacker.next('error')).toMatchObject({ code: 'BAD_MESSAGE' })
    bystander.send({ type: 'signal', room: 'r', to: 'victim', data: { still: 'alive' } })
    expect(await victim.next('signal')).toEqual({ type: 'signal', room: 'r', from: 'bystander', data: { still: 'alive' } })
    await victim.sync()
    expect(victim.drain().filter((m) => m.type === 'signal')).toEqual([])
  })

  it('refuses every message nested deeper than maxJsonDepth, whatever field holds it', async () => {
    const s = await server()
    const a = await client(s)
    await a.join('r', 'a')
    for (const frame of [
      `{"type":"join","room":"r","peer":"a","junk":${nested(30_000)}}`,
      `${nested(DEFAULT_LIMITS.maxJsonDepth + 1)}`,
      `{"type":"signal","room":"r","to":"a","data":{"x":${nested(DEFAULT_LIMITS.maxJsonDepth)}}}`,
    ]) {
      a.send(frame)
      expect(await a.next('error')).toMatchObject({ code: 'BAD_MESSAGE' })
    }
  })

  it('relays the data text exactly as the sender wrote it (spliced, not re-serialised), up to maxJsonDepth', async () => {
    const s = await server()
    const [a, b] = [await client(s), await client(s)]
    await a.join('r', 'a')
    await b.join('r', 'b')
    const raw: string[] = []
    b.ws.on('message', (m) => raw.push(String(m)))
    const data = '{ "z" : [1, 2.50, "\\u00e9\\"}]"] ,"a":{"deep":' + nested(DEFAULT_LIMITS.maxJsonDepth - 3) + '} }'
    // a `from` of the sender's choosing and a first `data` that a later key overrides, as JSON.parse reads it
    a.send(`{"data":"first","type":"signal","from":"mallory","room":"r","to":"b","data":${data}}`)
    const got = await b.next('signal')
    expect(got.from).toBe('a')
    expect(got.data).toEqual(JSON.parse(data))
    expect(raw.at(-1)).toBe(`{"type":"signal","room":"r","from":"a","data":${data}}`)
  })
})
