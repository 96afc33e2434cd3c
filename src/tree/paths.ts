import { TreeError } from './errors'

/**
 * Our bound on a path's length (UTF-16 code units). ZooKeeper has none but its
 * packet size; a bound keeps every decoded command and snapshot small.
 */
export const MAX_PATH_LENGTH = 4096

/**
 * Characters ZooKeeper refuses in a path (PathUtils.validatePath): NUL, the C0
 * and C1 control ranges, U+D800–U+F8FF (surrogates and private use) and
 * U+FFF0–U+FFFF.
 */
export const isInvalidChar = (c: number): boolean =>
  c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0

/** the reason `path` is not a valid znode path, or null */
export const pathProblem = (path: string): string | null => {
  if (typeof path !== 'string') return 'path must be a string'
  if (path.length === 0) return 'path must not be empty'
  if (path.length > MAX_PATH_LENGTH) return `path longer than ${MAX_PATH_LENGTH}`
  if (path.charCodeAt(0) !== 0x2f) return 'path must start with /'
  if (path.length === 1) return null
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'path must not end with /'
  // walk segment by segment: no empty, '.' or '..' segments, no invalid characters
  let segStart = 1
  for (let i = 1; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 0x2f
    if (c === 0x2f) {
      const len = i - segStart
      if (len === 0) return `empty segment at index ${i}`
      if (len === 1 && path.charCodeAt(segStart) === 0x2e) return `relative segment at index ${segStart}`
      if (len === 2 && path.charCodeAt(segStart) === 0x2e && path.charCodeAt(segStart + 1) === 0x2e) {
        return `relative segment at index ${segStart}`
      }
      segStart = i + 1
    } else if (isInvalidChar(c)) {
      return `invalid character U+${c.toString(16).padStart(4, '0')} at index ${i}`
    }
  }
  return null
}

/**
 * Throws TreeError BAD_ARGUMENTS unless `path` is a valid absolute znode path.
 * With `sequential`, the path may end with '/' (the counter becomes the whole
 * name), as ZooKeeper allows for sequential creates.
 */
export function validatePath(path: string, sequential = false): void {
  const problem = pathProblem(sequential && typeof path === 'string' ? path + '0' : path)
  if (problem !== null) throw new TreeError('BAD_ARGUMENTS', `bad path ${JSON.stringify(path)}: ${problem}`, path)
}

/** '/a/b' → '/a'; '/a' → '/'. Only for valid non-root paths. */
export const parentOf = (path: string): string => {
  const i = path.lastIndexOf('/')
  return i === 0 ? '/' : path.slice(0, i)
}

/** '/a/b' → 'b'. Only for valid non-root paths. */
export const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1)

/** '/' + 'b' → '/b'; '/a' + 'b' → '/a/b' */
export const joinPath = (parent: string, name: string): string => (parent === '/' ? '/' + name : parent + '/' + name)

/** ZooKeeper's sequential suffix: the counter as 10 zero-padded digits */
export const sequenceSuffix = (counter: number): string => String(counter).padStart(10, '0')
