// Attack (issue 13): out-of-range options. `sessionTimeoutMs` of 0, -1, NaN,
// 1.5, 2^31 or Infinity gave a 10 s TIMEOUT or a call that never settled;
// `joinMeshFromNode({ storage: 'memory' })` threw a plain TypeError. Every
// option of every entry point, and every option of an API call, is refused
// with a MeshError BAD_ARGUMENTS that names the option — before anything is
// opened, queued or scheduled.
import { describe, expect, it } from 'vitest'
import { joinMesh } from '../../src/browser/join'
import { startMesh } from '../../src/client/assemble'
import type { Mesh } from '../../src/shared/types'
import { joinMeshFromNode } from '../../src/node/node-runtime'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { createSimulatedCluster } from '../../src/testing/index'
import { MemoryHub } from '../../src/transport/memory-transport'
import { stableCluster } from './arguments-cluster'

/** numbers no count or duration accepts */
const BAD_NUMBERS: unknown[] = [0, -1, Number.NaN, 1.5, 2 ** 31, Number.POSITIVE_INFINITY, '5000', null]
/** numbers no count accepts (0 is refused too) */
const BAD_COUNTS: unknown[] = [0, -1, Number.NaN, 1.5, 2 ** 31, Number.POSITIVE_INFINITY, '3']

type Case = [option: string, value: unknown]
const numberCases = (option: string, values = BAD_NUMBERS): Case[] => values.map((v) => [option, v])

/** a member's settings, shared by every entry point */
const MEMBER_SETTINGS: Case[] = [
  ...numberCases('sessionTimeoutMs'),
  ...numberCases('maxVoters', BAD_COUNTS),
  ['timing', 'fast'],
  ['timing', { tickMs: 0 }],
  ['timing', { retryMs: Number.NaN }],
  ['timing', { requestTimeoutMs: 2 ** 31 }],
  ['timing', { electionTicks: 1.5 }],
]

/** the settings expressed as options of an entry point: `timing` as given, the rest at the top level */
const withSetting = (base: Record<string, unknown>, [option, value]: Case): Record<string, unknown> => ({ ...base, [option]: value })

/** what a call that should have been refused did instead */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    const value = await run()
    // it was accepted: close what it opened, and say so
    if (typeof value === 'object' && value !== null && 'close' in value) await (value as Mesh).close().catch(() => {})
    return { accepted: value }
  } catch (err) {
    return err
  }
}

const refusal = (option: string) => expect.objectContaining({ name: 'MeshError', code: 'BAD_ARGUMENTS', message: expect.stringContaining(option) })

const display = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v))

describe('attack: out-of-range options are refused with BAD_ARGUMENTS', () => {
  describe('startMesh', () => {
    it.each(MEMBER_SETTINGS.map((c) => [c[0], display(c[1]), c] as const))('%s: %s', async (option, _shown, c) => {
      const hub = new MemoryHub()
      const hello = { member: 'a1', tab: 't1', browser: 'b1' }
      const storage = await new MemoryStorageProvider().open('room', 'a1')
      const opts = withSetting({ hello, storage, transport: hub.connect(hello), bootstrap: true, seed: 1 }, c)
      expect(await outcome(() => startMesh(opts as never))).toEqual(refusal(option))
    })

    it.each([
      ['seed', -1],
      ['seed', 1.5],
      ['seed', 'x'],
      ['random', 0.5],
      ['bootstrap', 'yes'],
      ['bootstrapVoters', 'a1'],
    ] as Case[])('%s: %s', async (option, value) => {
      const hub = new MemoryHub()
      const hello = { member: 'a1', tab: 't1', browser: 'b1' }
      const storage = await new MemoryStorageProvider().open('room', 'a1')
      const opts = { hello, storage, transport: hub.connect(hello), bootstrap: true, seed: 1, [option]: value }
      expect(await outcome(() => startMesh(opts as never))).toEqual(refusal(option))
    })
  })

  describe('joinMeshFromNode', () => {
    const base = { room: 'r', signaling: 'ws://127.0.0.1:9/signal', wrtc: {} }
    it.each([
      ...MEMBER_SETTINGS.filter(([o]) => o !== 'timing'),
      ['storage', 'memory'],
      ['storage', {}],
      ['signaling', 5],
      ['signaling', []],
      ['signaling', ['ws://x', 5]],
      ['wrtc', undefined],
      ['secret', 42],
      ['member', ''],
      ['member', 7],
      ['browser', 7],
      ['bootstrap', 'yes'],
      ['iceServers', 'stun:stun.example.org'],
      ['room', ''],
    ] as Case[])('%s: %s', async (option, value) => {
      const result = await outcome(() => joinMeshFromNode({ ...base, [option]: value } as never))
      expect(result).toEqual(refusal(option))
      if (option === 'storage' && value === 'memory') expect((result as Error).message).toMatch(/StorageProvider/)
    })
  })

  describe('joinMesh', () => {
    // a lock manager that is never reached: the options are refused first
    const locks = {
      request: () => Promise.reject(new Error('the lock manager was reached')),
      query: () => Promise.resolve({ held: [], pending: [] }),
    }
    const base = { room: 'r', locks }
    it.each([
      ...MEMBER_SETTINGS.filter(([o]) => o !== 'timing'),
      ['storage', 'disk'],
      ['durability', 'sometimes'],
      ['signaling', 5],
      ['signaling', []],
      ['secret', 42],
      ['iceServers', 'stun:stun.example.org'],
      ['graceMs', -1],
      ['graceMs', Number.NaN],
    ] as Case[])('%s: %s', async (option, value) => {
      expect(await outcome(() => joinMesh({ ...base, [option]: value } as never))).toEqual(refusal(option))
    })
  })

  describe('createSimulatedCluster', () => {
    it.each([
      ...MEMBER_SETTINGS,
      ['members', 0],
      ['members', 1.5],
      ['seed', Number.NaN],
      ['seed', 1.5],
      ['seed', 'x'],
      ['latencyMs', [5, 1]],
      ['latencyMs', [-1, 2]],
      ['latencyMs', 'fast'],
      ['diskLatencyMs', [Number.NaN, 1]],
      ['maxWaitMs', 0],
      ['maxWaitMs', Number.NaN],
      ['bootstrap', 'other'],
      ['founders', [7]],
      ['founders', 'all'],
      ['browsers', 'b1'],
    ] as Case[])('%s: %s', (option, value) => {
      let thrown: unknown = null
      try {
        const cluster = createSimulatedCluster({ [option]: value } as never)
        void cluster.close()
      } catch (err) {
        thrown = err
      }
      expect(thrown).toEqual(refusal(option))
    })
  })

  describe('API call options', () => {
    const calls: Array<[string, string, (m: Mesh) => Promise<unknown>]> = [
      ...BAD_NUMBERS.filter((v) => v !== 2 ** 31).map((v): [string, string, (m: Mesh) => Promise<unknown>] => ['ttlMs', display(v), (m) => m.create('/t', '', { mode: 'ttl', ttlMs: v as number })]),
      ['ttlMs', '2^40', (m) => m.create('/t', '', { mode: 'ttl', ttlMs: 2 ** 40 })],
      ['ttlMs', 'on a persistent node', (m) => m.create('/t', '', { ttlMs: 1_000 })],
      ...[-2, Number.NaN, 1.5, 2 ** 31, Number.POSITIVE_INFINITY, '1', null].flatMap((v): Array<[string, string, (m: Mesh) => Promise<unknown>]> => [
        ['version', `set ${display(v)}`, (m) => m.set('/x', '', { version: v as number })],
        ['version', `delete ${display(v)}`, (m) => m.delete('/x', { version: v as number })],
        ['version', `multi check ${display(v)}`, (m) => m.multi([{ op: 'check', path: '/x', version: v as number }])],
      ]),
      ['mode', 'bogus', (m) => m.create('/t', '', { mode: 'bogus' as never })],
      ['fence token', '-1', (m) => m.set('/x', '', { fence: { path: '/x', token: -1 } as never })],
      ...[-1, Number.NaN, 2 ** 31, Number.POSITIVE_INFINITY].map((v): [string, string, (m: Mesh) => Promise<unknown>] => [
        'timeoutMs',
        `lock acquire ${display(v)}`,
        (m) => m.lock('/lock').acquire({ timeoutMs: v }),
      ]),
      ['data', 'a number', (m) => m.set('/x', 5 as never)],
      ['watch', 'not a function', (m) => m.get('/x', { watch: 'yes' as never })],
      ['linearizable', 'get "yes"', (m) => m.get('/x', { linearizable: 'yes' as never })],
      ['linearizable', 'children 1', (m) => m.children('/x', { linearizable: 1 as never })],
      ['recursive', 'watch "yes"', async (m) => m.watch('/x', () => {}, { recursive: 'yes' as never })],
      ['options', 'get null', (m) => m.get('/x', null as never)],
    ]
    it.each(calls)('%s: %s', async (option, _shown, call) => {
      const { cluster, follower } = await stableCluster(7)
      await follower.create('/x', 'x')
      // every replica applies the create (a reply needs only a quorum's)
      await cluster.advance(1_000)
      const before = [...cluster.digests().values()]
      expect(await outcome(() => call(follower))).toEqual(refusal(option.split(' ')[0]!))
      await cluster.advance(5_000)
      expect([...cluster.digests().values()]).toEqual(before)
      await cluster.close()
    })
  })
})
