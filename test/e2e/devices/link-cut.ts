// A device's network gone, for WebRTC data channels. Closing the signaling
// server changes nothing once links are made, and Chromium's offline
// emulation (`context.setOffline`) covers HTTP and WebSockets, not WebRTC's
// UDP. So the device's pages get a switch, installed before any script runs:
// while it is on, every data channel of the page holds back what it would
// send and what it receives (through `onmessage` and `addEventListener`
// alike: a switch that missed the mesh channel's listener let a cut device
// hear the others while they heard nothing, so its session expired and it
// went `lost` instead of `suspended`); switched off, it delivers both, in order. That is
// what a reliable, ordered channel (SCTP) does through an outage shorter than
// ICE's failure timeout: the links look open, nothing crosses, each side
// learns it only from the silence, and nothing is lost. (Dropping instead
// would be a fault no real channel makes: the link framing numbers messages,
// and a gap gets the peer refused as hostile.)
import type { BrowserContext } from '@playwright/test'

/** The switch, in the page: `window.meshLinks.cut()` / `.restore()`. */
export interface LinkSwitch {
  cut(): void
  restore(): void
}

/** Install the switch in every page of `context` (before the pages load). */
export async function installLinkCut(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    let held: Array<() => void> | null = null
    const hold = (deliver: () => void): boolean => {
      if (held === null) return false
      held.push(deliver)
      return true
    }
    const links: LinkSwitch = {
      cut: () => {
        held ??= []
      },
      restore: () => {
        // still holding while the backlog drains: what a delivered message
        // makes the page send or receive queues behind it, so every channel
        // keeps its order
        const backlog = held ?? []
        while (backlog.length > 0) {
          try {
            backlog.shift()!()
          } catch {
            // the channel closed meanwhile: what it held is gone with it, as on a real link
          }
        }
        held = null
      },
    }
    ;(window as unknown as { meshLinks: LinkSwitch }).meshLinks = links
    const proto = RTCDataChannel.prototype
    const send = proto.send as (this: RTCDataChannel, ...a: unknown[]) => void
    proto.send = function (this: RTCDataChannel, ...args: unknown[]) {
      if (!hold(() => send.apply(this, args))) send.apply(this, args)
    } as RTCDataChannel['send']
    // the mesh channel (src/transport/data-channel-port.ts) listens with addEventListener('message', …)
    const addEventListener = proto.addEventListener as (this: RTCDataChannel, ...a: unknown[]) => void
    proto.addEventListener = function (this: RTCDataChannel, type: unknown, fn: unknown, ...rest: unknown[]) {
      if (type !== 'message' || typeof fn !== 'function') {
        addEventListener.call(this, type, fn, ...rest)
        return
      }
      const listener = fn as (this: RTCDataChannel, e: MessageEvent) => void
      const held = (e: MessageEvent): void => void (hold(() => listener.call(this, e)) || listener.call(this, e))
      addEventListener.call(this, type, held, ...rest)
    } as RTCDataChannel['addEventListener']
    // simple-peer listens with `channel.onmessage = …`
    const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage')!
    Object.defineProperty(proto, 'onmessage', {
      configurable: true,
      get(this: RTCDataChannel) {
        return onmessage.get!.call(this)
      },
      set(this: RTCDataChannel, fn: ((e: MessageEvent) => void) | null) {
        onmessage.set!.call(this, fn === null ? null : (e: MessageEvent) => void (hold(() => fn.call(this, e)) || fn.call(this, e)))
      },
    })
  })
}
