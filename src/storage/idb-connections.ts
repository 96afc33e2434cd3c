// DatabaseConnections: one open IndexedDB connection per database (a room's
// index, or a member slot's state: idb-schema.ts), shared by the storages
// using it and by listMembers, closed when its last user lets go.
//
// A connection's end that we did not choose fails every storage on it, for
// good: the browser closing it (idb `terminated`), another tab opening a newer
// schema (`blocking`: we close and give way), or another tab deleting the
// database. The node hears it through onFailure and stops voting rather than
// vouch for state it could not write.
import { openDB, type IDBPDatabase } from 'idb'
import { StorageError, reasonOfPlatformError, type StorageFailureReason } from './errors'
import { SCHEMA_VERSION, upgradeSchema, type MeshkeeperDb } from './idb-schema'

/** What a connection needs of a storage using it: to fail it. */
export interface ConnectionUser {
  /** `room/member`, for errors */
  readonly slotName: string
  fail(err: StorageError): unknown
}

/** One open connection to a database, shared by its storages. */
export interface Connection {
  db: IDBPDatabase<MeshkeeperDb>
  /** storages and listMembers calls using it; closed when this reaches zero */
  refs: number
  storages: Set<ConnectionUser>
  /** set once the connection is gone (closed by us or by the browser) */
  dead: boolean
  /** nobody uses it, and it closes when this timer fires unless taken again (release's lingerMs) */
  idle: ReturnType<typeof setTimeout> | null
  /** its open created the database (nothing in it) and no storage has used it
   *  yet: the first slot opened on it need not read it (takeCreated) */
  created: boolean
}

/** Whether `conn` was created empty by its open and is unused so far; it is
 *  used from now on. Only the slot's lock holder opens a slot's database
 *  (invariant 4), so nothing can have been written into it in between. */
export function takeCreated(conn: Connection): boolean {
  const created = conn.created
  conn.created = false
  return created
}

export class DatabaseConnections {
  /** database name -> connection being opened or open (per instance: no module state) */
  private readonly connections = new Map<string, Promise<Connection>>()

  constructor(private readonly blockedTimeoutMs: number) {}

  /** The database's connection, opened on first use; counts one more user. A
   *  connection that died (closed by its last user, or by the browser) while
   *  still in the map is replaced, never handed out. */
  async acquire(name: string): Promise<Connection> {
    for (;;) {
      let pending = this.connections.get(name)
      if (pending === undefined) {
        const opening = this.connect(name)
        pending = opening
        this.connections.set(name, opening)
        opening.catch(() => {
          if (this.connections.get(name) === opening) this.connections.delete(name)
        })
      }
      const conn = await pending
      if (!conn.dead) {
        conn.refs++
        if (conn.idle !== null) clearTimeout(conn.idle)
        conn.idle = null
        return conn
      }
      if (this.connections.get(name) === pending) this.connections.delete(name)
    }
  }

  /** One user fewer; the last closes the connection, at once or, with
   *  `lingerMs`, once nobody took it again for that long. */
  release(name: string, conn: Connection, lingerMs = 0): void {
    conn.refs--
    if (conn.refs > 0) return
    if (lingerMs > 0 && !conn.dead) {
      if (conn.idle !== null) clearTimeout(conn.idle)
      conn.idle = setTimeout(() => {
        conn.idle = null
        if (conn.refs === 0) this.close(name, conn)
      }, lingerMs)
      return
    }
    this.close(name, conn)
  }

  private close(name: string, conn: Connection): void {
    this.forget(name, conn)
    if (!conn.dead) {
      conn.dead = true
      conn.db.close()
    }
  }

  /** Drop a connection that is going away from the map (acquire would skip it anyway). */
  private forget(name: string, conn: Connection): void {
    const current = this.connections.get(name)
    if (current === undefined) return
    void current.then(
      (c) => {
        if (c === conn && this.connections.get(name) === current) this.connections.delete(name)
      },
      () => undefined,
    )
  }

  /** The connection's end, not chosen by us: every storage on it fails. */
  private lose(name: string, conn: Connection, reason: StorageFailureReason, message: string): void {
    if (conn.dead) return
    conn.dead = true
    if (conn.idle !== null) clearTimeout(conn.idle)
    conn.idle = null
    this.forget(name, conn)
    // giving way to another connection's upgrade or delete: close ours so it is not blocked
    if (reason === 'VERSION_CHANGE' || reason === 'CONNECTION_LOST') conn.db.close()
    for (const s of conn.storages) s.fail(new StorageError(reason, s.slotName, message))
  }

  private connect(name: string): Promise<Connection> {
    let conn: Connection | null = null
    let created = false
    let gaveUp = false
    let blockedTimer: ReturnType<typeof setTimeout> | undefined
    return new Promise<Connection>((resolve, reject) => {
      openDB<MeshkeeperDb>(name, SCHEMA_VERSION, {
        upgrade: (db, oldVersion) => {
          created = oldVersion === 0
          upgradeSchema(db, oldVersion)
        },
        blocked: () => {
          // older connections (another tab on an older schema) hold the
          // database; they close when they hear `blocking`. Wait, but not forever.
          blockedTimer ??= setTimeout(() => {
            gaveUp = true
            reject(new StorageError('BLOCKED', name, `other connections did not close within ${this.blockedTimeoutMs} ms`))
          }, this.blockedTimeoutMs)
        },
        blocking: (_current, next) => {
          if (conn === null) return
          // next === null: another tab deletes the database (e.g. a reset); give way too
          if (next === null) this.lose(name, conn, 'CONNECTION_LOST', 'the database is being deleted elsewhere')
          else this.lose(name, conn, 'VERSION_CHANGE', `schema version ${next} opened the database elsewhere`)
        },
        terminated: () => {
          if (conn !== null) this.lose(name, conn, 'CONNECTION_LOST', 'the browser closed the database connection')
        },
      }).then(
        (db) => {
          clearTimeout(blockedTimer)
          if (gaveUp) {
            db.close()
            return
          }
          conn = { db, refs: 0, storages: new Set(), dead: false, created, idle: null }
          resolve(conn)
        },
        (err: unknown) => {
          clearTimeout(blockedTimer)
          reject(err instanceof StorageError ? err : new StorageError(reasonOfPlatformError(err), name, 'opening the database failed', err))
        },
      )
    })
  }
}
