// Attack (issue 13): a signal nested thousands deep. The signaling server and
// the WebSocket client already refuse such frames (signaling-deep-json,
// signaling-hostile-server); the same payload reaches a member two more ways
// — relayed over a link by a linked peer (a `relay` control message carrying
// JSON text) and posted by a same-origin tab over BroadcastChannel (a
// structured object) — and parseSignal's JSON.stringify threw RangeError
// inside the async signal handler: an unhandled rejection, which exits a Node
// member. Now the member drops it as BAD_MESSAGE and keeps its links.
import { afterEach, expect, it } from 'vitest'
import { encodeControl } from '../../src/transport/control'
import { controlFrame } from '../../src/transport/framing'
import { parseSignal } from '../../src/transport/signal-parse'
import { FakePeerNet } from '../transport/fake-peers'
import { MemorySignalingHub } from '../transport/memory-signaling'
import { id, MeshRig, sig } from '../transport/mesh-rig'

const DEPTH = 200_000

function deepText(depth: number): string {
  return `{"a":"${'ab'.repeat(12)}","k":"sdp","s":{"type":"offer","sdp":"x","x":${'['.repeat(depth)}${']'.repeat(depth)}}}`
}

function deepObject(depth: number): Record<string, unknown> {
  let inner: unknown = []
  for (let i = 0; i < depth; i++) inner = [inner]
  return { a: 'ab'.repeat(12), k: 'sdp', s: { type: 'offer', sdp: 'x', x: inner } }
}

let rig: MeshRig | null = null
afterEach(() => {
  rig?.closeAll()
  rig = null
})

it('parseSignal refuses a payload nested past the engine\'s stack, without throwing', () => {
  expect(() => parseSignal(deepObject(DEPTH))).not.toThrow()
  expect(parseSignal(deepObject(DEPTH))).toBeNull()
})

it('a same-origin tab posts a signal nested 200,000 deep (a structured object, as BroadcastChannel delivers it): dropped as BAD_MESSAGE, no unhandled rejection, the link stays', async () => {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => void unhandled.push(err)
  process.on('unhandledRejection', onUnhandled)
  try {
    const hub = new MemorySignalingHub()
    rig = new MeshRig(hub, new FakePeerNet())
    const { a } = await rig.victimLinkedToAttacker({ connectTimeoutMs: 300 })
    hub.injectObject('x001/t', sig('a'), deepObject(DEPTH))
    await expect.poll(() => a.errors.some((e) => e.code === 'BAD_MESSAGE')).toBe(true)
    await new Promise((r) => setTimeout(r, 50))
    expect(unhandled).toEqual([])
    expect(a.t.links().has(id('m'))).toBe(true)
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})

// the largest relay text (12 KB) nests too shallow to break stringify here; kept as a guard
it('a linked peer relays a signal nested 5,900 deep (12 KB of JSON text): dropped as BAD_MESSAGE, no unhandled rejection', async () => {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => void unhandled.push(err)
  process.on('unhandledRejection', onUnhandled)
  try {
    rig = new MeshRig(new MemorySignalingHub(), new FakePeerNet())
    const { a, mPeer } = await rig.victimLinkedToAttacker({ connectTimeoutMs: 300 })
    mPeer.inject(controlFrame(encodeControl({ type: 'relay', to: sig('a'), from: 'x001/t', text: deepText(5_900) })))
    await expect.poll(() => a.errors.some((e) => e.code === 'BAD_MESSAGE')).toBe(true)
    await new Promise((r) => setTimeout(r, 50))
    expect(unhandled).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})
