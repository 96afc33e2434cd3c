// scanJson: depth and top-level member spans of JSON text, without recursion.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { scanJson } from '../../src/transport/json-scan'

describe('scanJson', () => {
  it('measures nesting on the text; brackets inside strings do not count', () => {
    expect(scanJson('1', 32).depth).toBe(0)
    expect(scanJson('{}', 32).depth).toBe(1)
    expect(scanJson('{"a":[{"b":"[[[[\\"]]"}]}', 32).depth).toBe(3)
    expect(scanJson('['.repeat(1e6) + ']'.repeat(1e6), 32).depth).toBe(33)
  })

  it('finds each top-level member value as text (the last of a repeated key wins, as in JSON.parse)', () => {
    const text = ' { "a" : 1 , "b":{"x":[1,2]}, "c" : "q\\"," ,"a":null, "\\u0064":true } '
    const members = scanJson(text, 32).members
    const value = (k: string) => text.slice(members.get(k)!.start, members.get(k)!.end)
    expect([...members.keys()].sort()).toEqual(['a', 'b', 'c', 'd'])
    expect(value('a')).toBe('null')
    expect(value('b')).toBe('{"x":[1,2]}')
    expect(value('c')).toBe('"q\\","')
    expect(value('d')).toBe('true')
    expect(scanJson('[1,{"a":2}]', 32).members.size).toBe(0)
  })

  it('agrees with JSON.parse on every member of random objects', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), fc.boolean(), (obj, pretty) => {
        const text = JSON.stringify(obj, null, pretty ? 2 : undefined)
        const { members } = scanJson(text, 32)
        const parsed = JSON.parse(text) as Record<string, unknown>
        expect(members.size).toBe(Object.keys(parsed).length)
        for (const [k, span] of members) expect(JSON.parse(text.slice(span.start, span.end))).toEqual(parsed[k])
      }),
    )
  })
})
