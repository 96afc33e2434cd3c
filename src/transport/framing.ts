// Framing of link messages over a data channel: a message of any size is cut
// into chunks that each fit one data-channel message (16 KiB is the size every
// browser delivers whole), and put back together on the other side.
//
// A frame is a data-channel message:
//   DATA     = tag 0 · varuint seq · varuint index · varuint count
//              · (index 0 only: varuint totalBytes) · payload bytes
//   CONTROL  = tag 1 · payload bytes (one frame, at most MAX_CONTROL_BYTES)
// `seq` numbers the link's DATA messages 0, 1, 2... A data channel is ordered
// and reliable, and the sender never interleaves two messages, so the receiver
// expects exactly: message `seq` = previous + 1, chunks 0..count-1 in order,
// payload lengths that add up to `totalBytes`. Anything else means the peer
// is broken or hostile; the reassembler throws and the link drops the peer.
// CONTROL frames (transport-internal: hello, relayed signaling) may sit
// between two chunks of a DATA message.
//
// What must stay true: nothing is allocated from a length the peer claims
// before it is checked against the bounds; a message is delivered only
// whole, and only when every byte it announced has arrived.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { badMessage, WireError } from '../wire/errors'
import { readByte, readVarUint } from '../wire/reader'

export const FRAME_DATA = 0
export const FRAME_CONTROL = 1

/** Bytes of a frame on the data channel, header included. */
export const DEFAULT_FRAME_BYTES = 16 * 1024
/** Room left for the header (tag + four varuints of at most 8 bytes each). */
export const MAX_HEADER_BYTES = 40
/** Largest message a link accepts by default: a snapshot chunk plus margin
 *  (the wire layer's own bound is 16 MiB + 64 KiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 64 * 1024
/** A control message (hello, relayed signal) fits one frame. */
export const MAX_CONTROL_BYTES = DEFAULT_FRAME_BYTES - 1
/** seq wraps here (an ordinary varuint, far below 2^53) */
const SEQ_MODULUS = 2 ** 32

export interface FramingOptions {
  /** bytes per frame on the data channel, header included (≥ 256) */
  frameBytes?: number
  /** largest whole message accepted (and sent) */
  maxMessageBytes?: number
}

/** Cut message number `seq` into DATA frames, lazily (a large message is not
 *  copied as a whole; each frame is made when the channel has room). */
export function* dataFrames(seq: number, message: Uint8Array, frameBytes = DEFAULT_FRAME_BYTES): Generator<Uint8Array> {
  if (frameBytes < 256) throw new RangeError('frameBytes must be at least 256')
  const payloadBytes = frameBytes - MAX_HEADER_BYTES
  const count = Math.max(1, Math.ceil(message.length / payloadBytes))
  for (let index = 0; index < count; index++) {
    const enc = encoding.createEncoder()
    encoding.writeUint8(enc, FRAME_DATA)
    encoding.writeVarUint(enc, seq)
    encoding.writeVarUint(enc, index)
    encoding.writeVarUint(enc, count)
    if (index === 0) encoding.writeVarUint(enc, message.length)
    encoding.writeUint8Array(enc, message.subarray(index * payloadBytes, (index + 1) * payloadBytes))
    yield encoding.toUint8Array(enc)
  }
}

/** Number of frames `dataFrames` makes for a message of `length` bytes. */
export function frameCount(length: number, frameBytes = DEFAULT_FRAME_BYTES): number {
  return Math.max(1, Math.ceil(length / (frameBytes - MAX_HEADER_BYTES)))
}

export function controlFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_CONTROL_BYTES) throw new WireError('TOO_LARGE', `control message of ${payload.length} bytes exceeds ${MAX_CONTROL_BYTES}`)
  const out = new Uint8Array(payload.length + 1)
  out[0] = FRAME_CONTROL
  out.set(payload, 1)
  return out
}

export function nextSeq(seq: number): number {
  return (seq + 1) % SEQ_MODULUS
}

export type Reassembled = { kind: 'data'; message: Uint8Array } | { kind: 'control'; message: Uint8Array } | { kind: 'partial' }

interface Partial {
  seq: number
  count: number
  total: number
  nextIndex: number
  received: number
  parts: Uint8Array[]
}

/** The receiving half of one link. Feed it every frame in arrival order. */
export class Reassembler {
  private expectedSeq = 0
  private current: Partial | null = null
  private readonly maxMessageBytes: number
  private readonly maxFrameBytes: number

  constructor(opts: FramingOptions = {}) {
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    // a peer may use a different frame size than ours; accept up to 256 KiB,
    // what Chromium delivers in one message
    this.maxFrameBytes = Math.max(opts.frameBytes ?? DEFAULT_FRAME_BYTES, 256 * 1024)
  }

  /** Bytes held for a message not yet whole. */
  get pendingBytes(): number {
    return this.current?.received ?? 0
  }

  /** Throws WireError (BAD_MESSAGE, TOO_LARGE) on any frame that breaks the
   *  framing rules; the link must then be dropped (the stream is desynced). */
  push(frame: Uint8Array): Reassembled {
    if (frame.length > this.maxFrameBytes) throw new WireError('TOO_LARGE', `frame of ${frame.length} bytes exceeds ${this.maxFrameBytes}`)
    const dec = decoding.createDecoder(frame)
    const tag = readByte(dec, 'frame tag')
    if (tag === FRAME_CONTROL) {
      if (frame.length - 1 > MAX_CONTROL_BYTES) throw new WireError('TOO_LARGE', 'control frame too large')
      return { kind: 'control', message: frame.subarray(1) }
    }
    if (tag !== FRAME_DATA) throw badMessage(`unknown frame tag ${tag}`)
    const seq = readVarUint(dec, SEQ_MODULUS - 1, 'message seq')
    const maxChunks = Math.max(1, this.maxMessageBytes)
    const index = readVarUint(dec, maxChunks - 1, 'chunk index')
    const count = readVarUint(dec, maxChunks, 'chunk count')
    if (count === 0) throw badMessage('chunk count 0')
    if (index >= count) throw badMessage(`chunk index ${index} not below count ${count}`)
    let partial = this.current
    if (index === 0) {
      if (partial !== null) throw badMessage(`message ${seq} started before message ${partial.seq} ended`)
      if (seq !== this.expectedSeq) throw badMessage(`message seq ${seq}, expected ${this.expectedSeq}`)
      const total = readVarUint(dec, Number.MAX_SAFE_INTEGER, 'message length')
      if (total > this.maxMessageBytes) throw new WireError('TOO_LARGE', `message of ${total} bytes exceeds ${this.maxMessageBytes}`)
      // every chunk but a lone empty one carries at least one byte
      if (count > Math.max(1, total)) throw badMessage(`${count} chunks for ${total} bytes`)
      partial = { seq, count, total, nextIndex: 0, received: 0, parts: [] }
    } else {
      if (partial === null) throw badMessage(`chunk ${index} of message ${seq} without its start`)
      if (seq !== partial.seq || count !== partial.count || index !== partial.nextIndex) {
        throw badMessage(`chunk ${seq}/${index}/${count}, expected ${partial.seq}/${partial.nextIndex}/${partial.count}`)
      }
    }
    const payload = frame.subarray(dec.pos)
    if (payload.length === 0 && partial.total > 0) throw badMessage('empty chunk')
    if (partial.received + payload.length > partial.total) throw badMessage(`message ${seq} longer than its announced ${partial.total} bytes`)
    partial.received += payload.length
    partial.parts.push(payload)
    partial.nextIndex = index + 1
    if (partial.nextIndex < partial.count) {
      this.current = partial
      return { kind: 'partial' }
    }
    this.current = null
    if (partial.received !== partial.total) throw badMessage(`message ${seq} ended at ${partial.received} of ${partial.total} bytes`)
    this.expectedSeq = nextSeq(seq)
    return { kind: 'data', message: joinParts(partial.parts, partial.total) }
  }
}

function joinParts(parts: Uint8Array[], total: number): Uint8Array {
  // copy even a single part: the frame buffer may be reused by the channel
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
