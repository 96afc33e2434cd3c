// The `forwards` node message (tag 7): a follower's writes of one turn in one
// frame. Its bounds are checked on decode (attacker-written) and on encode.
import { describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import { NODE_MESSAGE_LIMITS, NODE_MESSAGE_VERSION, decodeNodeMessage, encodeNodeMessage } from '../../src/wire/node-messages'
import { WireError } from '../../src/wire/errors'
import { rawForwards } from './helpers'


const refused = (bytes: Uint8Array): unknown => {
  try {
    decodeNodeMessage(bytes)
  } catch (err) {
    return err
  }
  return null
}

describe('node message forwards (tag 7)', () => {
  it('round-trips a batch, in order, under tag 7', () => {
    const commands = [Uint8Array.of(1), Uint8Array.of(2, 3), new Uint8Array(1000).fill(9)]
    const bytes = encodeNodeMessage({ type: 'forwards', commands })
    expect(bytes[1]).toBe(7)
    expect(decodeNodeMessage(bytes)).toEqual({ type: 'forwards', commands })
  })

  it('refuses (BAD_MESSAGE) a batch over maxBatchCommands, an empty or single batch, and one over maxBatchBytes', () => {
    const many = Array.from({ length: NODE_MESSAGE_LIMITS.maxBatchCommands + 1 }, () => Uint8Array.of(1))
    const big = new Uint8Array(NODE_MESSAGE_LIMITS.maxCommandBytes)
    const heavy = [big, big, Uint8Array.of(1)] // 8 MiB + 1
    for (const commands of [many, [], [Uint8Array.of(1)], heavy]) {
      const err = refused(rawForwards(commands))
      expect(err).toBeInstanceOf(WireError)
      expect((err as WireError).code).toBe('BAD_MESSAGE')
      // our own encoder never writes one either
      expect(() => encodeNodeMessage({ type: 'forwards', commands })).toThrow()
    }
    // the bounds themselves are accepted
    const full = Array.from({ length: NODE_MESSAGE_LIMITS.maxBatchCommands }, () => Uint8Array.of(1))
    expect(decodeNodeMessage(rawForwards(full))).toEqual({ type: 'forwards', commands: full })
    expect(decodeNodeMessage(rawForwards([big, big]))).toMatchObject({ type: 'forwards' })
  })

  it('refuses a count that announces more commands than the frame holds, before allocating', () => {
    const bytes = encoding.encode((enc) => {
      encoding.writeVarUint(enc, NODE_MESSAGE_VERSION)
      encoding.writeVarUint(enc, 7)
      encoding.writeVarUint(enc, 200)
      encoding.writeVarUint8Array(enc, Uint8Array.of(1))
    })
    expect((refused(bytes) as WireError).code).toBe('BAD_MESSAGE')
  })
})
