// The link frame: version, room binding, kind, sender, and sealing under the
// room secret with replay protection and link binding.
import { beforeAll, describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope, ENVELOPE_KIND, MAX_ENVELOPE_KIND, openEnvelope, sealEnvelope, WIRE_VERSION } from '../../src/wire/envelope'
import type { Envelope } from '../../src/wire/envelope'
import { MAX_MESSAGE_BYTES } from '../../src/wire/limits'
import { createChallenge, linkBinding } from '../../src/wire/membership-proof'
import { ReplayGuard, SealCounter } from '../../src/wire/replay'
import { deriveRoomKey, roomTag } from '../../src/wire/room-key'
import type { RoomKey } from '../../src/wire/room-key'
import { bytes, expectWireError, expectWireErrorAsync } from './helpers'

const room = roomTag('room-a')
const plain = (fields: Partial<Envelope> = {}): Envelope => ({ room, kind: ENVELOPE_KIND.raft, sender: 'm1', seal: null, body: bytes(1, 2, 3), ...fields })

describe('envelope', () => {
  it('round-trips plain and sealed-header frames', () => {
    const a = plain()
    expect(decodeEnvelope(encodeEnvelope(a), room)).toEqual(a)
    const b = plain({ kind: MAX_ENVELOPE_KIND, seal: { boot: new Uint8Array(8).fill(9), counter: 300 }, body: new Uint8Array(0) })
    expect(decodeEnvelope(encodeEnvelope(b))).toEqual(b)
  })

  it('starts with the version byte; another version is UNSUPPORTED_VERSION', () => {
    const f = encodeEnvelope(plain())
    expect(f[0]).toBe(WIRE_VERSION)
    const v2 = f.slice()
    v2[0] = 2
    expectWireError(() => decodeEnvelope(v2), 'UNSUPPORTED_VERSION', /wire version 2/)
  })

  it('a frame of another room is BAD_MESSAGE', () => {
    expectWireError(() => decodeEnvelope(encodeEnvelope(plain()), roomTag('room-b')), 'BAD_MESSAGE', /another room/)
  })

  it('refuses kinds above MAX_ENVELOPE_KIND, unknown flags, bad senders, truncation, trailing bytes', () => {
    expectWireError(() => encodeEnvelope(plain({ kind: MAX_ENVELOPE_KIND + 1 })), 'BAD_MESSAGE', /kind/)
    const f = encodeEnvelope(plain())
    const kindAt = 1 + 8
    const bigKind = f.slice()
    bigKind[kindAt] = MAX_ENVELOPE_KIND + 1
    expectWireError(() => decodeEnvelope(bigKind), 'BAD_MESSAGE', /envelope kind/)
    const flags = f.slice()
    flags[kindAt + 1] = 2
    expectWireError(() => decodeEnvelope(flags), 'BAD_MESSAGE', /flags/)
    const sender = f.slice()
    sender[kindAt + 3] = 0x20 // 'm1' -> ' 1'
    expectWireError(() => decodeEnvelope(sender), 'BAD_MESSAGE', /sender/)
    for (let n = 0; n < f.length; n++) expectWireError(() => decodeEnvelope(f.slice(0, n)), 'BAD_MESSAGE')
    expectWireError(() => decodeEnvelope(new Uint8Array([...f, 0])), 'BAD_MESSAGE', /trailing/)
  })

  it('a frame over MAX_MESSAGE_BYTES is TOO_LARGE', () => {
    expectWireError(() => decodeEnvelope(new Uint8Array(MAX_MESSAGE_BYTES + 1)), 'TOO_LARGE')
  })
})

describe('sealed envelope', () => {
  let key: RoomKey
  let otherSecret: RoomKey
  let otherRoom: RoomKey
  beforeAll(async () => {
    ;[key, otherSecret, otherRoom] = await Promise.all([deriveRoomKey('s3cret', 'room-a'), deriveRoomKey('guess', 'room-a'), deriveRoomKey('s3cret', 'room-b')])
  })
  const body = new TextEncoder().encode('a raft message')

  it('opens to the plaintext with its authenticated header', async () => {
    const counter = new SealCounter()
    const frame = await sealEnvelope(key, { kind: ENVELOPE_KIND.node, sender: 'm1', body }, counter)
    const env = await openEnvelope(key, frame, new ReplayGuard())
    expect(env.body).toEqual(body)
    expect(env.sender).toBe('m1')
    expect(env.kind).toBe(ENVELOPE_KIND.node)
    expect(env.seal).toEqual({ boot: counter.boot, counter: 1 })
    expect(decodeEnvelope(frame, room).body).not.toEqual(body) // on the wire the body is sealed
  })

  it('wrong secret and wrong room are UNAUTHORIZED', async () => {
    const frame = await sealEnvelope(key, { kind: 0, sender: 'm1', body }, new SealCounter())
    await expectWireErrorAsync(() => openEnvelope(otherSecret, frame, new ReplayGuard()), 'UNAUTHORIZED')
    await expectWireErrorAsync(() => openEnvelope(otherRoom, frame, new ReplayGuard()), 'UNAUTHORIZED')
  })

  it('a plain frame is UNAUTHORIZED where the room has a secret', async () => {
    await expectWireErrorAsync(() => openEnvelope(key, encodeEnvelope(plain()), new ReplayGuard()), 'UNAUTHORIZED', /plain frame/)
  })

  it('any flipped bit of a sealed frame is refused (UNAUTHORIZED, or BAD_MESSAGE when the header no longer parses)', async () => {
    const frame = await sealEnvelope(key, { kind: 0, sender: 'm1', body: bytes(5) }, new SealCounter())
    for (let i = 0; i < frame.length; i++) {
      const bad = frame.slice()
      bad[i] = (bad[i] as number) ^ (1 << i % 8)
      let code: string | undefined
      await openEnvelope(key, bad, new ReplayGuard()).catch((e: { code?: string }) => (code = e.code))
      expect(['UNAUTHORIZED', 'BAD_MESSAGE', 'UNSUPPORTED_VERSION'], `bit flip at byte ${i}`).toContain(code)
    }
  })

  it('a changed sender or kind in the header does not open (the header is authenticated)', async () => {
    const frame = await sealEnvelope(key, { kind: 0, sender: 'm1', body }, new SealCounter())
    const spoofed = frame.slice()
    spoofed[1 + 8 + 1 + 1 + 1 + 1] = '2'.charCodeAt(0) // 'm1' -> 'm2'
    expect(decodeEnvelope(spoofed).sender).toBe('m2')
    await expectWireErrorAsync(() => openEnvelope(key, spoofed, new ReplayGuard()), 'UNAUTHORIZED')
    const rekinded = frame.slice()
    rekinded[1 + 8] = ENVELOPE_KIND.node
    await expectWireErrorAsync(() => openEnvelope(key, rekinded, new ReplayGuard()), 'UNAUTHORIZED')
  })

  it('a replayed frame is BAD_MESSAGE replay', async () => {
    const guard = new ReplayGuard()
    const counter = new SealCounter()
    const first = await sealEnvelope(key, { kind: 0, sender: 'm1', body }, counter)
    const second = await sealEnvelope(key, { kind: 0, sender: 'm1', body }, counter)
    await openEnvelope(key, first, guard)
    await openEnvelope(key, second, guard)
    await expectWireErrorAsync(() => openEnvelope(key, first, guard), 'BAD_MESSAGE', /^replay$/)
  })

  it('a forged frame does not move the replay window', async () => {
    const guard = new ReplayGuard()
    const counter = new SealCounter()
    const real = await sealEnvelope(key, { kind: 0, sender: 'm1', body }, counter)
    // same boot, a later counter, sealed under a wrong key: refused, and the real frame still opens
    const forgedCounter = new SealCounter(counter.boot)
    for (let i = 0; i < 5; i++) forgedCounter.take()
    await expectWireErrorAsync(async () => openEnvelope(key, await sealEnvelope(otherSecret, { kind: 0, sender: 'm1', body }, forgedCounter), guard), 'UNAUTHORIZED')
    expect((await openEnvelope(key, real, guard)).body).toEqual(body)
  })

  it('a frame sealed for one link does not open on another (link binding)', async () => {
    const linkA = linkBinding(createChallenge(), createChallenge())
    const linkB = linkBinding(createChallenge(), createChallenge())
    const frame = await sealEnvelope(key, { kind: 0, sender: 'm1', body }, new SealCounter(), linkA)
    await expectWireErrorAsync(() => openEnvelope(key, frame, new ReplayGuard(), linkB), 'UNAUTHORIZED')
    expect((await openEnvelope(key, frame, new ReplayGuard(), linkA)).body).toEqual(body)
  })
})
