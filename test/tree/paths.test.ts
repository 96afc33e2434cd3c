import { describe, expect, it } from 'vitest'
import { TreeError } from '../../src/tree/errors'
import { MAX_PATH_LENGTH, validatePath } from '../../src/tree/paths'

const codeOf = (path: string, sequential = false): string => {
  try {
    validatePath(path, sequential)
    return 'OK'
  } catch (err) {
    expect(err).toBeInstanceOf(TreeError)
    return (err as TreeError).code
  }
}

describe('validatePath (ZooKeeper PathUtils.validatePath)', () => {
  it('accepts the root and absolute paths', () => {
    for (const p of ['/', '/a', '/a/b', '/a-b_c.d/e f', '/..a', '/a.', '/ünï/日本', '/a/.../b']) expect(codeOf(p), p).toBe('OK')
  })

  it('refuses empty, relative and trailing-slash paths', () => {
    for (const p of ['', 'a', 'a/b', '/a/', '//', '/a//b', '/.', '/..', '/a/./b', '/a/../b', '/a/.', '/a/..']) {
      expect(codeOf(p), p).toBe('BAD_ARGUMENTS')
    }
  })

  it('refuses control characters and the ranges ZooKeeper refuses', () => {
    for (const c of [0x0, 0x1, 0x1f, 0x7f, 0x85, 0x9f, 0xd800, 0xdfff, 0xe000, 0xf8ff, 0xfff0, 0xfffe, 0xffff]) {
      expect(codeOf('/a' + String.fromCharCode(c)), c.toString(16)).toBe('BAD_ARGUMENTS')
    }
    expect(codeOf('/a\u00a0b')).toBe('OK')
    expect(codeOf('/a\uf900')).toBe('OK')
  })

  it('lets a sequential create name a path ending in / (the counter is the whole name)', () => {
    expect(codeOf('/q/', true)).toBe('OK')
    expect(codeOf('/', true)).toBe('OK')
    expect(codeOf('/q/', false)).toBe('BAD_ARGUMENTS')
    expect(codeOf('/q//', true)).toBe('BAD_ARGUMENTS')
  })

  it('bounds the length', () => {
    expect(codeOf('/' + 'a'.repeat(MAX_PATH_LENGTH - 1))).toBe('OK')
    expect(codeOf('/' + 'a'.repeat(MAX_PATH_LENGTH))).toBe('BAD_ARGUMENTS')
  })

  it('names the path in the error', () => {
    try {
      validatePath('/a//b')
      expect.unreachable()
    } catch (err) {
      expect((err as TreeError).path).toBe('/a//b')
      expect((err as TreeError).message).toMatch(/empty segment/)
    }
  })
})
