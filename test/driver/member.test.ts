import { describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import { VirtualClock } from '../../src/testing/virtual-time'
import { VirtualNetwork } from '../../src/testing/virtual-network'
import { VirtualHub } from '../../src/testing/virtual-transport'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { Member } from '../../src/driver/member'
import type { Clock } from '../../src/shared/clock'
import { MeshError as MeshErrorClass } from '../../src/shared/errors'
import type { MeshError } from '../../src/shared/errors'
import type { SaveBatch, Storage } from '../../src/storage/types'
import type { Message } from '../../src/raft/types'
import { decodeNodeMessage } from '../../src/wire/node-messages'
import { decodeRaftMessage } from '../../src/wire/raft-codec'
import { MAX_READIES_IN_FLIGHT } from '../../src/driver/ready-loop'
import type { MemberOptions } from '../../src/driver/options'

/** What a member's storage has made durable so far (updated when a save resolves). */
interface DurableMirror {
  term: number
  vote: string | null
  /** index -> term of every durable entry */
  entries: Map<number, number>
}

/** A member's storage whose saves are held (while `control.hold`) until released, oldest first. */
interface HeldSave {
  batch: SaveBatch
  release: () => void
  fail: (e: unknown) => void
}

/** What a world's storage holds: every save while `hold`, or only those `only` picks. */
interface HoldControl {
  hold: boolean
  only?: (batch: SaveBatch) => boolean
}

function holdingStorage(inner: Storage, control: HoldControl, held: HeldSave[], durable: DurableMirror): Storage {
  const land = (batch: SaveBatch): Promise<void> =>
    inner.save(batch).then(() => {
      if (batch.hardState !== undefined) {
        durable.term = batch.hardState.term
        durable.vote = batch.hardState.vote
      }
      if (batch.snapshot !== undefined) for (const i of [...durable.entries.keys()]) if (i <= batch.snapshot.meta.index) durable.entries.delete(i)
      const ents = batch.entries ?? []
      if (ents.length > 0) for (const i of [...durable.entries.keys()]) if (i >= ents[0]!.index) durable.entries.delete(i)
      for (const e of ents) durable.entries.set(e.index, e.term)
    })
  return {
    load: () => inner.load(),
    save: (batch) =>
      !control.hold || control.only?.(batch) === false
        ? land(batch)
        : new Promise<void>((resolve, reject) => {
            held.push({ batch, release: () => void land(batch).then(resolve, reject), fail: reject })
          }),
    destroy: () => inner.destroy(),
    close: () => inner.close(),
  }
}

/** Two static voters on a virtual world; each one's saves can be held until released. */
async function world(extra: Pick<MemberOptions, 'timing' | 'visible'> = {}) {
  const clock = new VirtualClock()
  const network = new VirtualNetwork<Uint8Array>(clock, prng.create(5), { minDelay: 1, maxDelay: 2 })
  const hub = new VirtualHub(network)
  const scheduler: Clock = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h as number) }
  const provider = new MemoryStorageProvider()
  const heldBy = new Map<string, HeldSave[]>([['m1', []], ['m2', []]])
  const controlOf = new Map<string, HoldControl>([['m1', { hold: false }], ['m2', { hold: false }]])
  const durableOf = new Map<string, DurableMirror>()
  const storageOf = async (id: string): Promise<Storage> => {
    const durable: DurableMirror = { term: 0, vote: null, entries: new Map() }
    durableOf.set(id, durable)
    return holdingStorage(await provider.open('room', id), controlOf.get(id)!, heldBy.get(id)!, durable)
  }
  // raft messages sent, per member, and every one checked against the sender's
  // durable state the moment it leaves (invariant 2, as the simulator checks it)
  const sentBy = new Map<string, number>()
  const sent: Array<{ from: string; m: Message; whileHeld: number }> = []
  const violations: string[] = []
  network.observer = (e) => {
    if (e.kind !== 'send') return
    const nm = decodeNodeMessage(e.msg)
    if (nm.type !== 'raft') return
    sentBy.set(e.from, (sentBy.get(e.from) ?? 0) + 1)
    const m = decodeRaftMessage(nm.bytes)
    sent.push({ from: e.from, m, whileHeld: heldBy.get(e.from)!.length })
    const d = durableOf.get(e.from)!
    if (m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp') return
    if (m.term > d.term) violations.push(`${e.from}: ${m.type} carries term ${m.term}, durable ${d.term}`)
    if (m.type === 'MsgVoteResp' && !m.reject && (d.term !== m.term || d.vote !== m.to)) violations.push(`${e.from}: vote for ${m.to} in ${m.term} not durable`)
    if (m.type === 'MsgAppResp' && !m.reject && m.index > 0 && d.entries.size > 0 && !d.entries.has(m.index) && m.index > Math.max(...d.entries.keys()))
      violations.push(`${e.from}: acknowledged ${m.index} before it was durable`)
  }
  const mk = async (id: string): Promise<Member> =>
    new Member({
      hello: { member: id, tab: 't1', browser: `b-${id}` },
      storage: await storageOf(id),
      transport: hub.connect({ member: id, tab: 't1', browser: `b-${id}` }),
      scheduler,
      random: (() => {
        const g = prng.create(id.charCodeAt(1))
        return () => prng.real53(g)
      })(),
      bootstrap: true,
      bootstrapVoters: ['m1', 'm2'],
      ...extra,
    })
  const m1 = await mk('m1')
  const m2 = await mk('m2')
  return { clock, provider, held: heldBy.get('m1')!, heldBy, sentBy, sent, violations, m1, m2, control: controlOf.get('m1')!, controlOf }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

/** A world whose two members agree on a leader and committed its first entries. */
async function settledWorld() {
  const w = await world()
  await w.m1.start()
  await w.m2.start()
  for (let i = 0; i < 5_000 && (w.m1.leader === null || w.m1.leader !== w.m2.leader); i++) {
    w.clock.runNext()
    await flush()
  }
  const leaderId = w.m1.leader!
  const leader = leaderId === 'm1' ? w.m1 : w.m2
  for (let i = 0; i < 200; i++) {
    w.clock.runNext()
    await flush()
  }
  return { w, leaderId, leader, held: w.heldBy.get(leaderId)! }
}

describe('member: the Ready loop', () => {
  it('nothing that vouches for unsaved state leaves while Readies are pipelined (persist before vouching)', async () => {
    const w = await world()
    await w.m1.start()
    await w.m2.start()
    w.control.hold = true
    let checked = 0
    let maxHeld = 0
    for (let round = 0; round < 20_000 && checked < 30; round++) {
      if (w.held.length === 0) {
        // keep the log moving: a quiet cluster has little to persist
        if (round % 50 === 0) void w.m2.write([{ op: 'check', path: '/', version: -1 }], false).catch(() => {})
        w.clock.runNext()
        await flush()
        continue
      }
      // while saves are held, m1's clock keeps ticking, messages and proposals keep arriving
      for (let i = 0; i < 30; i++) {
        if (i % 10 === 0) void w.m2.write([{ op: 'check', path: '/', version: -1 }], false).catch(() => {})
        w.clock.runNext()
        await flush()
        maxHeld = Math.max(maxHeld, w.held.length)
        expect(w.held.length).toBeLessThanOrEqual(MAX_READIES_IN_FLIGHT)
      }
      w.held.shift()!.release()
      checked++
      await flush()
    }
    expect(checked).toBe(30)
    expect(w.violations).toEqual([])
    expect(maxHeld).toBeGreaterThan(0)
    expect(maxHeld).toBeLessThanOrEqual(MAX_READIES_IN_FLIGHT)
    // and what m1 vouches for did go out once saved
    expect(w.sent.some((s) => s.from === 'm1' && (s.m.type === 'MsgAppResp' || s.m.type === 'MsgApp'))).toBe(true)
    w.m1.stop(new MeshErrorClass('CLOSED'))
    w.m2.stop(new MeshErrorClass('CLOSED'))
  })

  it('a leader sends its entries while its own save is on the disk, and counts itself only once it completed (thesis §10.2.1)', async () => {
    const { w, leaderId, leader, held } = await settledWorld()
    // hold the leader's disk
    w.controlOf.get(leaderId)!.hold = true
    const sentBefore = w.sent.length
    const done = leader.write([{ op: 'create', path: '/parallel', data: new Uint8Array([1]), mode: 'persistent' }], false)
    await flush()
    expect(held.length).toBe(1)
    const index = held[0]!.batch.entries![0]!.index
    // its MsgApp with the entry left before the save completed...
    const apps = w.sent.slice(sentBefore).filter((s) => s.from === leaderId && s.m.type === 'MsgApp' && s.m.entries.some((e) => e.index === index))
    expect(apps.length).toBeGreaterThan(0)
    expect(apps[0]!.whileHeld).toBe(1)
    // ...the follower saved and acknowledged it, but with two voters the commit needs the leader's own disk too
    const acked = (): boolean => w.sent.some((s) => s.from !== leaderId && s.m.type === 'MsgAppResp' && !s.m.reject && s.m.index >= index)
    for (let i = 0; i < 50 && !acked(); i++) {
      w.clock.runNext()
      await flush()
    }
    expect(acked()).toBe(true)
    expect(held.length).toBeGreaterThan(0)
    expect(leader.commitIndex).toBeLessThan(index)
    w.controlOf.get(leaderId)!.hold = false
    while (held.length > 0) {
      held.shift()!.release()
      await flush()
    }
    for (let i = 0; i < 50 && leader.commitIndex < index; i++) {
      w.clock.runNext()
      await flush()
    }
    expect(leader.commitIndex).toBeGreaterThanOrEqual(index)
    await expect(done).resolves.toBeDefined()
    expect(w.violations).toEqual([])
    w.m1.stop(new MeshErrorClass('CLOSED'))
    w.m2.stop(new MeshErrorClass('CLOSED'))
  })

  it("a leader's commit index leaves for its followers while its commit-only save is on the disk", async () => {
    const { w, leaderId, leader, held } = await settledWorld()
    // hold the leader's disk
    w.controlOf.get(leaderId)!.hold = true
    const done = leader.write([{ op: 'create', path: '/commit-early', data: new Uint8Array([1]), mode: 'persistent' }], false)
    await flush()
    expect(held.length).toBe(1)
    const index = held[0]!.batch.entries![0]!.index
    // the entry's own save completes; every later save of the leader stays held
    held.shift()!.release()
    await flush()
    const sentBefore = w.sent.length
    const commitSaveHeld = (): boolean => held.some((h) => h.batch.entries === undefined && (h.batch.hardState?.commit ?? 0) >= index)
    for (let i = 0; i < 50 && !commitSaveHeld(); i++) {
      w.clock.runNext()
      await flush()
    }
    expect(commitSaveHeld()).toBe(true)
    expect(held.find((h) => (h.batch.hardState?.commit ?? 0) >= index)!.batch.sync).toBe(false)
    // the new commit index reached the follower's way while that save was held
    const carried = (): boolean => w.sent.slice(sentBefore).some((s) => s.from === leaderId && (s.m.type === 'MsgApp' || s.m.type === 'MsgHeartbeat') && s.m.commit >= index && s.whileHeld > 0)
    for (let i = 0; i < 50 && !carried(); i++) {
      w.clock.runNext()
      await flush()
    }
    expect(carried()).toBe(true)
    w.controlOf.get(leaderId)!.hold = false
    while (held.length > 0) {
      held.shift()!.release()
      await flush()
    }
    await expect(done).resolves.toBeDefined()
    expect(w.violations).toEqual([])
    w.m1.stop(new MeshErrorClass('CLOSED'))
    w.m2.stop(new MeshErrorClass('CLOSED'))
  })

  it('a write is applied and answered while its commit-only save is on the disk, never before its entry is saved', async () => {
    const { w, leaderId, leader, held } = await settledWorld()
    w.controlOf.get(leaderId)!.hold = true
    let answered = false
    const done = leader.write([{ op: 'create', path: '/applied-early', data: new Uint8Array([1]), mode: 'persistent' }], false)
    void done.then(() => { answered = true })
    await flush()
    expect(held.length).toBe(1)
    const index = held[0]!.batch.entries![0]!.index
    // the entry's save held: the follower may acknowledge, nothing is applied here
    for (let i = 0; i < 50; i++) {
      w.clock.runNext()
      await flush()
    }
    expect(answered).toBe(false)
    expect(leader.appliedIndex).toBeLessThan(index)
    // from now on only saves of the commit index alone are held; every save
    // held so far (the entry's, and any entry proposed meanwhile) completes, in order
    w.controlOf.get(leaderId)!.only = (b) => b.sync === false
    while (held.length > 0) {
      held.shift()!.release()
      await flush()
    }
    const commitSaveHeld = (): boolean => held.some((h) => h.batch.entries === undefined && (h.batch.hardState?.commit ?? 0) >= index)
    for (let i = 0; i < 100 && !(commitSaveHeld() && answered); i++) {
      w.clock.runNext()
      await flush()
    }
    // (before: the apply waited for that save, and the write stayed unanswered)
    expect(commitSaveHeld()).toBe(true)
    expect(answered).toBe(true)
    expect(leader.appliedIndex).toBeGreaterThanOrEqual(index)
    expect(leader.tree.get('/applied-early')).not.toBeNull()
    w.controlOf.get(leaderId)!.hold = false
    delete w.controlOf.get(leaderId)!.only
    while (held.length > 0) {
      held.shift()!.release()
      await flush()
    }
    expect(w.violations).toEqual([])
    w.m1.stop(new MeshErrorClass('CLOSED'))
    w.m2.stop(new MeshErrorClass('CLOSED'))
  })

  it('a commit index rides on the next save or the next tick, not on a save of its own per write, but where the app awaits the write; stop saves it', async () => {
    const { w, leaderId, leader } = await settledWorld()
    const followerId = leaderId === 'm1' ? 'm2' : 'm1'
    const follower = leaderId === 'm1' ? w.m2 : w.m1
    // every save of both members is recorded (and lands at once)
    const savesOf = new Map<string, SaveBatch[]>([['m1', []], ['m2', []]])
    for (const id of ['m1', 'm2']) {
      const c = w.controlOf.get(id)!
      c.hold = true
      c.only = (b) => {
        savesOf.get(id)!.push(b)
        return false
      }
    }
    const commitOnly = (b: SaveBatch): boolean => b.entries === undefined && b.snapshot === undefined && b.hardState !== undefined
    const startedAt = w.clock.now()
    const indexes: number[] = []
    for (let k = 0; k < 6; k++) {
      const before = savesOf.get(leaderId)!.length
      let done = false
      void follower.write([{ op: 'create', path: `/c${k}`, data: new Uint8Array([k]), mode: 'persistent' }], false).then(() => {
        done = true
      })
      for (let i = 0; i < 200 && !done; i++) {
        w.clock.runNext()
        await flush()
      }
      expect(done).toBe(true)
      const entrySave = savesOf.get(leaderId)!.slice(before).find((b) => (b.entries ?? []).some((e) => e.data.length > 0))!
      expect(entrySave).toBeDefined()
      const index = entrySave.entries![entrySave.entries!.length - 1]!.index
      indexes.push(index)
      // the leader's entry save carries the commit index the last write moved (it made no save of its own)
      if (k > 0) expect(entrySave.hardState?.commit ?? 0).toBeGreaterThanOrEqual(indexes[k - 1]!)
      // the requester, whose app awaited the write, saved the commit index that answered it at once
      expect(savesOf.get(followerId)!.some((b) => (b.hardState?.commit ?? 0) >= index)).toBe(true)
    }
    // a tick saves what no save carried: at most one commit-only save of the leader per tick
    const ticks = Math.ceil((w.clock.now() - startedAt) / 100) + 1
    expect(savesOf.get(leaderId)!.filter(commitOnly).length).toBeLessThanOrEqual(ticks)
    expect(ticks).toBeLessThan(6)
    // stopping saves the newest commit index, so a reload applies it at once
    w.m1.stop(new MeshErrorClass('CLOSED'))
    w.m2.stop(new MeshErrorClass('CLOSED'))
    await flush()
    for (const id of [leaderId, followerId]) {
      const rec = await (await w.provider.open('room', id)).load()
      expect(rec!.durable.hardState.commit).toBeGreaterThanOrEqual(indexes[indexes.length - 1]!)
    }
    expect(w.violations).toEqual([])
    expect(leader.tree.get('/c5')).not.toBeNull()
  })

  it('a failed save raises an error with code STORAGE and the member stops for good', async () => {
    const w = await world()
    const errors: MeshError[] = []
    w.m1.on('error', (e) => errors.push(e))
    await w.m1.start()
    await w.m2.start()
    w.control.hold = true
    for (let i = 0; i < 5_000 && w.held.length === 0; i++) {
      w.clock.runNext()
      await flush()
    }
    w.held.shift()!.fail(Object.assign(new Error('disk full'), { code: 'STORAGE' }))
    await flush()
    expect(errors.map((e) => e.code)).toEqual(['STORAGE'])
    expect(w.m1.isStopped).toBe(true)
    expect(w.m1.state).toBe('closed')
    const sent = w.sentBy.get('m1') ?? 0
    for (let i = 0; i < 500; i++) {
      w.clock.runNext()
      await flush()
    }
    expect(w.sentBy.get('m1') ?? 0).toBe(sent)
    await expect(w.m1.write([{ op: 'check', path: '/', version: -1 }], false)).rejects.toMatchObject({ code: 'CLOSED' })
    w.m2.stop(errors[0]!)
  })
})

describe('member: start', () => {
  it("a founder alone writes its new slot's meta, its vote and its first entry in ONE storage write, and start resolves once it is durable", async () => {
    const clock = new VirtualClock()
    const scheduler: Clock = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h as number) }
    const writes: SaveBatch[] = []
    let land!: () => void
    const landed = new Promise<void>((r) => (land = r))
    // every write (a save, or saves merged while the one before was on the disk) waits for `land`
    const provider = new MemoryStorageProvider({ persist: ({ batch }) => (writes.push(batch), landed) })
    const hub = new VirtualHub(new VirtualNetwork<Uint8Array>(clock, prng.create(5), { minDelay: 1, maxDelay: 2 }))
    const hello = { member: 'm1', tab: 't1', browser: 'b1' }
    const m = new Member({ hello, storage: await provider.open('room', 'm1'), transport: hub.connect(hello), scheduler, random: () => 0.5, bootstrap: true })
    let started = false
    const starting = m.start().then(() => (started = true))
    await flush()
    // the meta is on the disk, and so is what the campaign made meanwhile: one write
    expect(writes).toHaveLength(1)
    expect(writes[0]!.meta?.member).toBe('m1')
    const { hardState, entries } = writes[0]!
    expect(hardState?.vote).toBe('m1')
    // the new leader's first entry, of the term it voted itself in
    expect(entries?.at(-1)?.term).toBe(hardState?.term)
    expect(started).toBe(false)
    land()
    await starting
    expect(started).toBe(true)
    m.stop(new MeshErrorClass('CLOSED', 'test over'))
  })

  it('a start whose first save fails rejects with STORAGE and leaves the member stopped', async () => {
    const clock = new VirtualClock()
    const scheduler: Clock = { now: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h as number) }
    const provider = new MemoryStorageProvider({ persist: () => Promise.reject(new Error('disk full')) })
    const hub = new VirtualHub(new VirtualNetwork<Uint8Array>(clock, prng.create(5), { minDelay: 1, maxDelay: 2 }))
    const hello = { member: 'm1', tab: 't1', browser: 'b1' }
    const m = new Member({ hello, storage: await provider.open('room', 'm1'), transport: hub.connect(hello), scheduler, random: () => 0.5, bootstrap: true })
    await expect(m.start()).rejects.toMatchObject({ code: 'STORAGE' })
    expect(m.isStopped).toBe(true)
  })
})

describe('member: heartbeats', () => {
  it('a visible leader heartbeats every heartbeatTicks, a hidden one every tick (its timers are throttled)', async () => {
    let visible = true
    const w = await world({ timing: { heartbeatTicks: 3 }, visible: () => visible })
    await w.m1.start()
    await w.m2.start()
    for (let i = 0; i < 5_000 && (w.m1.leader === null || w.m1.leader !== w.m2.leader); i++) {
      w.clock.runNext()
      await flush()
    }
    const leaderId = w.m1.leader!
    /** heartbeats the leader sends in `ms` of virtual time (tickMs 100) */
    const heartbeatsIn = async (ms: number): Promise<number> => {
      const from = w.sent.length
      const until = w.clock.now() + ms
      while (w.clock.now() < until) {
        w.clock.runNext()
        await flush()
      }
      return w.sent.slice(from).filter((s) => s.from === leaderId && s.m.type === 'MsgHeartbeat').length
    }
    await heartbeatsIn(1000) // settle
    const shown = await heartbeatsIn(3000)
    expect(shown).toBeGreaterThanOrEqual(9)
    expect(shown).toBeLessThanOrEqual(11)
    visible = false
    await heartbeatsIn(200)
    const hidden = await heartbeatsIn(3000)
    expect(hidden).toBeGreaterThanOrEqual(29)
    expect(hidden).toBeLessThanOrEqual(31)
    // the leadership did not move: the follower heard the leader often enough either way
    expect(w.m1.leader).toBe(leaderId)
    expect(w.m2.leader).toBe(leaderId)
  })
})
