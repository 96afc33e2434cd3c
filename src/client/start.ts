// startMesh: a Mesh over injected parts. This is what the browser's joinMesh
// composes (IndexedDB storage, WebRTC transport, Web Lock identity, real
// timers, crypto randomness) and what Node tests use with memory storage and
// an in-process transport — one code path (invariant 7). When the transport
// reports refusals (`onError`, as MeshTransport does), they reach the app as
// `error` events, as with joinMesh.
import * as prng from 'lib0/prng'
import { Member } from '../driver/member'
import type { MemberOptions } from '../driver/options'
import { MEMBER_SETTING_RULES, boolean, callback, checkOptions, integer, memberId, object, arrayOf, text } from '../driver/option-checks'
import { realClock } from '../shared/clock'
import { MeshClient } from './mesh'
import { holdTransportErrors } from './transport-errors'
import type { Mesh } from '../shared/types'

export interface StartMeshOptions extends Omit<MemberOptions, 'scheduler' | 'random'> {
  scheduler?: MemberOptions['scheduler']
  /** default: a PRNG seeded from crypto.getRandomValues (or the given seed) */
  random?: () => number
  seed?: number
  /** released after a graceful close (default: closes the transport and the storage) */
  release?: () => Promise<void>
}

/** Start a member and hand back its Mesh once the member runs (it may still be connecting). */
export async function startMesh(opts: StartMeshOptions): Promise<Mesh> {
  checkOptions('startMesh', opts, START_MESH_RULES, ['hello', 'storage', 'transport'])
  // what the transport reports while the member starts reaches the app too
  const heldErrors = holdTransportErrors(opts.transport)
  const member = new Member({ ...opts, scheduler: opts.scheduler ?? realClock, random: opts.random ?? seededRandom(opts.seed) })
  try {
    await member.start()
  } catch (err) {
    heldErrors.drop()
    throw err
  }
  const release =
    opts.release ??
    (async () => {
      await opts.transport.close()
      await opts.storage.close()
    })
  const offTransportErrors = heldErrors.forwardTo(member)
  return new MeshClient(member, {
    onClose: async () => {
      offTransportErrors()
      await release()
    },
  })
}

/** startMesh's options beside the member settings every entry point shares */
const START_MESH_RULES = {
  ...MEMBER_SETTING_RULES,
  hello: object,
  storage: object,
  transport: object,
  scheduler: object,
  random: callback,
  seed: integer(0, 0xffffffff),
  release: callback,
  reopenStorage: callback,
  visible: callback,
  bootstrap: boolean,
  bootstrapVoters: arrayOf(memberId, 1),
  clusterId: text(1, 256),
}

function seededRandom(seed: number | undefined): () => number {
  const s = seed ?? globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!
  const gen = prng.create(s)
  return () => prng.real53(gen)
}
