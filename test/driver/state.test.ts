import { describe, expect, it } from 'vitest'
import { ConnectionState } from '../../src/driver/state'

describe('connection state (Curator ConnectionState)', () => {
  it('connecting → connected → suspended → lost when the leader stays away past the session timeout', () => {
    const s = new ConnectionState()
    const seen: string[] = []
    s.onChange((v) => seen.push(v))
    s.update(false, 0, 1_000)
    expect(s.value).toBe('connecting')
    s.update(true, 10, 1_000)
    s.update(false, 100, 1_000)
    s.update(false, 1_099, 1_000)
    expect(s.value).toBe('suspended')
    s.update(false, 1_100, 1_000)
    expect(seen).toEqual(['connected', 'suspended', 'lost'])
  })

  it('a suspended member that finds its leader again is connected, and closed is final', () => {
    const s = new ConnectionState()
    s.update(true, 0, 1_000)
    s.update(false, 10, 1_000)
    s.update(true, 20, 1_000)
    expect(s.value).toBe('connected')
    s.lost()
    expect(s.value).toBe('lost')
    s.update(true, 30, 1_000)
    expect(s.value).toBe('connected')
    s.close()
    s.update(true, 40, 1_000)
    s.lost()
    expect(s.value).toBe('closed')
  })
})
