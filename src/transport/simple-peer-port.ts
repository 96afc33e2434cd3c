// The seam between simple-peer and our links. `PeerLike` is the slice of a
// simple-peer instance we use, so the same code runs on the package build
// (Node, with @roamhq/wrtc) and on its prebuilt browser bundle. A PeerFactory
// makes one; pick it with simple-peer-browser.ts or simple-peer-node.ts.
//
// simple-peer makes the connection (signaling, ICE, its own data channel,
// 'connect', 'close'). Link frames ride the mesh channel
// (data-channel-port.ts) that both factories open on its RTCPeerConnection
// at once, wherever that channel can pace the sender ('bufferedamountlow':
// browsers). Where it cannot (@roamhq/wrtc has neither the event nor its
// threshold, and silently drops what passes its 16 MiB send buffer), frames
// go out on simple-peer's stream, which polls bufferedAmount there. Either way
// frames are read from both channels, so a browser and a Node member
// understand each other; a sender uses one channel only, so order holds.
import { DataChannelPort, MESH_CHANNEL_INIT, MESH_CHANNEL_LABEL } from './data-channel-port'
import type { FrameChannel } from './data-channel-port'
import type { FramePort } from './link'
import { channelCloseReason } from './types'

export interface PeerLike {
  signal(data: unknown): void
  /** stream write: false when the data channel is backed up (wait for 'drain') */
  write(chunk: Uint8Array): boolean
  destroy(err?: Error): void
  on(event: 'signal' | 'connect' | 'data' | 'drain' | 'close' | 'error', fn: (...args: never[]) => void): unknown
  /** the mesh channel, opened with the peer connection (`withMeshChannel`);
   *  absent (test doubles, the simulator's peers): frames use the stream */
  readonly meshChannel?: DataChannelPort
  /** a peer that picks its own FramePort once connected (browser/piped-peer.ts: a pipe or WebRTC) */
  port?(): FramePort
  /** it understands tab pipe signals (browser/piped-peer.ts) */
  readonly pipes?: true
}

export interface PeerFactoryOptions {
  initiator: boolean
  /** RTCPeerConnection configuration (iceServers) */
  config?: RTCConfiguration
  /** the peer was announced by a channel that reaches only pages of this
   *  browser (SignalingChannel.sameBrowser): a tab pipe reaches it */
  sameBrowser?: boolean
}

export type PeerFactory = (opts: PeerFactoryOptions) => PeerLike

/** Open the mesh channel on a just-made simple-peer instance: before it
 *  signals anything, so the initiator's offer already has a data section
 *  that carries it, and on both sides, as a negotiated channel needs. Its
 *  RTCPeerConnection is `_pc` in the package and in its bundle alike (the
 *  bundle's minifier keeps property names). Without one, or if the channel
 *  cannot be made, the peer is returned as it is and frames use the stream;
 *  a peer whose other side has the channel then cannot be heard, and fails
 *  its hello like any peer that does not answer. */
export function withMeshChannel<P extends PeerLike>(peer: P): P {
  const pc = (peer as { _pc?: { createDataChannel?: unknown } })._pc
  if (pc === undefined || typeof pc.createDataChannel !== 'function') return peer
  let channel: FrameChannel
  try {
    channel = (pc as RTCPeerConnection).createDataChannel(MESH_CHANNEL_LABEL, MESH_CHANNEL_INIT) as unknown as FrameChannel
  } catch {
    return peer
  }
  return Object.assign(peer, { meshChannel: new DataChannelPort(channel) })
}

/** A FramePort over a connected simple-peer instance: its mesh channel when it
 *  has one, else its stream. */
export function simplePeerPort(peer: PeerLike): FramePort {
  if (peer.port !== undefined) return peer.port()
  const channel = peer.meshChannel
  return channel === undefined ? streamPort(peer) : meshChannelPort(peer, channel)
}

/** simple-peer's stream write holds its callback while the channel's
 *  bufferedAmount is above 64 KiB, so write() returning false and 'drain'
 *  give us backpressure without touching the channel. */
function streamPort(peer: PeerLike): FramePort {
  let closed = false
  let lastError: string | null = null
  return {
    write(frame) {
      if (closed) return true
      return peer.write(frame)
    },
    attach(events) {
      peer.on('data', (data: Uint8Array) => events.frame(data))
      peer.on('drain', () => events.drain())
      peer.on('error', (err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err)
      })
      peer.on('close', () => {
        if (closed) return
        closed = true
        events.close(channelCloseReason(lastError))
      })
    },
    close() {
      if (closed) return
      closed = true
      peer.destroy()
    },
  }
}

/** Frames on the mesh channel (sent there when it paces, else on the stream;
 *  read from both). The port closes when either channel or the connection
 *  does, and closing it closes both. */
function meshChannelPort(peer: PeerLike, channel: DataChannelPort): FramePort {
  const onChannel = channel.paced
  let closed = false
  let lastError: string | null = null
  const shutBoth = (): void => {
    channel.close()
    peer.destroy()
  }
  return {
    write(frame) {
      if (closed) return true
      return onChannel ? channel.write(frame) : peer.write(frame)
    },
    attach(events) {
      const close = (reason: string): void => {
        if (closed) return
        closed = true
        events.close(reason)
        shutBoth()
      }
      channel.attach({
        frame: (frame) => events.frame(frame),
        drain: () => {
          if (onChannel) events.drain()
        },
        close,
      })
      peer.on('data', (data: Uint8Array) => {
        if (!closed) events.frame(data)
      })
      peer.on('drain', () => {
        if (!onChannel) events.drain()
      })
      peer.on('error', (err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err)
      })
      peer.on('close', () => close(channelCloseReason(lastError)))
    },
    close() {
      if (closed) return
      closed = true
      shutBoth()
    },
  }
}
