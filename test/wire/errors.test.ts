// WireError codes are spelled like MeshError codes, so toMeshError maps them
// one to one (the app switches on one code union).
import { describe, expect, it } from 'vitest'
import { toMeshError } from '../../src/shared/errors'
import { WireError } from '../../src/wire/errors'
import type { WireErrorCode } from '../../src/wire/errors'

describe('WireError', () => {
  it('carries a code and a short reason', () => {
    const e = new WireError('BAD_MESSAGE', 'replay')
    expect(e).toBeInstanceOf(Error)
    expect(e.code).toBe('BAD_MESSAGE')
    expect(e.reason).toBe('replay')
    expect(e.message).toBe('BAD_MESSAGE: replay')
  })

  const sameName: WireErrorCode[] = ['BAD_MESSAGE', 'TOO_LARGE', 'UNAUTHORIZED']
  for (const code of sameName) {
    it(`${code} becomes MeshError ${code}`, () => {
      expect(toMeshError(new WireError(code, 'x')).code).toBe(code)
    })
  }

  // UNSUPPORTED_VERSION is not a MeshError code: to the app, a frame of a
  // protocol version we do not speak is a bad message.
  it('UNSUPPORTED_VERSION becomes MeshError BAD_MESSAGE', () => {
    // with a fallback that differs, so the mapping (not the default) decides
    expect(toMeshError(new WireError('UNSUPPORTED_VERSION', 'v9'), 'STORAGE').code).toBe('BAD_MESSAGE')
  })
})
