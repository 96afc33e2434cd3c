// Replay protection for sealed frames. A sealed frame carries, in its
// authenticated header, (sender, boot, counter): `boot` is 8 random bytes a
// sender picks when it starts, `counter` counts its frames from 1. A
// receiver keeps, per sender and boot, the highest counter seen and which of
// the WINDOW counters below it arrived, and refuses a frame it has seen or
// one too old to tell (WireError BAD_MESSAGE, reason 'replay').
//
// What must stay true: accept() is called only after the frame opened under
// the room key, so forged counters cannot move a window; and a counter is
// accepted at most once per (sender, boot).
//
// Limit: each sender's last MAX_BOOTS_PER_SENDER boots are remembered; a
// frame from an older boot is refused as a replay (a sender never goes back
// to an old boot). Frames recorded on one link and replayed on another
// are stopped by the link binding (envelope.ts), not by this window.
import { toHexString } from 'lib0/buffer'
import { badMessage } from './errors'
import { MAX_WIRE_UINT } from './limits'

/** How far behind the highest counter a frame may arrive out of order. Our
 *  links are ordered, so this only absorbs a reconnect's resend. */
export const REPLAY_WINDOW = 1024
export const BOOT_ID_BYTES = 8
export const MAX_BOOTS_PER_SENDER = 4

/** The sending side: a random boot id and the next counter. One per process
 *  (tab) and member; never reset the counter without a new boot id. */
export class SealCounter {
  readonly boot: Uint8Array
  private next = 1

  constructor(boot: Uint8Array = globalThis.crypto.getRandomValues(new Uint8Array(BOOT_ID_BYTES))) {
    if (boot.length !== BOOT_ID_BYTES) throw badMessage(`boot id must be ${BOOT_ID_BYTES} bytes`)
    this.boot = boot.slice()
  }

  /** The counter for the next frame: 1, 2, 3, ... */
  take(): number {
    if (this.next > MAX_WIRE_UINT) throw badMessage('seal counter exhausted: start a new boot')
    return this.next++
  }
}

/** One boot's sliding window: `top` is the highest counter accepted, and
 *  seen[c % REPLAY_WINDOW] marks counters in (top - REPLAY_WINDOW, top]. */
class BootWindow {
  top = 0
  readonly seen = new Uint8Array(REPLAY_WINDOW)

  accept(counter: number): void {
    if (counter > this.top) {
      // clear the slots of counters skipped over, then slide
      const skip = Math.min(counter - this.top, REPLAY_WINDOW)
      for (let c = counter - skip + 1; c <= counter; c++) this.seen[c % REPLAY_WINDOW] = 0
      this.top = counter
      this.seen[counter % REPLAY_WINDOW] = 1
      return
    }
    if (counter <= this.top - REPLAY_WINDOW) throw badMessage('replay')
    if (this.seen[counter % REPLAY_WINDOW] === 1) throw badMessage('replay')
    this.seen[counter % REPLAY_WINDOW] = 1
  }
}

/** One sender's windows, for its most recent boots. */
export class ReplayWindow {
  private readonly boots = new Map<string, BootWindow>()
  /** boots that fell out of `boots`: their frames are refused forever */
  private readonly retired = new Set<string>()

  /** Accept (sender's) frame (boot, counter) once; throws BAD_MESSAGE 'replay' otherwise. */
  accept(boot: Uint8Array, counter: number): void {
    if (!Number.isInteger(counter) || counter < 1) throw badMessage('replay counter must be ≥ 1')
    const key = toHexString(boot)
    let w = this.boots.get(key)
    if (w === undefined) {
      if (this.retired.has(key)) throw badMessage('replay')
      w = new BootWindow()
      w.accept(counter)
      this.boots.set(key, w)
      if (this.boots.size > MAX_BOOTS_PER_SENDER) {
        const oldest = this.boots.keys().next().value!
        this.boots.delete(oldest)
        this.retired.add(oldest)
      }
      return
    }
    w.accept(counter)
    // most recently used last, so eviction takes the stalest boot
    this.boots.delete(key)
    this.boots.set(key, w)
  }
}

/** Windows for every sender a receiver hears from. */
export class ReplayGuard {
  private readonly senders = new Map<string, ReplayWindow>()

  accept(sender: string, boot: Uint8Array, counter: number): void {
    let w = this.senders.get(sender)
    if (w === undefined) {
      w = new ReplayWindow()
      this.senders.set(sender, w)
    }
    w.accept(boot, counter)
  }

  /** Forget a sender that left the room for good. */
  forget(sender: string): void {
    this.senders.delete(sender)
  }
}
