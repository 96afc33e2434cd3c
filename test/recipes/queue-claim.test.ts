// The queue's claim retries only what may have committed. A claim refused
// NO_QUORUM before it was sent (a member failing fast without a quorum: no
// `outcome`) surely did not apply: `take` rejects with it. Retrying it at once
// was a microtask loop that never yielded to a timer (seen in
// test/recipes/faults.test.ts: the event loop blocked, no timeout fired).
// One whose outcome is unknown is asked again, as before.
import { describe, expect, it } from 'vitest'
import { queue } from '../../src/recipes/queue'
import { MeshError } from '../../src/shared/errors'
import type { MeshCore, NodeData } from '../../src/shared/types'

const ITEM: NodeData = {
  data: new Uint8Array([1]),
  text: () => '\u0001',
  stat: { czxid: 1, mzxid: 1, pzxid: 1, ctime: 0, mtime: 0, version: 0, cversion: 0, ephemeralOwner: null, dataLength: 1, numChildren: 0 },
} as unknown as NodeData

/** A MeshCore with one queued item whose multi answers from `answers` in turn (then throws SPUN). */
function meshAnswering(answers: Array<() => Promise<unknown>>): { mesh: MeshCore; multis: () => number } {
  let multis = 0
  const mesh = {
    sessionId: 'session-1',
    children: () => Promise.resolve(['item-0000000001']),
    exists: () => Promise.resolve(null),
    get: () => Promise.resolve(ITEM),
    delete: () => Promise.resolve(),
    multi: () => {
      const answer = answers[multis++]
      return answer === undefined ? Promise.reject(new Error('SPUN: the claim was retried at once')) : answer()
    },
  } as unknown as MeshCore
  return { mesh, multis: () => multis }
}

describe('queue claim under NO_QUORUM', () => {
  it('a claim never sent (NO_QUORUM, no outcome) fails the take, once', async () => {
    const never = () => Promise.reject(new MeshError('NO_QUORUM', 'no quorum in reach: the write was not sent'))
    const { mesh, multis } = meshAnswering(Array.from({ length: 1000 }, () => never))
    const err = await queue(mesh, '/q').take().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MeshError)
    expect((err as MeshError).code).toBe('NO_QUORUM')
    expect(multis()).toBe(1)
  })

  it('a claim whose outcome is unknown is asked again', async () => {
    const unknown = () => Promise.reject(new MeshError('NO_QUORUM', 'gave up', { outcome: 'unknown' }))
    const ok = () => Promise.resolve([{ op: 'delete' }, { op: 'create', path: '/q/receipt' }])
    const { mesh, multis } = meshAnswering([unknown, ok])
    const node = await queue(mesh, '/q').take()
    expect(node.text()).toBe('\u0001')
    expect(multis()).toBe(2)
  })
})
