import { expect } from 'vitest'
import * as encoding from 'lib0/encoding'
import { NODE_MESSAGE_VERSION } from '../../src/wire/node-messages'
import { WireError } from '../../src/wire/errors'
import type { WireErrorCode } from '../../src/wire/errors'
import type { Message } from '../../src/raft/types'

/** Require `caught` to be a WireError with `code` (and a reason matching `reason`). */
function checkWireError(caught: unknown, code: WireErrorCode, reason?: RegExp): WireError {
  expect(caught, 'expected a WireError').toBeInstanceOf(WireError)
  const err = caught as WireError
  expect(err.code).toBe(code)
  if (reason !== undefined) expect(err.reason).toMatch(reason)
  return err
}

/** Run `fn`, require it to throw a WireError with `code` (and a reason matching `reason`). */
export function expectWireError(fn: () => unknown, code: WireErrorCode = 'BAD_MESSAGE', reason?: RegExp): WireError {
  try {
    fn()
  } catch (err) {
    return checkWireError(err, code, reason)
  }
  return checkWireError(undefined, code, reason)
}

export async function expectWireErrorAsync(fn: () => Promise<unknown>, code: WireErrorCode, reason?: RegExp): Promise<WireError> {
  try {
    await fn()
  } catch (err) {
    return checkWireError(err, code, reason)
  }
  return checkWireError(undefined, code, reason)
}

/** A message with every optional field empty. */
export function msg(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    from: 'm1',
    to: 'm2',
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: null,
    snapshot: null,
    ...fields,
  }
}

export const bytes = (...b: number[]) => new Uint8Array(b)

/** A `forwards` frame (tag 7) as an attacker writes it: none of the encoder's checks. */
export function rawForwards(commands: Uint8Array[]): Uint8Array {
  return encoding.encode((enc) => {
    encoding.writeVarUint(enc, NODE_MESSAGE_VERSION)
    encoding.writeVarUint(enc, 7)
    encoding.writeVarUint(enc, commands.length)
    for (const c of commands) encoding.writeVarUint8Array(enc, c)
  })
}
