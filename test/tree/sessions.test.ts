// Sessions, ephemerals and the exactly-once dedup table.
import { describe, expect, it } from 'vitest'
import { MAX_RESULTS_PER_SESSION } from '../../src/tree/dedup'
import { MAX_ENDED_SESSIONS } from '../../src/tree/znode'
import type { Command, TxnOp } from '../../src/tree/types'
import { ZTree } from '../../src/tree/ztree'
import { Harness, bytes } from './harness'

const createOp = (path: string, mode: 'persistent' | 'ephemeral' = 'persistent'): TxnOp => ({ op: 'create', path, data: bytes(''), mode })
const txn = (session: string, seq: number, ops: TxnOp[], ackedBelow = 0): Command => ({
  type: 'txn',
  session,
  seq,
  ackedBelow,
  multi: ops.length !== 1,
  ops,
  time: 7,
})

describe('sessions', () => {
  it('open-session registers the session with its timeout; re-opening renews the timeout only', () => {
    const h = new Harness()
    h.open('a', 5_000)
    h.create('a', '/e', '', 'ephemeral')
    expect(h.tree.sessions()).toEqual(['a'])
    h.open('a', 9_000)
    expect(h.tree.session('a')).toEqual({ id: 'a', timeoutMs: 9_000, ephemerals: ['/e'] })
  })

  it('a txn from a session that does not exist fails with SESSION_EXPIRED and changes nothing', () => {
    const h = new Harness()
    const out = h.apply(txn('ghost', 0, [createOp('/x')]))
    expect(out.result).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' })
    expect(h.tree.stat('/x')).toBeNull()
  })

  it('close-session deletes its ephemerals at once, in the same zxid, with events, and ends the session', () => {
    const h = new Harness()
    h.open('a')
    h.open('b')
    h.create('a', '/p')
    h.create('a', '/p/e1', '', 'ephemeral')
    h.create('a', '/e2', '', 'ephemeral')
    h.create('b', '/eb', '', 'ephemeral')
    const out = h.close('a')
    const z = h.zxid
    expect(out.result).toEqual({ ok: true, results: [] })
    expect(out.events).toEqual([
      { type: 'deleted', path: '/e2', zxid: z },
      { type: 'children', path: '/', zxid: z },
      { type: 'deleted', path: '/p/e1', zxid: z },
      { type: 'children', path: '/p', zxid: z },
    ])
    expect(h.tree.stat('/p')).toMatchObject({ pzxid: z, numChildren: 0 })
    expect(h.tree.stat('/eb')).not.toBeNull()
    expect(h.tree.sessions()).toEqual(['b'])
    expect(h.apply(txn('a', 99, [createOp('/late')])).result).toMatchObject({ code: 'SESSION_EXPIRED' })
  })

  it('expire-sessions ends several sessions atomically; unknown ones are ignored', () => {
    const h = new Harness()
    for (const s of ['a', 'b', 'c']) {
      h.open(s)
      h.create(s, `/${s}`, '', 'ephemeral')
    }
    const out = h.apply({ type: 'expire-sessions', sessions: ['c', 'zzz', 'a'], time: h.now })
    expect(out.events.filter((e) => e.type === 'deleted').map((e) => e.path)).toEqual(['/c', '/a'])
    expect(h.tree.sessions()).toEqual(['b'])
    expect(h.tree.children('/')).toEqual(['b'])
  })

  it('an ended session stays ended: a late copy of its open-session is refused (SESSION_EXPIRED), and writes under it too', () => {
    // a member resends its open-session to every new leader until it applies one; a copy still
    // in flight when the session expires must not bring it back, or a write the member gave up
    // on (its session expired) could still land under it
    for (const end of ['close', 'expire'] as const) {
      const h = new Harness()
      h.open('a')
      h.create('a', '/e', '', 'ephemeral')
      if (end === 'close') h.close('a')
      else h.apply({ type: 'expire-sessions', sessions: ['a'], time: h.now })
      const before = h.tree.digest()
      expect(h.open('a').result).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' })
      expect(h.tree.sessions()).toEqual([])
      expect(h.apply(txn('a', 5, [createOp('/late')])).result).toMatchObject({ code: 'SESSION_EXPIRED' })
      expect(h.tree.stat('/late')).toBeNull()
      // the refusal changes only lastZxid: the rest of the state is as before
      expect(ZTree.restore(h.tree.snapshot()).sessions()).toEqual([])
      expect(before).not.toBe(h.tree.digest())
    }
  })

  it(`remembers the last ${MAX_ENDED_SESSIONS} ended sessions, oldest forgotten first, and carries them in its snapshot`, () => {
    const h = new Harness()
    for (let i = 0; i <= MAX_ENDED_SESSIONS; i++) {
      h.open(`s${i}`)
      h.close(`s${i}`)
    }
    const restored = new Harness(ZTree.restore(h.tree.snapshot()))
    // s0 was the oldest: forgotten (an id is never reused by a live member, so this bounds memory only)
    expect(restored.open('s0').result).toEqual({ ok: true, results: [] })
    expect(restored.open('s1').result).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' })
    expect(restored.open(`s${MAX_ENDED_SESSIONS}`).result).toMatchObject({ ok: false, code: 'SESSION_EXPIRED' })
    expect(restored.tree.sessions()).toEqual(['s0'])
  })

  it('closing an unknown session is harmless', () => {
    const h = new Harness()
    expect(h.close('nobody')).toMatchObject({ result: { ok: true }, events: [] })
  })
})

describe('exactly-once (dedup table)', () => {
  it('a retried (session, seq) replays the original result with deduped: true and changes nothing', () => {
    const h = new Harness()
    h.open('a')
    const first = h.apply(txn('a', 0, [{ op: 'create', path: '/n-', data: bytes(''), mode: 'persistent-sequential' }]))
    expect(first.deduped).toBe(false)
    const digest = h.tree.children('/')
    const retry = h.apply(txn('a', 0, [{ op: 'create', path: '/n-', data: bytes(''), mode: 'persistent-sequential' }]))
    expect(retry).toEqual({ result: first.result, events: [], deduped: true })
    expect(h.tree.children('/')).toEqual(digest)
  })

  it('a failed txn is remembered too: its retry gets the same failure', () => {
    const h = new Harness()
    h.open('a')
    const first = h.apply(txn('a', 0, [{ op: 'delete', path: '/x', version: -1 }]))
    h.apply(txn('a', 1, [createOp('/x')]))
    const retry = h.apply(txn('a', 0, [{ op: 'delete', path: '/x', version: -1 }]))
    expect(retry.deduped).toBe(true)
    expect(retry.result).toEqual(first.result)
    expect(h.tree.stat('/x')).not.toBeNull()
  })

  it('seqs are per session', () => {
    const h = new Harness()
    h.open('a')
    h.open('b')
    h.apply(txn('a', 0, [createOp('/a')]))
    expect(h.apply(txn('b', 0, [createOp('/b')])).deduped).toBe(false)
    expect(h.tree.children('/')).toEqual(['a', 'b'])
  })

  it('ackedBelow lets the table forget; a later copy of an acknowledged seq is refused, never re-applied', () => {
    const h = new Harness()
    h.open('a')
    h.apply(txn('a', 0, [createOp('/x')]))
    h.apply(txn('a', 1, [{ op: 'delete', path: '/x', version: -1 }], 1))
    // seq 0 was acknowledged: a stray duplicate of it must not re-create /x
    const stray = h.apply(txn('a', 0, [createOp('/x')]))
    expect(stray.deduped).toBe(true)
    expect(stray.result).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' })
    expect(h.tree.stat('/x')).toBeNull()
    // seq 1 is still held: replayed
    expect(h.apply(txn('a', 1, [{ op: 'delete', path: '/x', version: -1 }], 1)).result).toEqual({ ok: true, results: [{ op: 'delete' }] })
  })

  it(`is bounded: at most ${MAX_RESULTS_PER_SESSION} results per session; the evicted oldest seq is refused, not re-applied`, () => {
    const h = new Harness()
    h.open('a')
    h.create('a', '/c')
    const n = MAX_RESULTS_PER_SESSION + 10
    // none acknowledged: the table would grow without its bound
    for (let seq = 1000; seq < 1000 + n; seq++) h.apply(txn('a', seq, [{ op: 'set', path: '/c', data: bytes(String(seq)), version: -1 }]))
    const version = h.tree.stat('/c')!.version
    expect(h.apply(txn('a', 1000, [{ op: 'set', path: '/c', data: bytes('again'), version: -1 }])).result).toMatchObject({ ok: false })
    expect(h.tree.stat('/c')!.version).toBe(version)
    expect(h.apply(txn('a', 1000 + n - 1, [{ op: 'set', path: '/c', data: bytes('again'), version: -1 }])).deduped).toBe(true)
    // the snapshot carries at most the bound
    const restored = new Harness(ZTree.restore(h.tree.snapshot()))
    expect(restored.tree.apply(restored.zxid + 1, txn('a', 1000 + n - 1, [])).deduped).toBe(true)
  })

  it('the table dies with the session', () => {
    const h = new Harness()
    h.open('a')
    h.apply(txn('a', 0, [createOp('/x')]))
    h.close('a')
    h.open('a')
    // a fresh session of the same id starts a fresh table (ids must never be reused: see session ids)
    expect(h.apply(txn('a', 0, [createOp('/y')])).deduped).toBe(false)
  })
})
