// A link under a room secret end to end: the proof handshake, then sealed
// frames in order, replays and foreign frames refused.
import { beforeAll, describe, expect, it } from 'vitest'
import type { Envelope } from '../../src/wire/envelope'
import { ENVELOPE_KIND, sealEnvelope } from '../../src/wire/envelope'
import type { WireError } from '../../src/wire/errors'
import { LinkSecurity, MAX_EARLY_FRAMES } from '../../src/wire/link-security'
import { linkBinding } from '../../src/wire/membership-proof'
import { ReplayGuard, SealCounter } from '../../src/wire/replay'
import { deriveRoomKey } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { expectWireErrorAsync } from './helpers'

let key: RoomKey
let stranger: RoomKey
beforeAll(async () => {
  ;[key, stranger] = await Promise.all([deriveRoomKey('s3cret', 'room'), deriveRoomKey('guess', 'room')])
})

interface End {
  sec: LinkSecurity
  frames: Uint8Array[]
  received: Envelope[]
  errors: WireError[]
}

function end(k: RoomKey, self: string): End {
  const e: End = { sec: new LinkSecurity(k, self, new SealCounter(), new ReplayGuard()), frames: [], received: [], errors: [] }
  e.sec.onFrame = (f) => e.frames.push(f)
  e.sec.onEnvelope = (env) => e.received.push(env)
  e.sec.onError = (err) => e.errors.push(err)
  return e
}

/** Both hellos cross, both proofs cross, both sides accept. */
async function handshake(a: End, aId: string, b: End, bId: string): Promise<void> {
  const proofA = await a.sec.prove(bId, b.sec.challenge)
  const proofB = await b.sec.prove(aId, a.sec.challenge)
  await Promise.all([a.sec.accept(proofB), b.sec.accept(proofA)])
}

describe('LinkSecurity', () => {
  it('after the handshake, frames arrive opened and in the order they were sealed', async () => {
    const a = end(key, 'm1')
    const b = end(key, 'm2')
    await handshake(a, 'm1', b, 'm2')
    expect([a.sec.state, b.sec.state]).toEqual(['open', 'open'])
    const bodies = Array.from({ length: 50 }, (_, i) => new Uint8Array((i * 37) % 300).fill(i))
    for (const body of bodies) a.sec.seal(ENVELOPE_KIND.node, body)
    await a.sec.flush()
    expect(a.frames.length).toBe(50)
    for (const f of a.frames) b.sec.open(f)
    await b.sec.flush()
    expect(b.errors).toEqual([])
    expect(b.received.map((e) => e.body)).toEqual(bodies)
    expect(b.received.map((e) => e.seal?.counter)).toEqual(bodies.map((_, i) => i + 1))
  })

  it('a peer without the secret fails the handshake and can send nothing', async () => {
    const a = end(key, 'm1')
    const mallory = end(stranger, 'm2')
    const proofM = await mallory.sec.prove('m1', a.sec.challenge)
    await a.sec.prove('m2', mallory.sec.challenge)
    await expectWireErrorAsync(() => a.sec.accept(proofM), 'UNAUTHORIZED')
    expect(a.sec.state).toBe('failed')
    a.sec.open(new Uint8Array([1, 2, 3]))
    await a.sec.flush()
    expect(a.errors.map((e) => e.code)).toEqual(['UNAUTHORIZED'])
    expect(() => a.sec.seal(0, new Uint8Array(1))).toThrow(/not proven/)
  })

  it('frames that arrive while the proof is being verified wait, then open in order', async () => {
    const a = end(key, 'm1')
    const b = end(key, 'm2')
    const proofA = await a.sec.prove('m2', b.sec.challenge)
    const proofB = await b.sec.prove('m1', a.sec.challenge)
    await b.sec.accept(proofA) // b is open and sends at once
    b.sec.seal(0, new Uint8Array([1]))
    b.sec.seal(0, new Uint8Array([2]))
    await b.sec.flush()
    for (const f of b.frames) a.sec.open(f) // a has not accepted yet
    await a.sec.accept(proofB)
    await a.sec.flush()
    expect(a.received.map((e) => [...e.body])).toEqual([[1], [2]])
  })

  it('no more than MAX_EARLY_FRAMES wait', async () => {
    const a = end(key, 'm1')
    for (let i = 0; i <= MAX_EARLY_FRAMES; i++) a.sec.open(new Uint8Array([i & 0xff]))
    expect(a.errors.map((e) => e.code)).toEqual(['TOO_LARGE'])
  })

  it('a replayed frame is dropped with BAD_MESSAGE replay; the link goes on', async () => {
    const a = end(key, 'm1')
    const b = end(key, 'm2')
    await handshake(a, 'm1', b, 'm2')
    a.sec.seal(0, new Uint8Array([1]))
    a.sec.seal(0, new Uint8Array([2]))
    await a.sec.flush()
    const [first, second] = a.frames as [Uint8Array, Uint8Array]
    b.sec.open(first)
    b.sec.open(first)
    b.sec.open(second)
    await b.sec.flush()
    expect(b.errors.map((e) => e.reason)).toEqual(['replay'])
    expect(b.received.map((e) => [...e.body])).toEqual([[1], [2]])
  })

  it('a frame from another link between the same members does not open', async () => {
    const a1 = end(key, 'm1')
    const b1 = end(key, 'm2')
    const b2 = end(key, 'm2')
    const a2 = end(key, 'm1')
    await handshake(a1, 'm1', b1, 'm2')
    await handshake(a2, 'm1', b2, 'm2')
    a1.sec.seal(0, new Uint8Array([7]))
    await a1.sec.flush()
    b2.sec.open(a1.frames[0] as Uint8Array)
    await b2.sec.flush()
    expect(b2.errors.map((e) => e.code)).toEqual(['UNAUTHORIZED'])
    expect(b2.received).toEqual([])
  })

  it('a member of the room cannot speak for another member on this link', async () => {
    const a = end(key, 'm1')
    const b = end(key, 'm2')
    await handshake(a, 'm1', b, 'm2')
    // m3 holds the key and somehow learned this link's binding: its frame names m3, not the peer m2
    const forged = await sealEnvelope(key, { kind: 0, sender: 'm3', body: new Uint8Array([9]) }, new SealCounter(), linkBinding(a.sec.challenge, b.sec.challenge))
    a.sec.open(forged)
    await a.sec.flush()
    expect(a.errors.map((e) => e.reason)).toEqual(['frame from m3 on the link of m2'])
  })
})

describe('LinkSecurity callbacks', () => {
  it('a callback that throws does not stop the frames after it, and is reported', async () => {
    const a = end(key, 'm1')
    const b = end(key, 'm2')
    await handshake(a, 'm1', b, 'm2')
    const thrown: unknown[] = []
    b.sec.onCallbackError = (err) => thrown.push(err)
    b.sec.onEnvelope = (env) => {
      if (env.body[0] === 1) throw new Error('app bug')
      b.received.push(env)
    }
    for (const n of [1, 2, 3]) a.sec.seal(0, new Uint8Array([n]))
    await a.sec.flush()
    for (const f of a.frames) b.sec.open(f)
    await b.sec.flush()
    expect(b.received.map((e) => e.body[0])).toEqual([2, 3])
    expect(thrown.map(String)).toEqual(['Error: app bug'])
  })
})
