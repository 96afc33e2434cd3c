// MeshError: the one error type an app sees (shared/api.md). Every layer below
// raises its own coded error (RaftError, TreeError, WireError, StorageError);
// `toMeshError` maps them here so an app switches on one `code` union.

/** Every code an app can see, once: the union type is derived from it. */
export const MESH_ERROR_CODES = [
  'NO_NODE',
  'NODE_EXISTS',
  'BAD_VERSION',
  'NOT_EMPTY',
  'NO_CHILDREN_FOR_EPHEMERALS',
  'BAD_ARGUMENTS',
  'TOO_LARGE',
  'SESSION_EXPIRED',
  'FENCED',
  'NO_QUORUM',
  'TIMEOUT',
  'UNAUTHORIZED',
  'BAD_MESSAGE',
  'STORAGE',
  'CLOSED',
  // a service the mesh needs cannot be reached (a signaling server: wrong or
  // unreachable URL); reported once per outage while it retries quietly
  'UNAVAILABLE',
] as const

export type MeshErrorCode = (typeof MESH_ERROR_CODES)[number]

const CODE_SET: ReadonlySet<string> = new Set<string>(MESH_ERROR_CODES)

export function isMeshErrorCode(code: unknown): code is MeshErrorCode {
  return typeof code === 'string' && CODE_SET.has(code)
}

export interface MeshErrorDetails {
  path?: string
  /** for multi: the index of the op that failed */
  opIndex?: number
  /** a write that may have committed (see MeshError.outcome) */
  outcome?: 'unknown'
  cause?: unknown
}

export class MeshError extends Error {
  readonly code: MeshErrorCode
  path?: string
  opIndex?: number
  /**
   * 'unknown' on a write that failed after it left this member (TIMEOUT,
   * SESSION_EXPIRED, STORAGE, CLOSED...): it may have committed anyway, as
   * with ZooKeeper's connection loss. Read before retrying. Absent when the
   * write is known not to have been applied.
   */
  outcome?: 'unknown'

  constructor(code: MeshErrorCode, message?: string, details: MeshErrorDetails = {}) {
    super(message ?? code, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'MeshError'
    this.code = code
    if (details.path !== undefined) this.path = details.path
    if (details.opIndex !== undefined) this.opIndex = details.opIndex
    if (details.outcome !== undefined) this.outcome = details.outcome
  }
}

/**
 * Codes of the lower layers that do not share a name with a MeshError code.
 * Codes that already are MeshError codes (the tree's NO_NODE, BAD_VERSION...,
 * storage's STORAGE, wire's BAD_MESSAGE) pass through unchanged.
 */
const LAYER_CODE_TO_MESH: Readonly<Record<string, MeshErrorCode>> = {
  // raft: a proposal the core cannot take
  NOT_LEADER: 'NO_QUORUM',
  NO_LEADER: 'NO_QUORUM',
  PROPOSAL_DROPPED: 'NO_QUORUM',
  DROPPED: 'NO_QUORUM',
  TRANSFER_IN_PROGRESS: 'NO_QUORUM',
  UNCOMMITTED_TOO_LARGE: 'TOO_LARGE',
  CONF_CHANGE_PENDING: 'NO_QUORUM',
  STOPPED: 'CLOSED',
  // tree
  BAD_PATH: 'BAD_ARGUMENTS',
  INVALID_PATH: 'BAD_ARGUMENTS',
  NO_SESSION: 'SESSION_EXPIRED',
  SESSION_CLOSED: 'SESSION_EXPIRED',
  DATA_TOO_LARGE: 'TOO_LARGE',
  INVALID_CONF_CHANGE: 'BAD_ARGUMENTS',
  BAD_CONF_CHANGE_ENCODING: 'BAD_MESSAGE',
  // wire
  TRUNCATED: 'BAD_MESSAGE',
  BAD_TAG: 'BAD_MESSAGE',
  BAD_VERSION_TAG: 'BAD_MESSAGE',
  OUT_OF_BOUNDS: 'BAD_MESSAGE',
  UNSUPPORTED_VERSION: 'BAD_MESSAGE',
  // storage
  QUOTA_EXCEEDED: 'STORAGE',
  STORAGE_FAILED: 'STORAGE',
}

/**
 * Map any thrown value to a MeshError. `fallback` is the code used when the
 * value carries no code we know (e.g. a platform error from IndexedDB inside
 * the storage layer is STORAGE, not BAD_ARGUMENTS).
 */
export function toMeshError(err: unknown, fallback: MeshErrorCode = 'BAD_ARGUMENTS', details: MeshErrorDetails = {}): MeshError {
  if (err instanceof MeshError) return err
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  const path = details.path ?? (typeof err === 'object' && err !== null ? pathOf(err) : undefined)
  let mapped: MeshErrorCode = fallback
  if (isMeshErrorCode(code)) mapped = code
  else if (typeof code === 'string' && LAYER_CODE_TO_MESH[code] !== undefined) mapped = LAYER_CODE_TO_MESH[code]
  const message = withoutCodePrefix(err instanceof Error ? err.message : String(err), mapped)
  const out: MeshErrorDetails = { cause: err }
  if (path !== undefined) out.path = path
  if (details.opIndex !== undefined) out.opIndex = details.opIndex
  return new MeshError(mapped, message, out)
}

/**
 * The lower layers' errors spell their code into the message (`BAD_MESSAGE:
 * truncated`) because they are read bare in logs; a MeshError carries `code`
 * beside a plain message, so the copy goes — otherwise a wrapped error reads
 * `BAD_MESSAGE: BAD_MESSAGE: …`. Only a prefix that repeats the MeshError's
 * code is taken off: `NO_LEADER: …` under NO_QUORUM says something and stays.
 */
function withoutCodePrefix(message: string, code: MeshErrorCode): string {
  if (!message.startsWith(`${code}: `)) return message
  return message.slice(code.length + 2)
}

function pathOf(err: object): string | undefined {
  const p = (err as { path?: unknown }).path
  return typeof p === 'string' ? p : undefined
}
