import { describe, expect, it } from 'vitest'
import { MeshError, toMeshError } from '../../src/shared/errors'
import { RaftError } from '../../src/raft/errors'
import { WireError } from '../../src/wire/errors'
import { StorageError } from '../../src/storage/errors'

describe('MeshError mapping', () => {
  it('keeps a MeshError as it is', () => {
    const e = new MeshError('NO_NODE', 'gone', { path: '/a' })
    expect(toMeshError(e)).toBe(e)
    expect(e).toBeInstanceOf(Error)
    expect(e).toMatchObject({ name: 'MeshError', code: 'NO_NODE', path: '/a' })
  })

  it('maps raft refusals to NO_QUORUM and keeps the cause', () => {
    const raft = new RaftError('NO_LEADER', 'no leader')
    const e = toMeshError(raft)
    expect(e.code).toBe('NO_QUORUM')
    expect(e.cause).toBe(raft)
    expect(toMeshError(new RaftError('TRANSFER_IN_PROGRESS')).code).toBe('NO_QUORUM')
  })

  it('maps wire errors to their same-named codes, and an unsupported version to BAD_MESSAGE', () => {
    expect(toMeshError(new WireError('UNAUTHORIZED', 'x')).code).toBe('UNAUTHORIZED')
    expect(toMeshError(new WireError('TOO_LARGE', 'x')).code).toBe('TOO_LARGE')
    expect(toMeshError(new WireError('UNSUPPORTED_VERSION', 'x')).code).toBe('BAD_MESSAGE')
  })

  it('does not repeat the code in the message of a wrapped error', () => {
    const wire = toMeshError(new WireError('BAD_MESSAGE', 'truncated'))
    expect(wire.message).toBe('truncated')
    // a different lower code says something the MeshError code does not
    expect(toMeshError(new WireError('UNSUPPORTED_VERSION', 'version 9')).message).toBe('UNSUPPORTED_VERSION: version 9')
    expect(toMeshError(new RaftError('NO_LEADER', 'no leader')).message).toBe('NO_LEADER: no leader')
    // a message that merely starts with another word keeps it
    expect(toMeshError(Object.assign(new Error('CLOSEDish'), { code: 'CLOSED' })).message).toBe('CLOSEDish')
  })

  it('maps a storage failure to STORAGE', () => {
    const err = new StorageError('QUOTA_EXCEEDED', 'room/m1', 'quota')
    expect(toMeshError(err).code).toBe('STORAGE')
    expect(toMeshError(err).message).toContain('QUOTA_EXCEEDED')
    expect(toMeshError(new Error('a platform error'), 'STORAGE').code).toBe('STORAGE')
  })

  it('carries the path and op index given', () => {
    const e = toMeshError(Object.assign(new Error('bad'), { code: 'BAD_VERSION', path: '/x' }), 'BAD_ARGUMENTS', { opIndex: 2 })
    expect(e).toMatchObject({ code: 'BAD_VERSION', path: '/x', opIndex: 2 })
  })
})
