// Invariant 7 (one code path): MeshTransport's own timers — the connect
// timeout of an attempt, the backoff before the next — run on the clock it
// is given, its jitter comes from the random it is given, and its ids and
// nonces from the randomBytes it is given, so a simulator can drive it on
// virtual time and a seed; so do the signaling channels' timers (WebSocket
// reconnect and ping, BroadcastChannel's repeated 'hi'). (The stand-in peers
// and the memory hub of this test still deliver on real zero timers.)
// test/transport/injected-globals.test.ts keeps the folder free of globals.
import { afterEach, expect, it } from 'vitest'
import type { Clock } from '../../src/shared/clock'
import { BroadcastChannelSignaling } from '../../src/transport/broadcast-channel-signaling'
import { SignalFreshness } from '../../src/transport/signal-freshness'
import { WebSocketSignaling } from '../../src/transport/websocket-signaling'
import type { WebSocketLike } from '../../src/transport/websocket-signaling'
import { FakePeerNet } from './fake-peers'
import { MemorySignalingHub } from './memory-signaling'
import { MeshRig, sig } from './mesh-rig'
import { roomKeys } from './room-keys'

/** a clock that only moves when the test says so */
class ManualClock implements Clock {
  ms = 0
  private seq = 0
  readonly timers = new Map<number, { at: number; fn: () => void }>()
  now = () => this.ms
  setTimeout = (fn: () => void, ms: number) => {
    this.timers.set(++this.seq, { at: this.ms + ms, fn })
    return this.seq
  }
  clearTimeout = (handle: unknown) => void this.timers.delete(handle as number)
  /** move to the next timer and run it */
  step(): void {
    const [id, next] = [...this.timers].sort((x, y) => x[1].at - y[1].at)[0]!
    this.timers.delete(id)
    this.ms = next.at
    next.fn()
  }
}

let rig: MeshRig | undefined
afterEach(() => {
  rig?.closeAll()
  rig = undefined
})

/** bytes that are all `byte`: what a seeded source would hand out, easy to recognise */
const bytesOf = (byte: number) => (n: number) => new Uint8Array(n).fill(byte)

it('an unanswered attempt times out and is retried on the injected clock, with the injected jitter', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const clock = new ManualClock()
  const jitter: number[] = []
  const random = () => {
    jitter.push(0.5)
    return 0.5
  }
  const ghost = hub.channel()
  ghost.join('room', 'z/t') // announced on signaling, but nobody answers behind it
  const a = rig.start('a', { clock, random, connectTimeoutMs: 5_000, backoffBaseMs: 100, backoffMaxMs: 1_000 })
  await expect.poll(() => a.peersMade()).toBe(1)
  // the attempt's connect timeout is the only timer, on our clock
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([5_000])
  clock.step()
  expect(a.inFlight()).toBe(0)
  // the retry: base 100 × 2^1 failures × (0.5 + 0.5/2) = 150 ms after the timeout
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([5_150])
  expect(jitter).toEqual([0.5])
  clock.step()
  expect(a.peersMade()).toBe(2)
  ghost.close()
})

it('attempt ids come from the injected randomBytes', async () => {
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  const ghost = hub.channel()
  ghost.join('room', 'z/t') // a initiates to it (the higher id); its offer names the attempt
  rig.start('a', { randomBytes: bytesOf(0xab) })
  await expect.poll(() => hub.log.find((s) => s.from === sig('a') && s.to === 'z/t' && s.data.k === 'sdp')?.data.a).toBe('ab'.repeat(12))
  ghost.close()
})

it("under a room key, the lobby's id comes from the injected randomBytes", async () => {
  const [key] = await roomKeys('room', 'secret')
  const hub = new MemorySignalingHub()
  rig = new MeshRig(hub, new FakePeerNet())
  rig.start('a', { roomKey: key!, randomBytes: bytesOf(0xcd) })
  await expect.poll(() => [...hub.members.keys()]).toContain(`lobby.${'cd'.repeat(16)}`)
})

it("a sealed signal's nonce comes from the injected randomBytes", () => {
  const freshness = new SignalFreshness(() => 42, {}, bytesOf(0x0f))
  expect(freshness.stamp()).toEqual({ t: 42, n: '0f'.repeat(16) })
})

/** a WebSocket stand-in: it opens (or fails) on the next microtask and records what is sent */
class StandInSocket implements WebSocketLike {
  static made: StandInSocket[] = []
  static opens = false
  readyState = 0
  readonly sent: string[] = []
  closed = false
  onopen: ((ev: never) => void) | null = null
  onclose: ((ev: never) => void) | null = null
  onerror: ((ev: never) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  constructor(readonly url: string) {
    StandInSocket.made.push(this)
    queueMicrotask(() => {
      this.readyState = StandInSocket.opens ? 1 : 3
      if (StandInSocket.opens) this.onopen?.(undefined as never)
      else this.onclose?.(undefined as never)
    })
  }
  send(data: string): void {
    this.sent.push(data)
  }
  close(): void {
    this.closed = true
    this.readyState = 3
  }
}

it('WebSocket signaling reconnects on the injected clock, with the injected jitter', async () => {
  StandInSocket.made = []
  StandInSocket.opens = false
  const clock = new ManualClock()
  const ch = new WebSocketSignaling('ws://nowhere', { WebSocket: StandInSocket, clock, random: () => 0.5, backoffBaseMs: 100, backoffMaxMs: 1_000 })
  ch.join('room', 'a/t')
  await expect.poll(() => clock.timers.size).toBe(1)
  // 100 × 2^0 × (0.5 + 0.5/2) = 75 ms after the failed open
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([75])
  clock.step()
  expect(StandInSocket.made).toHaveLength(2)
  await expect.poll(() => clock.timers.size).toBe(1)
  // the second failure: 100 × 2^1 × 0.75 = 150 ms later
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([225])
  ch.close()
  expect(clock.timers.size).toBe(0)
})

it('WebSocket signaling pings, and drops a silent socket, on the injected clock', async () => {
  StandInSocket.made = []
  StandInSocket.opens = true
  const clock = new ManualClock()
  const ch = new WebSocketSignaling('ws://quiet', { WebSocket: StandInSocket, clock, random: () => 0, pingIntervalMs: 1_000, silenceTimeoutMs: 2_500, backoffBaseMs: 100 })
  ch.join('room', 'a/t')
  await expect.poll(() => ch.connected).toBe(true)
  const socket = StandInSocket.made[0]!
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([1_000])
  clock.step()
  clock.step()
  expect(socket.sent.filter((m) => m === '{"type":"ping"}')).toHaveLength(2)
  // at 3 000 ms nothing was heard for longer than 2 500: the socket goes, a reconnect is due in 100 × 0.5
  clock.step()
  expect(socket.closed).toBe(true)
  expect([...clock.timers.values()].map((t) => t.at)).toEqual([3_050])
  ch.close()
})

it("BroadcastChannel signaling repeats its 'hi' on the injected clock", async () => {
  const clock = new ManualClock()
  const heard: unknown[] = []
  const listener = new BroadcastChannel('meshkeeper/injected-room')
  listener.onmessage = (ev: MessageEvent) => heard.push(ev.data)
  const ch = new BroadcastChannelSignaling(5_000, clock)
  try {
    ch.join('injected-room', 'a/t')
    await expect.poll(() => heard.length).toBe(1)
    expect([...clock.timers.values()].map((t) => t.at)).toEqual([5_000])
    clock.step()
    await expect.poll(() => heard.length).toBe(2)
    expect(heard[1]).toEqual({ t: 'hi', from: 'a/t' })
    expect([...clock.timers.values()].map((t) => t.at)).toEqual([10_000])
    ch.close()
    expect(clock.timers.size).toBe(0)
  } finally {
    ch.close()
    listener.close()
  }
})
