import type { TreeErrorCode, TxnResult } from './types'

/** An error of the tree layer. `code` is ZooKeeper's error name; path and opIndex say where. */
export class TreeError extends Error {
  readonly code: TreeErrorCode
  readonly path?: string
  readonly opIndex?: number

  constructor(code: TreeErrorCode, message: string, path?: string, opIndex?: number) {
    super(message)
    this.name = 'TreeError'
    this.code = code
    if (path !== undefined) this.path = path
    if (opIndex !== undefined) this.opIndex = opIndex
  }

  /** the failed-txn result carrying this error */
  toResult(): TxnResult {
    const r: TxnResult = { ok: false, code: this.code, message: this.message }
    if (this.path !== undefined) r.path = this.path
    if (this.opIndex !== undefined) r.opIndex = this.opIndex
    return r
  }
}

export const badArguments = (message: string, path?: string): TreeError => new TreeError('BAD_ARGUMENTS', message, path)
