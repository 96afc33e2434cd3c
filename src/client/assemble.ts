// The one Mesh assembler. An entry point chooses who the member is (its
// hello), where it keeps its state (storage) and how it reaches its peers
// (transport) — joinMesh in a tab (Web Locks, IndexedDB, WebRTC),
// joinMeshFromNode in a Node process, a test with memory storage and an
// in-process transport — and hands them here, where every Mesh is built the
// same way (invariant 7, one code path):
//   1. the parts are checked (BAD_ARGUMENTS before anything starts);
//   2. the member gets its clock (the platform's unless given) and a PRNG
//      (seeded from the given seed, else from crypto randomness);
//   3. what the transport reports is held until the Mesh exists
//      (transport-errors.ts), then reaches the app as `error` events;
//   4. the driver Member starts, the MeshClient is built over it, and every
//      recipe of the registry (src/recipes/index.ts) is attached on the same
//      clock as the member's.
// `startMesh` is this assembler under its public name.
import * as prng from 'lib0/prng'
import { Member } from '../driver/member'
import type { MemberOptions } from '../driver/options'
import { MEMBER_SETTING_RULES, arrayOf, boolean, callback, checkOptions, integer, memberId, object, text } from '../driver/option-checks'
import { epochNow, realClock } from '../shared/clock'
import type { Clock } from '../shared/clock'
import type { Mesh } from '../shared/types'
import { RECIPES } from '../recipes/index'
import type { RecipeMethods } from '../recipes/index'
import { MeshClient } from './mesh'
import type { MeshClientOptions } from './mesh'
import { settleDeep } from './settle'
import type { Settle } from './settle'
import { holdTransportErrors } from './transport-errors'
import type { HeldTransportErrors } from './transport-errors'

/** The parts of a Mesh: the member's identity (`hello`), storage and transport, and its settings. */
export interface StartMeshOptions extends Omit<MemberOptions, 'scheduler' | 'random'> {
  scheduler?: MemberOptions['scheduler']
  /** default: a PRNG seeded from crypto.getRandomValues (or the given seed) */
  random?: () => number
  seed?: number
  /** released after a graceful close (default: closes the transport and the storage) */
  release?: () => Promise<void>
}

/** A Mesh as the assembler builds it: the public Mesh, over a MeshClient. */
export type AssembledMesh = MeshClient & Mesh

export interface AssemblyOptions {
  /** what the transport reported since the entry point opened it (joinMesh
   *  listens for peers before it starts the member); default: held from now */
  heldErrors?: HeldTransportErrors
  /** a closed Mesh to run again over the new member (a page restored from the bfcache) instead of a new one */
  into?: AssembledMesh
}

/**
 * Start a member over the given parts and hand back its Mesh, with the member
 * behind it (an entry point wires its own watchers to it: a tab's death watch
 * and page lifecycle). Resolves once the member runs (it may still be
 * connecting). A failed start rejects and leaves the parts to the caller.
 */
export async function assembleMesh(parts: StartMeshOptions, assembly: AssemblyOptions = {}): Promise<{ mesh: AssembledMesh; member: Member }> {
  checkOptions('startMesh', parts, START_MESH_RULES, ['hello', 'storage', 'transport'])
  // what the transport reports while the member starts reaches the app too
  const heldErrors = assembly.heldErrors ?? holdTransportErrors(parts.transport)
  const { seed, release: givenRelease, ...settings } = parts
  const scheduler = parts.scheduler ?? realClock
  // on the platform's clock the timeline reads the sub-ms one, comparable between tabs
  const timelineNow = parts.timelineNow ?? (scheduler === realClock ? epochNow : undefined)
  const member = new Member({ ...settings, scheduler, random: parts.random ?? seededRandom(seed), ...(timelineNow === undefined ? {} : { timelineNow }) })
  try {
    await member.start()
  } catch (err) {
    heldErrors.drop()
    throw err
  }
  const release =
    givenRelease ??
    (async () => {
      await parts.transport.close()
      await parts.storage.close()
    })
  const offTransportErrors = heldErrors.forwardTo(member)
  const onClose = async (): Promise<void> => {
    offTransportErrors()
    await release()
  }
  if (assembly.into !== undefined) {
    assembly.into.reattach(member, onClose)
    return { mesh: assembly.into, member }
  }
  const mesh = meshOver(member, { clock: scheduler, onClose })
  return { mesh, member }
}

/** Start a member and hand back its Mesh once the member runs (it may still be connecting). */
export async function startMesh(opts: StartMeshOptions): Promise<Mesh> {
  return (await assembleMesh(opts)).mesh
}

/**
 * The Mesh over a member: its znode API (MeshClient) and every recipe of the
 * registry, timed on `clock`. assembleMesh ends here; the simulated cluster
 * builds its Meshes with this alone, because it makes, starts, crashes and
 * replaces the members itself.
 */
export function meshOver(member: Member, opts: MeshClientOptions & { clock: Clock }): AssembledMesh {
  return withRecipes(new MeshClient(member, opts), opts.clock, opts.settle)
}

/** Attach every recipe of the registry to `client`, as methods (not enumerable, as a class's are). */
function withRecipes(client: MeshClient, clock: Clock, settle: Settle | undefined): AssembledMesh {
  // in the simulator every promise a recipe hands back (and every object, like
  // a Lease) drives virtual time like the znode calls do
  const seen = new WeakMap<object, unknown>()
  for (const name of Object.keys(RECIPES) as (keyof RecipeMethods)[]) {
    const method = RECIPES[name](client, clock) as (...args: never[]) => unknown
    const value = settle === undefined ? method : (...args: never[]) => settleDeep(method(...args), settle, seen)
    Object.defineProperty(client, name, { value })
  }
  return client as AssembledMesh
}

/** the parts' options beside the member settings every entry point shares */
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
  timelineNow: callback,
}

/** A PRNG in [0, 1) seeded from `seed`, else from crypto randomness (a tab's or a process's member). */
export function seededRandom(seed?: number): () => number {
  const s = seed ?? globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!
  const gen = prng.create(s)
  return () => prng.real53(gen)
}

/** The member settings an entry point's options carry (joinMesh's, joinMeshFromNode's), leaving out those not given. */
export function memberSettings(o: Pick<MemberOptions, 'sessionTimeoutMs' | 'maxVoters' | 'whenNoQuorum' | 'timeline'>): Pick<MemberOptions, 'sessionTimeoutMs' | 'maxVoters' | 'whenNoQuorum' | 'timeline'> {
  return {
    ...(o.timeline === undefined ? {} : { timeline: o.timeline }),
    ...(o.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: o.sessionTimeoutMs }),
    ...(o.maxVoters === undefined ? {} : { maxVoters: o.maxVoters }),
    ...(o.whenNoQuorum === undefined ? {} : { whenNoQuorum: o.whenNoQuorum }),
  }
}
