// Replay protection: each (sender, boot, counter) is accepted once; counters
// that fell below the sliding window are refused.
import { describe, expect, it } from 'vitest'
import { BOOT_ID_BYTES, MAX_BOOTS_PER_SENDER, REPLAY_WINDOW, ReplayGuard, ReplayWindow, SealCounter } from '../../src/wire/replay'
import { expectWireError } from './helpers'

const boot = (n: number) => new Uint8Array(BOOT_ID_BYTES).fill(n)

describe('SealCounter', () => {
  it('counts from 1 under a random boot id', () => {
    const a = new SealCounter()
    const b = new SealCounter()
    expect([a.take(), a.take(), a.take()]).toEqual([1, 2, 3])
    expect(a.boot.length).toBe(BOOT_ID_BYTES)
    expect(a.boot).not.toEqual(b.boot)
  })
})

describe('ReplayWindow', () => {
  it('accepts each counter once, in order or not', () => {
    const w = new ReplayWindow()
    for (const c of [1, 2, 5, 3, 4, 9]) w.accept(boot(1), c)
    for (const c of [1, 2, 3, 4, 5, 9]) expectWireError(() => w.accept(boot(1), c), 'BAD_MESSAGE', /^replay$/)
    w.accept(boot(1), 6)
  })

  it('slides: a counter more than REPLAY_WINDOW below the highest is refused, one just inside is not', () => {
    const w = new ReplayWindow()
    w.accept(boot(1), 1)
    w.accept(boot(1), 10 + REPLAY_WINDOW)
    expectWireError(() => w.accept(boot(1), 10), 'BAD_MESSAGE', /replay/)
    w.accept(boot(1), 11) // never seen, still inside the window
    expectWireError(() => w.accept(boot(1), 11), 'BAD_MESSAGE', /replay/)
  })

  it('a jump larger than the window forgets nothing it should remember', () => {
    const w = new ReplayWindow()
    w.accept(boot(1), 5)
    w.accept(boot(1), 5 + 3 * REPLAY_WINDOW)
    expectWireError(() => w.accept(boot(1), 5 + 3 * REPLAY_WINDOW), 'BAD_MESSAGE', /replay/)
    // slots reused by the jump were cleared: counters inside the new window are fresh
    w.accept(boot(1), 5 + 3 * REPLAY_WINDOW - 1)
  })

  it('a new boot starts a fresh window; the old boot keeps its own', () => {
    const w = new ReplayWindow()
    w.accept(boot(1), 1)
    w.accept(boot(2), 1)
    expectWireError(() => w.accept(boot(1), 1), 'BAD_MESSAGE', /replay/)
    expectWireError(() => w.accept(boot(2), 1), 'BAD_MESSAGE', /replay/)
  })

  it('a boot pushed out by MAX_BOOTS_PER_SENDER newer ones is refused for good', () => {
    const w = new ReplayWindow()
    for (let b = 1; b <= MAX_BOOTS_PER_SENDER + 1; b++) w.accept(boot(b), 1)
    expectWireError(() => w.accept(boot(1), 2), 'BAD_MESSAGE', /replay/)
    w.accept(boot(MAX_BOOTS_PER_SENDER + 1), 2)
  })

  it('counter 0 is never valid', () => {
    expectWireError(() => new ReplayWindow().accept(boot(1), 0), 'BAD_MESSAGE', /≥ 1/)
  })
})

describe('ReplayGuard', () => {
  it('keeps senders apart', () => {
    const g = new ReplayGuard()
    g.accept('m1', boot(1), 1)
    g.accept('m2', boot(1), 1)
    expectWireError(() => g.accept('m1', boot(1), 1), 'BAD_MESSAGE', /replay/)
  })
})
