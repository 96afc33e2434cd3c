// The Transport contract run on every transport of this folder.
import wrtc from '@roamhq/wrtc'
import { BroadcastChannelSignaling } from '../../src/transport/broadcast-channel-signaling'
import { MemoryHub } from '../../src/transport/memory-transport'
import { MeshTransport } from '../../src/transport/mesh-transport'
import { nodePeerFactory } from '../../src/transport/simple-peer-node'
import { transportAcceptance } from './acceptance'
import { namedKeys } from './identities'

/** MeshTransport's member ids are the ids of keys */
const K = await namedKeys('a', 'b')
const keyOf = (name: string) => K[name as 'a' | 'b']

transportAcceptance('MemoryTransport', () => {
  let hub = new MemoryHub()
  return {
    start: (member) => hub.connect({ member, tab: 't', browser: member }),
    reset: () => {
      hub = new MemoryHub()
    },
  }
})

let rooms = 0
transportAcceptance('MeshTransport (WebRTC via wrtc, BroadcastChannel signaling)', () => {
  let room = `acceptance-${process.pid}-${rooms++}`
  return {
    start: (name) =>
      new MeshTransport({ self: { member: keyOf(name).id, tab: 't', browser: name }, identity: keyOf(name), room, signaling: [new BroadcastChannelSignaling()], peerFactory: nodePeerFactory(wrtc) }),
    idOf: (name) => keyOf(name).id,
    reset: () => {
      room = `acceptance-${process.pid}-${rooms++}`
    },
  }
})
