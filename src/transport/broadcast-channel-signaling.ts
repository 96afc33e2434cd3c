// Signaling between the tabs of one browser over BroadcastChannel (one
// channel per room: `meshkeeper/<room>`). Every message is broadcast; a
// message addressed to another peer is ignored.
//   { t: 'hi', from }            I joined: everyone answers 'here'
//   { t: 'here', from, to }      I am in the room too
//   { t: 'signal', from, to, data }
//   { t: 'bye', from }           I left
// 'hi' is repeated every `announceEveryMs` (a tab that crashed says no 'bye';
// peers forget whom they cannot reach, and the repeat brings the living back).
// BroadcastChannel only reaches same-origin contexts, but a buggy or old tab
// may still post anything: every field is checked.
// The repeat runs on the clock it is given (real time by default).
import { realClock } from '../shared/clock'
import type { Clock, TimerHandle } from '../shared/clock'
import { isPlainObject, Listeners, SIGNAL_ID_PATTERN } from './signaling'
import type { SignalData, SignalingChannel } from './signaling'

const validId = (x: unknown): x is string => typeof x === 'string' && SIGNAL_ID_PATTERN.test(x)

export class BroadcastChannelSignaling implements SignalingChannel {
  readonly name = 'broadcast'
  readonly sameBrowser = true
  private channel: BroadcastChannel | null = null
  private announcer: TimerHandle | null = null
  private self: string | null = null
  private readonly peers = new Listeners<[string, boolean]>()
  private readonly signals = new Listeners<[string, SignalData]>()

  /** `announceEveryMs`: how often 'hi' is repeated; `clock`: its timer */
  constructor(
    private readonly announceEveryMs = 20_000,
    private readonly clock: Clock = realClock,
  ) {}

  get connected(): boolean {
    return this.channel !== null
  }

  join(room: string, peer: string): void {
    if (this.channel !== null) throw new Error('BroadcastChannelSignaling: already joined')
    this.self = peer
    const channel = new BroadcastChannel(`meshkeeper/${room}`)
    channel.onmessage = (ev: MessageEvent) => this.receive(ev.data)
    this.channel = channel
    this.post({ t: 'hi', from: peer })
    this.announce(peer)
  }

  /** 'hi' again every announceEveryMs until closed (a Clock has timeouts only: each arms the next) */
  private announce(peer: string): void {
    this.announcer = this.clock.setTimeout(() => {
      this.announce(peer)
      this.post({ t: 'hi', from: peer })
    }, this.announceEveryMs)
  }

  onPeer(fn: (peer: string, present: boolean) => void): () => void {
    return this.peers.add(fn)
  }

  onSignal(fn: (from: string, data: SignalData) => void): () => void {
    return this.signals.add(fn)
  }

  /** another room of this browser: a channel of its own (BroadcastChannels are cheap) */
  sibling(): SignalingChannel {
    return new BroadcastChannelSignaling(this.announceEveryMs, this.clock)
  }

  signal(to: string, data: SignalData): void {
    if (this.self !== null) this.post({ t: 'signal', from: this.self, to, data })
  }

  close(): void {
    if (this.channel === null) return
    if (this.announcer !== null) this.clock.clearTimeout(this.announcer)
    this.announcer = null
    if (this.self !== null) this.post({ t: 'bye', from: this.self })
    this.channel.close()
    this.channel = null
    this.peers.clear()
    this.signals.clear()
  }

  private post(msg: object): void {
    try {
      this.channel?.postMessage(msg)
    } catch {
      // a closed channel: nothing to do, close() already ran
    }
  }

  private receive(msg: unknown): void {
    if (!isPlainObject(msg) || !validId(msg.from) || msg.from === this.self || this.self === null) return
    const from = msg.from
    if ((msg.t === 'here' || msg.t === 'signal') && msg.to !== this.self) return
    switch (msg.t) {
      case 'hi':
        this.post({ t: 'here', from: this.self, to: from })
        this.peers.emit(from, true)
        break
      case 'here':
        this.peers.emit(from, true)
        break
      case 'signal':
        if (isPlainObject(msg.data)) this.signals.emit(from, msg.data)
        break
      case 'bye':
        this.peers.emit(from, false)
        break
    }
  }
}
