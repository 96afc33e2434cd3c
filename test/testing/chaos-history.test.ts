// The browser chaos run's checks (test/e2e/chaos/history.ts) fail when they
// should: a lost acknowledged write, a "not applied" failure that applied
// after all, a fencing token that goes back, a released lease's write that
// lands. The run itself needs browsers (test/e2e/chaos.spec.ts); these are
// its verdicts on histories written by hand.
import { describe, expect, it } from 'vitest'
import { ChaosHistory, FencedLog } from '../e2e/chaos/history'
import type { PageAnswer } from '../e2e/chaos/history'
import { answer, op } from '../sim/linearizability/index'

const setTo = (v: { version: number }) => answer.setTo(v.version)
const data = (v: { data: string; version: number }) => answer.data(v.data, v.version)
const created = (v: { path: string }) => answer.created(v.path)
const reply = <T>(a: PageAnswer<T>) => () => Promise.resolve(a)

async function seeded(): Promise<ChaosHistory> {
  const h = new ChaosHistory()
  await h.record('setup', op.create('/k', 'a'), reply({ ok: true, value: { path: '/k' } }), created)
  return h
}

describe('ChaosHistory', () => {
  it('a clean history is linearizable, with each way a call ends counted', async () => {
    const h = await seeded()
    await h.record('t1', op.set('/k', 'b'), reply({ ok: true, value: { version: 1 } }), setTo)
    await h.record('t1', op.set('/k', 'x', 0), reply({ ok: false, code: 'BAD_VERSION', message: '' }), setTo)
    await h.record('t2', op.set('/k', 'c'), reply({ ok: false, code: 'NO_QUORUM', message: '' }), setTo)
    await h.record('t2', op.set('/k', 'd'), () => Promise.reject(new Error('Target crashed')), setTo)
    await h.record('final', op.get('/k'), reply({ ok: true, value: { data: 'd', version: 2 } }), data)
    expect(h.check().verdict).toBe('linearizable')
    expect(h.counts).toMatchObject({ calls: 6, ok: 3, definiteErrors: 1, indeterminate: 1, notApplied: 1 })
    expect(h.counts.codes).toEqual({ BAD_VERSION: 1, NO_QUORUM: 1, NO_ANSWER: 1 })
  })

  it('an acknowledged write the final read does not show is a violation (lost)', async () => {
    const h = await seeded()
    await h.record('t1', op.set('/k', 'b'), reply({ ok: true, value: { version: 1 } }), setTo)
    await h.record('final', op.get('/k'), reply({ ok: true, value: { data: 'a', version: 0 } }), data)
    expect(h.check().verdict).toBe('violation')
  })

  it('a write that failed without outcome unknown (never applied) must not show later; with outcome unknown it may', async () => {
    for (const [outcome, verdict] of [[undefined, 'violation'], ['unknown', 'linearizable']] as const) {
      const h = await seeded()
      const failed: PageAnswer<{ version: number }> = { ok: false, code: 'TIMEOUT', message: '', ...(outcome === undefined ? {} : { outcome }) }
      await h.record('t1', op.set('/k', 'b'), reply(failed), setTo)
      await h.record('final', op.get('/k'), reply({ ok: true, value: { data: 'b', version: 1 } }), data)
      expect(h.check().verdict).toBe(verdict)
    }
  })

  it('a FENCED write is no effect: seen later, it is a violation', async () => {
    const h = await seeded()
    await h.record('t1', op.set('/k', 'b'), reply({ ok: false, code: 'FENCED', message: '' }), setTo)
    await h.record('final', op.get('/k'), reply({ ok: true, value: { data: 'b', version: 1 } }), data)
    expect(h.counts.fenced).toBe(1)
    expect(h.check().verdict).toBe('violation')
  })
})

describe('FencedLog', () => {
  const at = (version: number, token: number, how: 'write' | 'read' = 'write') => ({ version, token, how, client: 't', data: `${token}:${version}` })

  it('tokens that never go back in version order pass', () => {
    const log = new FencedLog()
    for (const s of [at(1, 5), at(3, 9), at(2, 5, 'read'), at(3, 9, 'read')]) log.see(s)
    expect(log.problems()).toEqual([])
  })

  it('a lower token at a later version is a stale holder that landed', () => {
    const log = new FencedLog()
    for (const s of [at(1, 5), at(2, 9), at(3, 5, 'read')]) log.see(s)
    expect(log.problems()).toEqual([expect.stringMatching(/token went back in commit order: version 2 has token 9 .* version 3 token 5/)])
  })

  it('two values at one version, and a released lease whose write landed, are problems', () => {
    const log = new FencedLog()
    log.see(at(1, 5))
    log.see({ ...at(1, 5), data: 'other' })
    log.staleAnswered = 2
    log.staleLanded = 1
    expect(log.problems()).toHaveLength(2)
  })
})
