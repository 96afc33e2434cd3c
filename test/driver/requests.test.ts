import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/shared/errors'
import { RequestPipeline } from '../../src/driver/requests'
import type { TxnCommand } from '../../src/driver/requests'
import type { Command, TxnResult } from '../../src/tree/types'
import { MAX_FORWARD_BYTES_IN_FLIGHT, MAX_FORWARDS_IN_FLIGHT } from '../../src/wire/limits'

function harness(opts: { leader?: boolean; leadership?: () => string | null; openAhead?: () => boolean } = {}) {
  let now = 0
  let leader = opts.leader ?? true
  const sent: TxnCommand[] = []
  const pipeline = new RequestPipeline(
    {
      now: () => now,
      hasLeader: () => leader,
      ...(opts.leadership === undefined ? {} : { leadership: opts.leadership }),
      ...(opts.openAhead === undefined ? {} : { openAhead: opts.openAhead }),
      submit: (cmd: Command) => {
        if (!leader) return false
        sent.push(cmd as TxnCommand)
        return true
      },
    },
    { retryMs: 1_000, timeoutMs: 10_000 },
    's1',
  )
  pipeline.setSessionReady(true)
  return {
    pipeline,
    sent,
    setNow: (t: number) => (now = t),
    setLeader: (l: boolean) => (leader = l),
  }
}

const ok: TxnResult = { ok: true, results: [{ op: 'check' }] }
const check = [{ op: 'check' as const, path: '/', version: -1 }]

describe('request pipeline: resends on a leader change', () => {
  it('a write already handed to the leadership a tick reports as new is not sent again (one entry, not two)', () => {
    let leadership = 'm1@2'
    const h = harness({ leadership: () => leadership })
    void h.pipeline.write(check, false)
    expect(h.sent).toHaveLength(1)
    h.pipeline.flush(true)
    expect(h.sent).toHaveLength(1)
    leadership = 'm2@3'
    h.pipeline.flush(true)
    expect(h.sent).toHaveLength(2)
  })
})

describe('request pipeline: a leader becomes known', () => {
  it('writes handed to an earlier leadership, and writes that waited for any, go to the new one at once; what it has is not sent again', () => {
    let leadership: string | null = 'm1@2'
    const h = harness({ leadership: () => leadership })
    void h.pipeline.write(check, false)
    expect(h.sent.map((c) => c.seq)).toEqual([1])
    // the same leadership: nothing to resend
    h.pipeline.leaderKnown()
    expect(h.sent.map((c) => c.seq)).toEqual([1])
    // no leader for a while: a new write cannot go out
    h.setLeader(false)
    leadership = null
    void h.pipeline.write(check, false)
    expect(h.sent.map((c) => c.seq)).toEqual([1])
    // a new leader: the write of the old leadership and the one that waited go now, before any tick
    h.setLeader(true)
    leadership = 'm2@3'
    h.pipeline.leaderKnown()
    expect(h.sent.map((c) => c.seq)).toEqual([1, 1, 2])
    h.pipeline.leaderKnown()
    expect(h.sent.map((c) => c.seq)).toEqual([1, 1, 2])
  })
})

describe('request pipeline (exactly-once numbering)', () => {
  it('numbers writes 1, 2, 3 and resolves each when its own (session, seq) is applied', async () => {
    const h = harness()
    const p1 = h.pipeline.write(check, false)
    const p2 = h.pipeline.write(check, false)
    expect(h.sent.map((c) => [c.session, c.seq, c.ackedBelow])).toEqual([
      ['s1', 1, 1],
      ['s1', 2, 1],
    ])
    h.pipeline.applied(h.sent[1]!, ok)
    h.pipeline.applied({ ...h.sent[0]!, session: 'other' }, { ok: false, code: 'NO_NODE', message: 'x' })
    h.pipeline.applied(h.sent[0]!, ok)
    await expect(p1).resolves.toEqual(ok)
    await expect(p2).resolves.toEqual(ok)
  })

  it('ackedBelow never passes a pending seq', () => {
    const h = harness()
    void h.pipeline.write(check, false)
    void h.pipeline.write(check, false)
    h.pipeline.applied(h.sent[1]!, ok)
    void h.pipeline.write(check, false)
    expect(h.sent[2]!.seq).toBe(3)
    expect(h.sent[2]!.ackedBelow).toBe(1)
    h.pipeline.applied(h.sent[0]!, ok)
    void h.pipeline.write(check, false)
    expect(h.sent[3]!.ackedBelow).toBe(3)
  })

  it('resends with the same seq after a leader change and after retryMs', () => {
    const h = harness()
    void h.pipeline.write(check, false)
    h.pipeline.flush(true)
    h.setNow(500)
    h.pipeline.flush(false)
    h.setNow(1_200)
    h.pipeline.flush(false)
    expect(h.sent.map((c) => c.seq)).toEqual([1, 1, 1])
  })

  it('waits for the session to open before sending anything', () => {
    const h = harness()
    h.pipeline.replaceSession('s2')
    const p = h.pipeline.write(check, false)
    expect(h.sent).toHaveLength(0)
    h.pipeline.setSessionReady(true)
    expect(h.sent.map((c) => [c.session, c.seq])).toEqual([['s2', 1]])
    h.pipeline.applied(h.sent[0]!, ok)
    return expect(p).resolves.toEqual(ok)
  })

  it('goes right behind its session open once the open went to the current leader; one that lands before the open goes again', async () => {
    let openAhead = false
    let leadership = 'm1@2'
    const h = harness({ openAhead: () => openAhead, leadership: () => leadership })
    h.pipeline.replaceSession('s2')
    const p = h.pipeline.write(check, false)
    expect(h.sent).toHaveLength(0)
    // the open-session was handed to this leader: the write follows it now, not after it applied
    openAhead = true
    h.pipeline.leaderKnown()
    expect(h.sent.map((c) => [c.session, c.seq])).toEqual([['s2', 1]])
    // the open was lost and the write landed first: the tree kept no trace, the write is not answered
    h.pipeline.applied(h.sent[0]!, { ok: false, code: 'SESSION_EXPIRED', message: 'unknown session' })
    let settled = false
    void p.then(() => (settled = true), () => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    // the open applies: the write goes again at once, and its result is the answer
    h.pipeline.setSessionReady(true)
    expect(h.sent.map((c) => [c.session, c.seq])).toEqual([['s2', 1], ['s2', 1]])
    h.pipeline.applied(h.sent[1]!, ok)
    await expect(p).resolves.toEqual(ok)
    // once open, SESSION_EXPIRED is the answer (the session ended)
    const q = h.pipeline.write(check, false)
    h.pipeline.applied(h.sent[2]!, { ok: false, code: 'SESSION_EXPIRED', message: 'expired' })
    await expect(q).resolves.toMatchObject({ ok: false, code: 'SESSION_EXPIRED' })
  })

  it('fails with NO_QUORUM without a leader and TIMEOUT with one, and an abandoned seq holds ackedBelow', async () => {
    const h = harness({ leader: false })
    const p1 = h.pipeline.write(check, false)
    h.setNow(10_000)
    h.pipeline.flush(false)
    await expect(p1).rejects.toMatchObject({ code: 'NO_QUORUM' })
    h.setLeader(true)
    const p2 = h.pipeline.write(check, false)
    h.setNow(20_000)
    h.pipeline.flush(false)
    await expect(p2).rejects.toMatchObject({ code: 'TIMEOUT' })
    void h.pipeline.write(check, false)
    expect(h.sent[h.sent.length - 1]!.ackedBelow).toBe(1)
  })

  it('fails pending writes with SESSION_EXPIRED when the session is replaced', async () => {
    const h = harness()
    const p = h.pipeline.write(check, false)
    h.pipeline.replaceSession('s2')
    await expect(p).rejects.toMatchObject({ code: 'SESSION_EXPIRED' })
  })

  it('a txn the encoder would refuse is rejected BAD_ARGUMENTS before it takes a seq, and nothing of it is sent or pending', async () => {
    const h = harness()
    await expect(h.pipeline.write([{ op: 'check', path: '/', version: 2 ** 31 }], false)).rejects.toMatchObject({ code: 'BAD_ARGUMENTS', path: '/' })
    await expect(h.pipeline.write([check[0]!, { op: 'set', path: '/a', data: new Uint8Array(0), version: -2 }], true)).rejects.toMatchObject({
      code: 'BAD_ARGUMENTS',
      opIndex: 1,
      path: '/a',
    })
    await expect(h.pipeline.write(Array.from({ length: 1025 }, () => check[0]!), true)).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' })
    expect(h.pipeline.size).toBe(0)
    expect(h.sent).toHaveLength(0)
    void h.pipeline.write(check, false)
    expect(h.sent.map((c) => c.seq)).toEqual([1])
    h.pipeline.flush(true)
    expect(h.sent.map((c) => c.seq)).toEqual([1, 1])
  })

  it('a write that failed after it was submitted is flagged outcome unknown; one never submitted is not', async () => {
    const h = harness()
    const sent = h.pipeline.write(check, false)
    h.setNow(10_000)
    h.pipeline.flush(false)
    await expect(sent).rejects.toMatchObject({ code: 'TIMEOUT', outcome: 'unknown' })

    h.setLeader(false)
    const neverSent = h.pipeline.write(check, false)
    h.setNow(20_000)
    h.pipeline.flush(false)
    const err = await neverSent.catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'NO_QUORUM' })
    expect((err as { outcome?: string }).outcome).toBeUndefined()

    h.setLeader(true)
    const closing = h.pipeline.write(check, false)
    const queued = (h.setLeader(false), h.pipeline.write(check, false))
    const shared = new MeshError('STORAGE', 'disk gone')
    h.pipeline.failAll(shared)
    await expect(closing).rejects.toMatchObject({ code: 'STORAGE', outcome: 'unknown', cause: shared })
    await expect(queued).rejects.toBe(shared)
    expect(shared.outcome).toBeUndefined()

    h.setLeader(true)
    const expiring = h.pipeline.write(check, false)
    h.pipeline.replaceSession('s2')
    await expect(expiring).rejects.toMatchObject({ code: 'SESSION_EXPIRED', outcome: 'unknown' })
  })
})

describe('request pipeline: bounded in flight (the leader\'s per-peer budget)', () => {
  it('hands at most MAX_FORWARDS_IN_FLIGHT writes to a leader; the next goes out as soon as one applies, not at a tick', async () => {
    const h = harness()
    const writes = Array.from({ length: MAX_FORWARDS_IN_FLIGHT + 10 }, () => h.pipeline.write(check, false))
    expect(h.sent.map((c) => c.seq)).toEqual(Array.from({ length: MAX_FORWARDS_IN_FLIGHT }, (_, i) => i + 1))
    // a tick does not overrun the bound either
    h.pipeline.flush(false)
    expect(h.sent).toHaveLength(MAX_FORWARDS_IN_FLIGHT)
    h.pipeline.applied(h.sent[0]!, ok)
    expect(h.sent.at(-1)!.seq).toBe(MAX_FORWARDS_IN_FLIGHT + 1)
    for (let i = 1; i < MAX_FORWARDS_IN_FLIGHT + 10; i++) h.pipeline.applied(h.sent[i]!, ok)
    expect(h.sent.map((c) => c.seq)).toEqual(Array.from({ length: MAX_FORWARDS_IN_FLIGHT + 10 }, (_, i) => i + 1))
    await Promise.all(writes)
    expect(h.pipeline.size).toBe(0)
  })

  it('bounds the bytes in flight too: a large write waits until the ones before it apply', () => {
    const h = harness()
    const data = new Uint8Array(MAX_FORWARD_BYTES_IN_FLIGHT / 4)
    for (let i = 0; i < 5; i++) void h.pipeline.write([{ op: 'create', path: `/big${i}`, data, mode: 'persistent' }], false).catch(() => undefined)
    expect(h.sent).toHaveLength(3)
    h.pipeline.applied(h.sent[0]!, ok)
    expect(h.sent).toHaveLength(4)
  })
})
