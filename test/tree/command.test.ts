// The Command codec: round trips, and refusal of every kind of garbage with
// TreeError BAD_ARGUMENTS (never another exception).
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { COMMAND_FORMAT_VERSION, MAX_OPS_PER_TXN, decodeCommand, encodeCommand } from '../../src/tree/command'
import { TreeError } from '../../src/tree/errors'
import type { Command } from '../../src/tree/types'
import { arbCommand } from './arbitraries'
import { bytes, expectBadArguments } from './harness'

const samples: Command[] = [
  { type: 'open-session', session: 'tab-1', timeoutMs: 10_000, time: 1_700_000_000_000 },
  { type: 'close-session', session: 'tab-1', time: 5 },
  { type: 'expire-sessions', sessions: ['a', 'b'], time: 9 },
  { type: 'expire-sessions', sessions: [], time: 0 },
  {
    type: 'txn',
    session: 's',
    seq: 2 ** 40,
    ackedBelow: 17,
    multi: true,
    ops: [
      { op: 'create', path: '/q/', data: bytes('x'), mode: 'persistent-sequential' },
      { op: 'create', path: '/t', data: new Uint8Array(0), mode: 'ttl', ttlMs: 60_000 },
      { op: 'set', path: '/a', data: bytes('日本'), version: -1 },
      { op: 'delete', path: '/a', version: 2 ** 31 - 1 },
      { op: 'check', path: '/', version: 0 },
      { op: 'fence', path: '/lock-0000000001', token: 123_456 },
    ],
    time: 3,
  },
  { type: 'reap', nodes: [{ path: '/c', czxid: 4 }], time: 77 },
  { type: 'noop', time: 0 },
]

describe('command codec', () => {
  it('round-trips every command type', () => {
    for (const cmd of samples) expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd)
  })

  it('starts with the format version byte', () => {
    for (const cmd of samples) expect(encodeCommand(cmd)[0]).toBe(COMMAND_FORMAT_VERSION)
  })

  it('has a stable byte layout (a change here is a format change: bump COMMAND_FORMAT_VERSION)', () => {
    expect(Array.from(encodeCommand({ type: 'noop', time: 5 }))).toEqual([1, 5, 5])
    const txn: Command = { type: 'txn', session: 's', seq: 2, ackedBelow: 1, multi: false, ops: [{ op: 'check', path: '/a', version: -1 }], time: 7 }
    // version, tag, session "s", seq, ackedBelow, multi, op count, op tag, path "/a", version -1 (lib0 varint), time
    expect(Array.from(encodeCommand(txn))).toEqual([1, 3, 1, 0x73, 2, 1, 0, 1, 3, 2, 0x2f, 0x61, 0x41, 7])
  })

  it('refuses input that is not a Uint8Array', () => {
    expectBadArguments(() => decodeCommand([1, 5, 5] as unknown as Uint8Array))
    expectBadArguments(() => decodeCommand(null as unknown as Uint8Array))
  })

  it('round-trips random commands (property)', () => {
    fc.assert(
      fc.property(arbCommand, (cmd) => {
        const bytes1 = encodeCommand(cmd)
        const back = decodeCommand(bytes1)
        expect(back).toEqual(cmd)
        expect(encodeCommand(back)).toEqual(bytes1)
      }),
      { numRuns: 300 },
    )
  })

  it('copies data out of the entry bytes', () => {
    const enc = encodeCommand(samples[4]!)
    const cmd = decodeCommand(enc)
    enc.fill(0)
    expect(cmd.type === 'txn' && cmd.ops[0]?.op === 'create' && new TextDecoder().decode(cmd.ops[0].data)).toBe('x')
  })

  it('refuses an unknown version, an unknown type, truncation and trailing bytes', () => {
    const good = encodeCommand(samples[4]!)
    expectBadArguments(() => decodeCommand(new Uint8Array(0)))
    expectBadArguments(() => decodeCommand(Uint8Array.of(2, ...good.subarray(1))))
    expectBadArguments(() => decodeCommand(Uint8Array.of(COMMAND_FORMAT_VERSION, 99)))
    for (let cut = 0; cut < good.length; cut++) expectBadArguments(() => decodeCommand(good.subarray(0, cut)))
    expectBadArguments(() => decodeCommand(Uint8Array.of(...good, 0)))
  })

  it('refuses bad paths, session ids and out-of-range fields that a hand-made encoder could write', () => {
    const write = (f: (e: encoding.Encoder) => void): Uint8Array => {
      const e = encoding.createEncoder()
      encoding.writeUint8(e, COMMAND_FORMAT_VERSION)
      f(e)
      return encoding.toUint8Array(e)
    }
    const txnWith = (path: string, version = -1): Uint8Array =>
      write((e) => {
        encoding.writeUint8(e, 3) // txn
        encoding.writeVarString(e, 's')
        encoding.writeVarUint(e, 0)
        encoding.writeVarUint(e, 0)
        encoding.writeUint8(e, 0)
        encoding.writeVarUint(e, 1)
        encoding.writeUint8(e, 3) // check
        encoding.writeVarString(e, path)
        encoding.writeVarInt(e, version)
        encoding.writeVarUint(e, 0)
      })
    expect(decodeCommand(txnWith('/ok'))).toMatchObject({ type: 'txn' })
    expectBadArguments(() => decodeCommand(txnWith('relative')))
    expectBadArguments(() => decodeCommand(txnWith('/a/')))
    expectBadArguments(() => decodeCommand(txnWith('/a\u0000')))
    expectBadArguments(() => decodeCommand(txnWith('/ok', -2)))
    expectBadArguments(() => decodeCommand(txnWith('/ok', 2 ** 31)))
    const openWith = (session: string, timeout: number): Uint8Array =>
      write((e) => {
        encoding.writeUint8(e, 0)
        encoding.writeVarString(e, session)
        encoding.writeVarUint(e, timeout)
        encoding.writeVarUint(e, 0)
      })
    expect(decodeCommand(openWith('s', 1))).toMatchObject({ type: 'open-session' })
    expectBadArguments(() => decodeCommand(openWith('', 1)))
    expectBadArguments(() => decodeCommand(openWith('s', 0)))
    expectBadArguments(() => decodeCommand(openWith('s\u0001', 1)))
    expectBadArguments(() => decodeCommand(openWith('x'.repeat(257), 1)))
    // a count claiming more items than bytes left
    expectBadArguments(() =>
      decodeCommand(
        write((e) => {
          encoding.writeUint8(e, 2)
          encoding.writeVarUint(e, 60_000)
        }),
      ),
    )
    // invalid UTF-8
    expectBadArguments(() => decodeCommand(Uint8Array.of(COMMAND_FORMAT_VERSION, 1, 2, 0xc3, 0x28, 0)))
    // a non-multi txn must carry one op
    expectBadArguments(() =>
      decodeCommand(
        write((e) => {
          encoding.writeUint8(e, 3)
          encoding.writeVarString(e, 's')
          encoding.writeVarUint(e, 0)
          encoding.writeVarUint(e, 0)
          encoding.writeUint8(e, 0)
          encoding.writeVarUint(e, 0)
          encoding.writeVarUint(e, 0)
        }),
      ),
    )
  })

  it('refuses to encode a malformed command, so garbage never enters the log', () => {
    expectBadArguments(() => encodeCommand({ type: 'noop', time: -1 }))
    expectBadArguments(() => encodeCommand({ type: 'close-session', session: '', time: 0 }))
    expectBadArguments(() =>
      encodeCommand({ type: 'txn', session: 's', seq: 0, ackedBelow: 0, multi: true, ops: new Array(MAX_OPS_PER_TXN + 1).fill({ op: 'check', path: '/', version: -1 }), time: 0 }),
    )
    expectBadArguments(() => encodeCommand({ type: 'txn', session: 's', seq: 0.5, ackedBelow: 0, multi: false, ops: [{ op: 'check', path: '/', version: -1 }], time: 0 }))
  })

  it('random bytes never throw anything but BAD_ARGUMENTS (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        try {
          decodeCommand(raw)
        } catch (err) {
          return err instanceof TreeError && err.code === 'BAD_ARGUMENTS'
        }
        return true
      }),
      { numRuns: 2_000 },
    )
  })

  it('mutated valid encodings never throw anything but BAD_ARGUMENTS (fuzz)', () => {
    fc.assert(
      fc.property(arbCommand, fc.nat(), fc.integer({ min: 0, max: 255 }), (cmd, at, value) => {
        const enc = encodeCommand(cmd)
        enc[at % enc.length] = value
        try {
          const back = decodeCommand(enc)
          // whatever decodes must re-encode to the same bytes: one encoding per command
          expect(encodeCommand(back)).toEqual(enc)
        } catch (err) {
          if (!(err instanceof TreeError)) throw err
          expect(err.code).toBe('BAD_ARGUMENTS')
        }
      }),
      { numRuns: 1_000 },
    )
  })
})
