import { describe, expect, it } from 'vitest'
import { Network, text } from './network'

describe('smoke', () => {
  it('elects and replicates in a 3-member cluster', () => {
    const net = Network.cluster(['1', '2', '3'])
    net.stabilize()
    net.elect('1')
    expect(net.leader()).toBe('1')
    net.node('1').propose(text('x'))
    net.stabilize()
    for (const id of ['1', '2', '3']) expect(net.appliedData(id)).toEqual(['x'])
  })
})
