// The id of this browser profile, shared by all its tabs like its IndexedDB.
// Tabs tell by it which peers are tabs of their own browser: the ones whose
// deaths their Web Locks certify (death-watch.ts), whose links they watch at
// once, and with whom they rank after a death (driver/roster.ts).
//
// It must be one id, even when several tabs open at the same instant in a
// fresh profile. localStorage alone cannot promise that: each renderer reads
// its own copy and learns of another's write later, so two tabs opening
// together both found no id and each made its own (seen in Chromium: the
// tab with the odd id then counted its own browser's tabs as another
// device's). So the id is decided once in an IndexedDB read-write
// transaction (transactions on one store run one after the other, across
// tabs), and localStorage only caches the decided id: every later tab reads
// it there without opening a database.
import { wrap } from 'idb'
import { MEMBER_ID_PATTERN } from '../wire/limits'
import { randomId } from '../shared/random-id'

const CACHE_KEY = 'meshkeeper:browser'
const DB_NAME = 'meshkeeper-browser'
const STORE = 'browser'
const ID_KEY = 'id'

/**
 * The browser's id: the cached one if valid, else the one decided in
 * IndexedDB (made there by the first tab to ask). Without IndexedDB (a
 * sandboxed page) a tab falls back to localStorage alone, racy as above.
 */
export async function browserId(cache: Storage | null, idb: IDBFactory | null): Promise<string> {
  const cached = cache?.getItem(CACHE_KEY) ?? null
  if (cached !== null && MEMBER_ID_PATTERN.test(cached)) return cached
  // a database that will not open (storage blocked) leaves the racy fallback
  const id = idb === null ? randomId('b') : await decideInIndexedDb(idb).catch(() => randomId('b'))
  cache?.setItem(CACHE_KEY, id)
  return id
}

async function decideInIndexedDb(idb: IDBFactory): Promise<string> {
  const request = idb.open(DB_NAME, 1)
  request.onupgradeneeded = () => request.result.createObjectStore(STORE)
  const db = wrap(
    await new Promise<IDBDatabase>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'))
    }),
  )
  try {
    // one transaction: read, and write only if nothing valid is there
    const tx = db.transaction(STORE, 'readwrite')
    const known: unknown = await tx.store.get(ID_KEY)
    let id: string
    if (typeof known === 'string' && MEMBER_ID_PATTERN.test(known)) id = known
    else {
      id = randomId('b')
      await tx.store.put(id, ID_KEY)
    }
    await tx.done
    return id
  } finally {
    db.close()
  }
}
