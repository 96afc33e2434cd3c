// A FramePort straight on an RTCDataChannel: the mesh channel, a second,
// negotiated data channel (label `meshkeeper`, id 2, ordered, reliable) that
// each side opens on simple-peer's RTCPeerConnection right after making the
// peer (simple-peer-port.ts, `withMeshChannel`).
//
// Why not simple-peer's own stream: its browser bundle defers stream work
// through a `process.nextTick` shim built on setTimeout (clamped to 4 ms when
// nested), and a full 16 KiB frame fills the stream's 16 KiB high-water mark,
// so its 'drain' always takes that hop. Here a frame is one `send()`, and
// backpressure is the channel's own: `write()` says wait once `bufferedAmount`
// passes SEND_HIGH_WATER_BYTES, and 'bufferedamountlow' (threshold
// SEND_LOW_WATER_BYTES) says go on. No timer anywhere.
//
// What must stay true, and why each rule is here (a first try "broke
// delivery in Chromium" on the first two):
//  - the port listens from the moment the channel is made, not from
//    attach(): a negotiated channel is open as soon as the SCTP association
//    is, and the other side may send its hello before simple-peer says
//    'connect' here (simple-peer waits for getStats and polls for a selected
//    candidate pair). A message with no listener is gone, so what arrives
//    before attach() is held for it (bounded: MAX_HELD_INBOUND_BYTES);
//  - what is written before the channel is open is held and sent, in order,
//    on 'open' (send() on a 'connecting' channel throws);
//  - binaryType is 'arraybuffer' and every message becomes a Uint8Array; a
//    text message is no frame: it is handed on as an empty frame, which the
//    reassembler rejects like any malformed one (the link drops the peer);
//  - frames stay well under Chromium's 256 KiB message limit: framing.ts cuts
//    16 KiB frames and refuses to read more than 256 KiB in one;
//  - a close of the channel (ours, the peer's, or the peer connection's)
//    closes the port, once.
import type { FramePort } from './link'
import { channelCloseReason } from './types'

/** The slice of an RTCDataChannel the port uses (a fake one in unit tests). */
export interface FrameChannel {
  readonly readyState: RTCDataChannelState
  readonly bufferedAmount: number
  /** absent in @roamhq/wrtc, which has no 'bufferedamountlow' either */
  bufferedAmountLowThreshold?: number
  binaryType: string
  send(data: Uint8Array): void
  close(): void
  addEventListener(type: 'open' | 'message' | 'bufferedamountlow' | 'error' | 'close', fn: (ev: { data?: unknown; error?: unknown }) => void): void
}

/** The mesh channel, as both sides make it (negotiated: no 'datachannel' event, so
 *  simple-peer's answerer never mistakes it for its own channel). simple-peer's
 *  channel is not negotiated and takes its id from the DTLS role (0 or 1 for the
 *  first), so id 2 is free on both sides. */
export const MESH_CHANNEL_LABEL = 'meshkeeper'
export const MESH_CHANNEL_INIT: RTCDataChannelInit = { negotiated: true, id: 2, ordered: true }

/** write() asks the link to wait while more than this is buffered */
export const SEND_HIGH_WATER_BYTES = 256 * 1024
/** 'bufferedamountlow' fires (and the link goes on) once the buffer is down to this */
export const SEND_LOW_WATER_BYTES = 64 * 1024
/** the most received bytes held before the link attaches */
export const MAX_HELD_INBOUND_BYTES = 4 * 1024 * 1024

type Events = Parameters<FramePort['attach']>[0]

export class DataChannelPort implements FramePort {
  /** the channel has 'bufferedamountlow': it can pace the sender (browsers, not wrtc) */
  readonly paced: boolean
  private events: Events | null = null
  /** received before attach() */
  private inbound: Uint8Array[] = []
  private inboundBytes = 0
  /** written before 'open' */
  private held: Uint8Array[] = []
  private heldBytes = 0
  private waiting = false
  private closed = false
  /** why it closed before anyone was attached to hear it */
  private closedReason: string | null = null
  private lastError: string | null = null

  constructor(private readonly channel: FrameChannel) {
    channel.binaryType = 'arraybuffer'
    this.paced = typeof channel.bufferedAmountLowThreshold === 'number'
    if (this.paced) channel.bufferedAmountLowThreshold = SEND_LOW_WATER_BYTES
    channel.addEventListener('message', (ev) => this.receive(ev.data))
    channel.addEventListener('open', () => this.flush())
    channel.addEventListener('bufferedamountlow', () => this.low())
    channel.addEventListener('error', (ev) => {
      const err = ev.error
      this.lastError = err instanceof Error ? err.message : String(err)
    })
    channel.addEventListener('close', () => this.shut(channelCloseReason(this.lastError)))
  }

  /** still open (the simple-peer port closes the rest with it) */
  get open(): boolean {
    return !this.closed
  }

  write(frame: Uint8Array): boolean {
    if (this.closed) return true
    const state = this.channel.readyState
    if (state === 'connecting') {
      this.held.push(frame)
      this.heldBytes += frame.length
      return this.mayGoOn(this.heldBytes)
    }
    // closing or closed: its 'close' event follows and closes the link
    if (state !== 'open') return true
    this.channel.send(frame)
    return this.mayGoOn(this.channel.bufferedAmount)
  }

  attach(events: Events): void {
    this.events = events
    const early = this.inbound
    this.inbound = []
    this.inboundBytes = 0
    for (const frame of early) {
      if (this.events !== events) return // the link closed us on one of them
      events.frame(frame)
    }
    if (this.closedReason !== null) events.close(this.closedReason)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.events = null
    this.held = []
    this.inbound = []
    this.channel.close()
  }

  private mayGoOn(buffered: number): boolean {
    if (!this.paced || buffered <= SEND_HIGH_WATER_BYTES) return true
    // above the threshold now, so a later fall to it fires 'bufferedamountlow'
    this.waiting = true
    return false
  }

  private flush(): void {
    if (this.closed) return
    const held = this.held
    this.held = []
    this.heldBytes = 0
    try {
      for (const frame of held) this.channel.send(frame)
    } catch (err) {
      // on 'open', no caller to throw to (a write's own send throws to the link's pump)
      this.lastError = err instanceof Error ? err.message : String(err)
      const reason = `send failed: ${this.lastError}`
      const events = this.events
      this.close()
      if (events === null) this.closedReason = reason
      else events.close(reason)
      return
    }
    if (!this.waiting) return
    if (this.paced && this.channel.bufferedAmount > SEND_LOW_WATER_BYTES) return // 'bufferedamountlow' will come
    this.low()
  }

  private low(): void {
    if (this.closed || !this.waiting) return
    this.waiting = false
    this.events?.drain()
  }

  private receive(data: unknown): void {
    if (this.closed) return
    const frame = toBytes(data)
    if (this.events !== null) {
      this.events.frame(frame)
      return
    }
    this.inbound.push(frame)
    this.inboundBytes += frame.length
    if (this.inboundBytes > MAX_HELD_INBOUND_BYTES) {
      this.close()
      this.closedReason = 'inbox overflow before connect'
    }
  }

  private shut(reason: string): void {
    if (this.closed) return
    this.closed = true
    this.held = []
    if (this.events === null) {
      // told on attach(), after what arrived before it
      this.closedReason = reason
      return
    }
    this.events.close(reason)
  }
}

/** A message as bytes: binaryType 'arraybuffer' gives ArrayBuffers; a view is
 *  taken as it is; anything else (text) is no frame, and an empty frame is
 *  one the reassembler refuses. */
function toBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(0)
}
