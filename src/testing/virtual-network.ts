// A virtual network on virtual time: members exchange opaque messages that
// arrive after a random delay, or not at all.
//
// The network knows nothing about what it carries (M is opaque): the Raft
// simulator sends raft Messages through it, the simulated cluster sends wire
// bytes. Every random choice comes from the one seeded PRNG handed in, in the
// order sends happen, so a run is a pure function of its seed and its calls.
//
// What must stay true:
// - a message is delivered at most once per copy (a duplicate is a second copy);
// - a message is never delivered across a partition or a cut that is in place
//   at send time or at delivery time (packets in flight are lost when a link
//   breaks, as on a real network);
// - a message to a member that is not registered, or that unregistered and
//   registered again since the send (crashed and restarted), is lost;
// - with reorderRate 0, messages on one directed link arrive in send order
//   (an ordered data channel); reordering is only ever the fault injected.
//
// Besides packets, the network carries reliable ordered streams
// (`sendInOrder`, what SCTP gives a WebRTC data channel): a stream message is
// never dropped, duplicated or reordered by the random faults; across a
// partition it waits (retransmitted every `retransmitMs`) and everything
// after it on the directed link waits behind it, until the partition heals or
// its sender no longer wants it (its channel closed). A message to a member
// that crashed or restarted since the send is still lost.
import * as prng from 'lib0/prng'
import type { VirtualClock } from './virtual-time'

/** Fault and delay settings; every field can be changed at run time with `configure`. */
export interface NetworkOptions {
  /** least one-way delay in virtual ms (default 1) */
  minDelay: number
  /** greatest one-way delay in virtual ms (default 10) */
  maxDelay: number
  /** probability in [0, 1] that a message is lost (default 0) */
  dropRate: number
  /** probability in [0, 1] that a message is delivered twice (default 0) */
  duplicateRate: number
  /** probability in [0, 1] that a message may overtake earlier ones on its link (default 0) */
  reorderRate: number
  /** how often a stream message stalled by a partition is tried again, in virtual ms (default 250) */
  retransmitMs: number
}

/** What happened to one message, for traces: sent, delivered or lost (with why). */
export type NetworkEvent<M> =
  | { kind: 'send'; from: string; to: string; msg: M; deliverAt: number; copies: number }
  | { kind: 'deliver'; from: string; to: string; msg: M }
  | { kind: 'drop'; from: string; to: string; msg: M; reason: DropReason }

/** Why a message was lost. */
export type DropReason = 'random' | 'partition' | 'unregistered' | 'restarted'

/** Counters of what the network did since it was created. */
export interface NetworkStats {
  sent: number
  delivered: number
  dropped: number
  duplicated: number
}

const DEFAULTS: NetworkOptions = { minDelay: 1, maxDelay: 10, dropRate: 0, duplicateRate: 0, reorderRate: 0, retransmitMs: 250 }

/** One directed link's stream: messages in send order, the head due first. */
interface Stream<M> {
  queue: { msg: M; at: number; life: number; wanted: () => boolean }[]
  /** the timer of the head's (re)delivery, or null when the queue is empty */
  timer: number | null
}

interface Registration<M> {
  deliver: (from: string, msg: M) => void
  /** bumped at every register: messages sent to an older life are lost */
  life: number
}

/** A deterministic, seeded network of named members over a VirtualClock. */
export class VirtualNetwork<M> {
  private opts: NetworkOptions
  private readonly members = new Map<string, Registration<M>>()
  private readonly lives = new Map<string, number>()
  /** blocked directed links, as "from\u0000to" */
  private readonly blocked = new Set<string>()
  private readonly isolated = new Set<string>()
  /** members whose deliveries are held (a frozen tab): released in order later */
  private readonly held = new Map<string, { from: string; msg: M; life: number }[]>()
  /** latest scheduled arrival per directed link, to keep links FIFO */
  private readonly lastArrival = new Map<string, number>()
  private readonly streams = new Map<string, Stream<M>>()
  private readonly counters: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 }
  /** Called for every send, delivery and loss (for traces); set it to observe the network. */
  observer: ((e: NetworkEvent<M>) => void) | null = null

  constructor(
    private readonly clock: VirtualClock,
    private readonly gen: prng.PRNG,
    options: Partial<NetworkOptions> = {},
  ) {
    this.opts = { ...DEFAULTS }
    this.configure(options)
  }

  /** The current fault and delay settings. */
  get options(): Readonly<NetworkOptions> {
    return this.opts
  }

  /** Change some settings; affects messages sent from now on. */
  configure(options: Partial<NetworkOptions>): void {
    const next = { ...this.opts, ...options }
    next.minDelay = Math.max(0, next.minDelay)
    next.maxDelay = Math.max(next.minDelay, next.maxDelay)
    next.retransmitMs = Math.max(1, next.retransmitMs)
    for (const k of ['dropRate', 'duplicateRate', 'reorderRate'] as const) next[k] = Math.min(1, Math.max(0, next[k]))
    this.opts = next
  }

  /** Counters of sends, deliveries, losses and duplicates so far. */
  get stats(): Readonly<NetworkStats> {
    return this.counters
  }

  /** Attach member `id`: messages to it are handed to `deliver`. Re-registering starts a new life. */
  register(id: string, deliver: (from: string, msg: M) => void): void {
    const life = (this.lives.get(id) ?? 0) + 1
    this.lives.set(id, life)
    this.members.set(id, { deliver, life })
    this.held.delete(id)
  }

  /** Detach member `id` (it crashed or left): messages in flight to it are lost. */
  unregister(id: string): void {
    this.members.delete(id)
    this.held.delete(id)
  }

  /** Whether `id` is registered. */
  has(id: string): boolean {
    return this.members.has(id)
  }

  /** Send `msg` from `from` to `to`; it arrives after a random delay unless a fault loses it. */
  send(from: string, to: string, msg: M): void {
    this.counters.sent++
    const life = this.members.get(to)?.life ?? -1
    if (this.isBlocked(from, to)) {
      this.lose(from, to, msg, 'partition')
      return
    }
    if (life < 0) {
      this.lose(from, to, msg, 'unregistered')
      return
    }
    const o = this.opts
    if (o.dropRate > 0 && prng.real53(this.gen) < o.dropRate) {
      this.lose(from, to, msg, 'random')
      return
    }
    const copies = o.duplicateRate > 0 && prng.real53(this.gen) < o.duplicateRate ? 2 : 1
    const link = linkKey(from, to)
    let deliverAt = 0
    for (let c = 0; c < copies; c++) {
      let at = this.clock.now() + this.randomDelay()
      const reorder = o.reorderRate > 0 && prng.real53(this.gen) < o.reorderRate
      if (!reorder) at = Math.max(at, this.lastArrival.get(link) ?? 0)
      this.lastArrival.set(link, Math.max(at, this.lastArrival.get(link) ?? 0))
      if (c === 0) deliverAt = at
      else this.counters.duplicated++
      this.clock.setTimeout(() => this.arrive(from, to, msg, life), at - this.clock.now())
    }
    this.observer?.({ kind: 'send', from, to, msg, deliverAt, copies })
  }

  /**
   * Send `msg` on the reliable ordered stream from `from` to `to` (a data
   * channel's SCTP): it arrives after a random delay, after everything sent
   * before it on this stream; a partition stalls it (and what follows) while
   * `wanted()` holds, instead of losing it. Random drops, duplicates and
   * reordering never touch a stream.
   */
  sendInOrder(from: string, to: string, msg: M, wanted: () => boolean = () => true): void {
    this.counters.sent++
    const life = this.members.get(to)?.life ?? -1
    if (life < 0) {
      this.lose(from, to, msg, 'unregistered')
      return
    }
    const key = linkKey(from, to)
    let stream = this.streams.get(key)
    if (stream === undefined) this.streams.set(key, (stream = { queue: [], timer: null }))
    const last = stream.queue[stream.queue.length - 1]
    const at = Math.max(this.clock.now() + this.randomDelay(), last?.at ?? 0)
    stream.queue.push({ msg, at, life, wanted })
    this.observer?.({ kind: 'send', from, to, msg, deliverAt: at, copies: 1 })
    if (stream.timer === null) this.scheduleHead(from, to, stream)
  }

  private scheduleHead(from: string, to: string, stream: Stream<M>): void {
    const head = stream.queue[0]
    if (head === undefined) {
      stream.timer = null
      this.streams.delete(linkKey(from, to))
      return
    }
    stream.timer = this.clock.setTimeout(() => this.arriveInOrder(from, to, stream), head.at - this.clock.now())
  }

  private arriveInOrder(from: string, to: string, stream: Stream<M>): void {
    const head = stream.queue[0]!
    if (this.isBlocked(from, to) && this.members.get(to)?.life === head.life) {
      if (head.wanted()) {
        // stalled: retransmitted later, and the rest of the stream waits behind it
        head.at = this.clock.now() + this.opts.retransmitMs
        this.scheduleHead(from, to, stream)
        return
      }
      stream.queue.shift()
      this.lose(from, to, head.msg, 'partition')
      this.scheduleHead(from, to, stream)
      return
    }
    stream.queue.shift()
    // the next one is due no earlier than it was, and not before this one
    this.scheduleHead(from, to, stream)
    const queue = this.held.get(to)
    if (queue !== undefined && this.members.get(to)?.life === head.life) {
      queue.push({ from, msg: head.msg, life: head.life })
      return
    }
    this.handOver(from, to, head.msg, head.life)
  }

  /** Cut both directions between every member of `groupA` and every member of `groupB`. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    for (const a of groupA)
      for (const b of groupB) {
        this.blocked.add(linkKey(a, b))
        this.blocked.add(linkKey(b, a))
      }
  }

  /** Cut the one direction `from` -> `to` (replies may still flow the other way). */
  cut(from: string, to: string): void {
    this.blocked.add(linkKey(from, to))
  }

  /** Cut `id` off from every member, present and future, in both directions. */
  isolate(id: string): void {
    this.isolated.add(id)
  }

  /** Remove every partition, cut and isolation. */
  heal(): void {
    this.blocked.clear()
    this.isolated.clear()
  }

  /** Whether messages from `from` to `to` are currently blocked by a partition, cut or isolation. */
  isBlocked(from: string, to: string): boolean {
    return this.isolated.has(from) || this.isolated.has(to) || this.blocked.has(linkKey(from, to))
  }

  /**
   * Hold deliveries to `id` (a frozen tab: its socket buffers fill but nothing
   * runs). Held messages are delivered in arrival order at `release`.
   */
  hold(id: string): void {
    if (!this.held.has(id)) this.held.set(id, [])
  }

  /** Whether deliveries to `id` are held. */
  isHeld(id: string): boolean {
    return this.held.has(id)
  }

  /** Stop holding `id` and deliver what was held, in order, now. */
  release(id: string): void {
    const queue = this.held.get(id)
    if (queue === undefined) return
    this.held.delete(id)
    for (const { from, msg, life } of queue) this.handOver(from, id, msg, life)
  }

  private arrive(from: string, to: string, msg: M, life: number): void {
    if (this.isBlocked(from, to)) {
      this.lose(from, to, msg, 'partition')
      return
    }
    const queue = this.held.get(to)
    if (queue !== undefined && this.members.get(to)?.life === life) {
      queue.push({ from, msg, life })
      return
    }
    this.handOver(from, to, msg, life)
  }

  private handOver(from: string, to: string, msg: M, life: number): void {
    const member = this.members.get(to)
    if (member === undefined) {
      this.lose(from, to, msg, 'unregistered')
      return
    }
    if (member.life !== life) {
      this.lose(from, to, msg, 'restarted')
      return
    }
    this.counters.delivered++
    this.observer?.({ kind: 'deliver', from, to, msg })
    member.deliver(from, msg)
  }

  private lose(from: string, to: string, msg: M, reason: DropReason): void {
    this.counters.dropped++
    this.observer?.({ kind: 'drop', from, to, msg, reason })
  }

  private randomDelay(): number {
    const { minDelay, maxDelay } = this.opts
    return maxDelay > minDelay ? prng.uint32(this.gen, minDelay, maxDelay) : minDelay
  }
}

function linkKey(from: string, to: string): string {
  return `${from}\u0000${to}`
}
