// Model-based check: random sequences of Raft-shaped saves (appends that
// overwrite a suffix, snapshots, hard states, reloads) against both providers
// and a reference model written from the contract in src/storage/types.ts.
// After every step, load() of each provider equals the model.
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Entry, HardState, Snapshot } from '../../src/raft/types'
import type { SaveBatch, Storage, StorageProvider } from '../../src/storage/types'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { IndexedDbStorageProvider } from '../../src/storage/indexeddb'
import { meta } from './acceptance'

/** The contract, as plainly as it can be said: a map from index to entry. */
class ReferenceLog {
  hardState: HardState = { term: 0, vote: null, commit: 0 }
  snapshot: Snapshot | null = null
  readonly log = new Map<number, Entry>()

  get snapIndex(): number {
    return this.snapshot?.meta.index ?? 0
  }

  get lastIndex(): number {
    let i = this.snapIndex
    while (this.log.has(i + 1)) i++
    return i
  }

  apply(batch: SaveBatch): void {
    if (batch.hardState) this.hardState = batch.hardState
    if (batch.snapshot) {
      this.snapshot = batch.snapshot
      for (const i of [...this.log.keys()]) if (i <= this.snapIndex) this.log.delete(i)
    }
    const es = batch.entries ?? []
    if (es.length > 0) {
      for (const i of [...this.log.keys()]) if (i >= es[0]!.index) this.log.delete(i)
      for (const e of es) if (e.index > this.snapIndex) this.log.set(e.index, e)
    }
  }

  expected(): { hardState: HardState; snapshot: Snapshot | null; entries: Entry[] } {
    const entries: Entry[] = []
    for (let i = this.snapIndex + 1; this.log.has(i); i++) entries.push(this.log.get(i)!)
    return { hardState: this.hardState, snapshot: this.snapshot, entries }
  }
}

/** One step, with positions as fractions so they always fit the current log. */
type Step =
  | { kind: 'append'; at: number; count: number; term: number }
  | { kind: 'snapshot'; at: number; term: number }
  | { kind: 'hardState'; term: number; commit: number; vote: string | null }
  | { kind: 'reload' }

/** A position in [0, 1] spread evenly: fc.double favours 0, 1 and other
 *  edge values, which put nearly every snapshot at the log's first or last
 *  index and left a snapshot inside a multi-entry record untried. */
const fraction = fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000)

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), at: fraction, count: fc.integer({ min: 1, max: 6 }), term: fc.integer({ min: 1, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), at: fraction, term: fc.integer({ min: 1, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hardState' as const), term: fc.nat(20), commit: fc.nat(50), vote: fc.option(fc.constantFrom('a', 'b', 'c')) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reload' as const) }) },
)

function batchFor(step: Step, model: ReferenceLog): SaveBatch | null {
  const first = model.snapIndex + 1
  switch (step.kind) {
    case 'append': {
      // anywhere from the first entry after the snapshot to right after the last
      const from = first + Math.floor(step.at * (model.lastIndex - first + 2))
      const entries: Entry[] = []
      for (let i = 0; i < step.count; i++) entries.push({ index: from + i, term: step.term, type: 'normal', data: new Uint8Array([from + i, step.term]) })
      return { entries }
    }
    case 'snapshot': {
      const index = model.snapIndex + Math.floor(step.at * (model.lastIndex - model.snapIndex + 1))
      const conf = { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
      return { snapshot: { meta: { index, term: step.term, conf }, data: new Uint8Array([index]) } }
    }
    case 'hardState':
      return { hardState: { term: step.term, commit: step.commit, vote: step.vote } }
    case 'reload':
      return null
  }
}

/** `burst` > 1: that many saves are issued without waiting, so the storage's
 *  group commit merges them (the model still applies them one by one). */
async function runSteps(makeProvider: () => StorageProvider, steps: Step[], burst = 1): Promise<void> {
  const model = new ReferenceLog()
  let s: Storage = await makeProvider().open('model', 'a')
  await s.save({ meta: meta('a') })
  const issued: Promise<void>[] = []
  const check = async (): Promise<void> => {
    await Promise.all(issued.splice(0))
    expect((await s.load())?.durable).toEqual(model.expected())
  }
  try {
    for (const step of steps) {
      const batch = batchFor(step, model)
      if (batch === null) {
        await check()
        await s.close()
        s = await makeProvider().open('model', 'a')
      } else {
        issued.push(s.save(batch))
        model.apply(batch)
      }
      if (issued.length >= burst) await check()
    }
    await check()
  } finally {
    await s.close()
  }
}

describe('storage against a reference model (fast-check)', () => {
  it('memory', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 30 }), async (steps) => {
        const provider = new MemoryStorageProvider()
        await runSteps(() => provider, steps)
      }),
      { numRuns: 200 },
    )
  })

  it('IndexedDB (fake-indexeddb)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 30 }), async (steps) => {
        globalThis.indexedDB = new IDBFactory()
        await runSteps(() => new IndexedDbStorageProvider({ durability: 'relaxed' }), steps)
      }),
      { numRuns: 60 },
    )
  })

  it('memory, saves in bursts (group commit)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 30 }), fc.integer({ min: 2, max: 6 }), async (steps, burst) => {
        const provider = new MemoryStorageProvider()
        await runSteps(() => provider, steps, burst)
      }),
      { numRuns: 200 },
    )
  })

  it('IndexedDB (fake-indexeddb), saves in bursts (group commit)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 30 }), fc.integer({ min: 2, max: 6 }), async (steps, burst) => {
        globalThis.indexedDB = new IDBFactory()
        await runSteps(() => new IndexedDbStorageProvider({ durability: 'relaxed' }), steps, burst)
      }),
      { numRuns: 60 },
    )
  })
})
