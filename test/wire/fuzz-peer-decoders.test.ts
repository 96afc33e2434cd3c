// Invariant 6 across the team: the other decoders that read peer bytes (node
// messages, transport control frames, tree commands forwarded to a leader)
// fuzzed the same way as ours. Property: a decoder returns a value or throws
// an Error carrying a string `code` (a typed error the caller can drop and
// report), never a bare TypeError/RangeError; and what it accepts re-encodes
// to a value that decodes equal.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeNodeMessage, encodeNodeMessage } from '../../src/wire/node-messages'
import type { NodeMessage } from '../../src/wire/node-messages'
import { decodeControl, encodeControl } from '../../src/transport/control'
import type { ControlMessage } from '../../src/transport/control'
import { decodeCommand, encodeCommand } from '../../src/tree/command'
import type { Command } from '../../src/tree/types'
import { applyMutation, mutation } from './arbitraries'

function checkTyped<T>(bytes: Uint8Array, decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array): void {
  let value: T
  try {
    value = decode(bytes)
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (!(err instanceof Error) || typeof code !== 'string') throw new Error(`untyped error from a peer decoder: ${String(err)}`)
    return
  }
  expect(decode(encode(value))).toEqual(value)
}

const text = (s: string) => new TextEncoder().encode(s)

const nodeSeeds: NodeMessage[] = [
  { type: 'raft', bytes: new Uint8Array([1, 2, 3]) },
  { type: 'forward', command: new Uint8Array([1, 0, 5]) },
  { type: 'forwards', commands: [new Uint8Array([1, 0, 5]), new Uint8Array([2]), new Uint8Array([3, 4])] },
  { type: 'session-heartbeat', sessions: ['s1', 's2'] },
  { type: 'join', member: { member: 'm1', browser: 'b1', visible: true } },
  { type: 'leaving', member: 'm2' },
  { type: 'roster', members: [{ member: 'm1', browser: 'b1', visible: false }, { member: 'm2', browser: 'b2', visible: true }] },
]

const controlSeeds: ControlMessage[] = [
  { type: 'hello', hello: { member: 'm1', tab: 't1', browser: 'b1' }, key: { algorithm: 'Ed25519', publicKey: new Uint8Array(32).fill(3) }, challenge: new Uint8Array(32).fill(1) },
  { type: 'proof', signature: new Uint8Array(64).fill(2) },
  { type: 'peers', peers: ['m1/t1', 'm2/t2'] },
  { type: 'relay', to: 'm2/t2', from: 'm1/t1', text: '{"sdp":"v=0"}' },
]

const commandSeeds: Command[] = [
  { type: 'open-session', session: 's1', timeoutMs: 10_000, time: 1_700_000_000_000 },
  { type: 'close-session', session: 's1', time: 5 },
  { type: 'expire-sessions', sessions: ['s1', 's2'], time: 9 },
  { type: 'txn', session: 's1', seq: 3, ackedBelow: 2, multi: true, time: 7, ops: [
    { op: 'create', path: '/a', data: text('x'), mode: 'persistent' },
    { op: 'set', path: '/a', data: text('y'), version: 0 },
    { op: 'check', path: '/a', version: -1 },
    { op: 'delete', path: '/a', version: 1 },
  ] } as Command,
  { type: 'reap', nodes: [{ path: '/t', czxid: 4 }], time: 1 },
  { type: 'noop', time: 0 },
]

const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 })

function fuzz<T>(seeds: T[], decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, runs: number): void {
  const encodedSeeds = seeds.map(encode)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 48 }), (b) => checkTyped(b, decode, encode)), { numRuns: runs })
  fc.assert(
    fc.property(fc.constantFrom(...encodedSeeds), mutations, (seed, ms) => {
      let b = seed
      for (const mu of ms) if (b.length > 0) b = applyMutation(b, mu)
      checkTyped(b, decode, encode)
    }),
    { numRuns: runs },
  )
}

describe('fuzz: decoders of other layers that read peer bytes', () => {
  it('node messages (src/wire/node-messages.ts)', () => {
    for (const s of nodeSeeds) expect(decodeNodeMessage(encodeNodeMessage(s))).toEqual(s)
    fuzz(nodeSeeds, decodeNodeMessage, encodeNodeMessage, 3_000)
  })

  it('transport control frames (src/transport/control.ts)', () => {
    for (const s of controlSeeds) expect(decodeControl(encodeControl(s))).toEqual(s)
    fuzz(controlSeeds, decodeControl, encodeControl, 3_000)
  })

  it('tree commands forwarded to the leader (src/tree/command.ts)', () => {
    for (const s of commandSeeds) expect(decodeCommand(encodeCommand(s))).toEqual(s)
    fuzz(commandSeeds, decodeCommand, encodeCommand, 3_000)
  })
})
