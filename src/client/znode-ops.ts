// The app's znode arguments as the tree's ops, and the tree's answers as the
// public types (shared/api.md): data to bytes, paths checked, a missing
// version as "any", a multi's ops one by one. Bad input is a MeshError
// BAD_ARGUMENTS naming the path; everything else about a write is checked
// with the write, by the command encoder's rules (driver/requests.ts).
import { validatePath } from '../tree/paths'
import type { Stat as TreeStat, TxnOp, TxnResult } from '../tree/types'
import { MeshError, toMeshError } from '../shared/errors'
import type { Data, NodeData, Op, Stat } from '../shared/types'

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder()

export function toBytes(data: Data | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0)
  if (typeof data === 'string') return utf8.encode(data)
  // a copy: bytes the app changes after the call cannot change what a resend carries
  if (data instanceof Uint8Array) return data.slice()
  throw new MeshError('BAD_ARGUMENTS', 'data must be a string or a Uint8Array')
}

export function nodeData(data: Uint8Array, stat: Stat): NodeData {
  return {
    data,
    stat,
    text: () => utf8Decoder.decode(data),
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T is the caller's claim of the JSON's shape (NodeData.json<T>)
    json: <T = unknown>() => JSON.parse(utf8Decoder.decode(data)) as T,
  }
}

export type TxnOkResult = Extract<TxnResult, { ok: true }>['results'][number]

export function checkPath(path: string, sequential = false): void {
  if (typeof path !== 'string') throw new MeshError('BAD_ARGUMENTS', 'a path must be a string')
  try {
    validatePath(path, sequential)
  } catch (err) {
    throw toMeshError(err, 'BAD_ARGUMENTS', { path })
  }
}

/** -1 (any version) when none is given; the range is checked with the rest of the write (driver/requests.ts) */
export function versionOf(v: number | undefined): number {
  // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing -- v may come from untyped JavaScript: a null version must reach the range check, not become "any"
  return v === undefined ? -1 : v
}

export function toTxnOp(o: Op): TxnOp {
  switch (o.op) {
    case 'create':
      if (o.mode === 'ttl' || o.mode === 'ttl-sequential') throw new MeshError('BAD_ARGUMENTS', 'ttl modes need create() with ttlMs', { path: o.path })
      return { op: 'create', path: o.path, data: toBytes(o.data), mode: o.mode ?? 'persistent', ...(o.parents === undefined ? {} : { parents: o.parents }) }
    case 'set':
      return { op: 'set', path: o.path, data: toBytes(o.data), version: versionOf(o.version) }
    case 'delete':
      return { op: 'delete', path: o.path, version: versionOf(o.version) }
    case 'check':
      return { op: 'check', path: o.path, version: versionOf(o.version) }
    default:
      throw new MeshError('BAD_ARGUMENTS', `unknown op ${String((o as { op?: unknown }).op)}`)
  }
}

/** the tree's Stat is the public Stat (shared/api.md); copy so apps cannot mutate the tree */
export function publicStat(s: TreeStat): Stat {
  return { ...s }
}
