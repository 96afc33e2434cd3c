// createSimulatedCluster: a whole meshkeeper cluster in one Node process, on
// virtual time, deterministic per seed. Each member is the real node driver
// (src/driver/member.ts, invariant 7: one code path) over memory storage with a
// simulated disk latency, the real MeshTransport over virtual WebRTC peers on
// the simulator's VirtualNetwork (cluster-transports.ts), and a VirtualClock. Apps unit-test their coordination logic
// with it in Vitest, without a browser:
//
//   const cluster = createSimulatedCluster({ members: 3, seed: 42 })
//   const [a, b, c] = cluster.meshes
//   await a.create('/x', 'hello')   // virtual time advances while promises wait
//   cluster.partition([a], [b, c]); cluster.heal(); cluster.crash(b); cluster.restart(b)
//   await cluster.advance(5_000)
//
// How time moves: see time-driver.ts. Every promise a simulated Mesh returns
// (recipes included) drives the clock until it settles; nothing runs between
// the app's calls unless it calls `advance`.
import * as prng from 'lib0/prng'
import { VirtualClock } from './virtual-time'
import { VirtualNetwork } from './virtual-network'
import { clusterTransports, linksTo } from './cluster-transports'
import type { ClusterTransportKind } from './cluster-transports'
import { holdTransportErrors } from '../client/transport-errors'
import type { Link, PeerHello, Transport } from '../transport/types'
import { SimDisk } from './sim-disk'
import { MemoryStorageProvider } from '../storage/memory'
import { TimeDriver } from './time-driver'
import { Member } from '../driver/member'
import type { MemberBugs, MemberTiming } from '../driver/options'
import type { Clock } from '../shared/clock'
import type { MeshClient } from '../client/mesh'
import { meshOver } from '../client/assemble'
import { MeshError } from '../shared/errors'
import { checkClusterOptions } from './cluster-options'
import type { Mesh, WhenNoQuorum } from '../shared/types'

export interface SimulatedClusterOptions {
  /** how many members (default 3) */
  members?: number
  /** the seed of everything random: timeouts, network delays, session ids (default 1) */
  seed?: number
  /**
   * 'static' (default): every initial member starts as a voter of one
   * bootstrapped configuration, like a ZooKeeper ensemble. 'join': the first
   * member bootstraps a one-member cluster and the others join as learners
   * and are promoted, as tabs do in a browser.
   */
  bootstrap?: 'static' | 'join'
  /** with 'join': the members (by index) that each found a cluster of their
   *  own (default [0]); newcomers join the one they meet first. Several
   *  founders kept apart by a partition make clusters that later diverge. */
  founders?: number[]
  sessionTimeoutMs?: number
  maxVoters?: number
  /** what writes do while a member cannot reach a quorum (default 'fail', as joinMesh) */
  whenNoQuorum?: WhenNoQuorum
  /** every member records its commit timeline (`mesh.commitTimeline()`), on virtual time */
  timeline?: boolean
  /** one-way network delay range in ms (default 1..10) */
  latencyMs?: [number, number]
  /** storage save latency range in ms (default 0..2) */
  diskLatencyMs?: [number, number]
  /** how long one awaited call may drive virtual time before failing with TIMEOUT (default 10 minutes) */
  maxWaitMs?: number
  /** member i's wall clock reads virtual time plus `clockOffsetsMs[i]` (default 0; 0 to 2^50):
   *  a device whose clock is years off stamps its entries and founds its
   *  cluster by that clock, and nothing may depend on it */
  clockOffsetsMs?: number[]
  /** member browsers: member i lives in browser `browsers[i]` (default: each in its own) */
  browsers?: string[]
  timing?: Partial<MemberTiming>
  /** planted bugs (tests only), given to every member: the linearizability workload must catch each */
  bugs?: MemberBugs
  /**
   * 'mesh' (default): every member runs the real MeshTransport, the
   * browser's, over virtual WebRTC peers and a virtual signaling server
   * (signaling, seeded member keys and the hello/proof handshake,
   * reconnects, backoff, penalties, relay). 'virtual': the VirtualHub
   * stand-in, a link to every online member at once with no handshake.
   */
  transport?: ClusterTransportKind
}

/** A peer outside the cluster, online through `connectPeer` (for tests of untrusted peers). */
export interface SimulatedPeer {
  readonly id: string
  /** its links to every live member, open when `connectPeer` resolved */
  readonly links: Link[]
  /** its transport (links made later show in `transport.links()`) */
  readonly transport: Transport
}

export interface SimulatedCluster {
  /** one Mesh per member, in order; a mesh survives crash/restart of its member */
  readonly meshes: Mesh[]
  readonly clock: VirtualClock
  readonly network: VirtualNetwork<Uint8Array>
  /** which transport the members run ('mesh' or 'virtual') */
  readonly transport: ClusterTransportKind
  /** bring a peer that is not a member online (a misbehaving one in a test),
   *  over the members' kind of transport, with the key of `hello.member`
   *  (the crashed member's own when it names one: an insider); resolves once
   *  it has a link to every live member */
  connectPeer(hello: PeerHello): Promise<SimulatedPeer>
  /** take a peer of `connectPeer` offline (a closed tab) */
  disconnectPeer(member: string): void
  /** members in different groups cannot talk; members in no group are cut from all */
  partition(...groups: Mesh[][]): void
  heal(): void
  /** stop the member at once: links close, unpersisted writes are lost */
  crash(mesh: Mesh): void
  /** start a crashed (or closed) member again from what it persisted, with a
   *  new session — a new tab: like a new ZooKeeper session it has no watches
   *  (`on` listeners stay with the Mesh; znode watches do not) */
  restart(mesh: Mesh): Promise<void>
  /** the member's tab becomes hidden or visible (a hidden leader hands leadership to a visible voter) */
  setVisible(mesh: Mesh, visible: boolean): void
  /** a brand-new member that joins as a learner (and is promoted by policy);
   *  with `founder`, it founds a one-member cluster of its own instead (keep
   *  it apart with `partition` at once to grow a second cluster of the room) */
  addMember(opts?: { browser?: string; founder?: boolean }): Promise<Mesh>
  /** run ms of virtual time */
  advance(ms: number): Promise<void>
  /** run virtual time until every live member knows one leader and has an open session */
  stable(maxMs?: number): Promise<void>
  /** drive virtual time until any promise settles */
  settle<T>(p: Promise<T>): Promise<T>
  /** the tree digest of every live member, by member id */
  digests(): Map<string, string>
  /** the live member behind a mesh (for inspection in tests) */
  memberOf(mesh: Mesh): Member
  /** the peers the member's transport has an open link to, sorted (for
   *  tests of the link policy, src/driver/link-policy.ts) */
  linksOf(mesh: Mesh): string[]
  /** close every mesh */
  close(): Promise<void>
}

const ROOM = 'simulated'

interface Slot {
  index: number
  id: string
  browser: string
  tabCounter: number
  visible: boolean
  disk: SimDisk
  member: Member | null
  mesh: MeshClient & Mesh
  /** added later as the founder of a cluster of its own */
  founder: boolean
}

export function createSimulatedCluster(opts: SimulatedClusterOptions = {}): SimulatedCluster {
  checkClusterOptions(opts)
  const count = opts.members ?? 3
  const seed = opts.seed ?? 1
  const gen = prng.create(seed)
  const clock = new VirtualClock()
  const [minDelay, maxDelay] = opts.latencyMs ?? [1, 10]
  const network = new VirtualNetwork<Uint8Array>(clock, prng.create(prng.uint32(gen, 0, 0xffffffff)), { minDelay, maxDelay })
  const transports = clusterTransports(opts.transport ?? 'mesh', network, clock, gen, ROOM)
  const driver = new TimeDriver(clock, opts.maxWaitMs ?? 600_000)
  const settle = <T>(p: Promise<T>): Promise<T> => driver.settle(p)
  const scheduler: Clock = {
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (h) => clock.clearTimeout(h as number),
  }
  const storageProvider = new MemoryStorageProvider()
  const staticVoters = Array.from({ length: count }, (_, i) => `m${i + 1}`)
  const slots: Slot[] = []
  const bootstrapMode = opts.bootstrap ?? 'static'

  const clockOf = (slot: Slot): Clock => {
    const offset = opts.clockOffsetsMs?.[slot.index] ?? 0
    return offset === 0 ? scheduler : { ...scheduler, now: () => clock.now() + offset }
  }

  const newMember = (slot: Slot): Member => {
    const tab = `t${++slot.tabCounter}`
    const hello = { member: slot.id, tab, browser: slot.browser }
    const transport = transports.open(hello, clockOf(slot))
    const staticMember = bootstrapMode === 'static' && slot.index < count
    const founder = staticMember || slot.founder || (bootstrapMode === 'join' && (opts.founders ?? [0]).includes(slot.index))
    const member = new Member({
      hello,
      storage: slot.disk.open(),
      // eslint-disable-next-line @typescript-eslint/require-await -- async so a throw rejects: reopenStorage returns a promise
      reopenStorage: async () => slot.disk.open(),
      transport,
      scheduler: clockOf(slot),
      random: childRandom(gen),
      bootstrap: founder,
      ...(staticMember ? { bootstrapVoters: staticVoters, clusterId: `sim-${seed}` } : {}),
      visible: () => slot.visible,
      ...(opts.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: opts.sessionTimeoutMs }),
      ...(opts.maxVoters === undefined ? {} : { maxVoters: opts.maxVoters }),
      ...(opts.whenNoQuorum === undefined ? {} : { whenNoQuorum: opts.whenNoQuorum }),
      ...(opts.timeline === undefined ? {} : { timeline: opts.timeline }),
      ...(opts.timing === undefined ? {} : { timing: opts.timing }),
      // planted bugs (tests only)
      ...(opts.bugs === undefined ? {} : { bugs: opts.bugs }),
    })
    // the transport's refusals reach the app as the member's `error` events, as
    // in joinMesh (the transport closes with the tab: nothing to unsubscribe)
    holdTransportErrors(transport).forwardTo(member)
    slot.member = member
    return member
  }

  const startSlot = async (slot: Slot): Promise<void> => {
    const member = newMember(slot)
    slot.mesh.attach(member)
    await member.start()
  }

  const addSlot = (browser?: string, founder = false): Slot => {
    const index = slots.length
    const id = `m${index + 1}`
    const slot = {
      index,
      id,
      browser: browser ?? opts.browsers?.[index] ?? `b${index + 1}`,
      tabCounter: 0,
      visible: true,
      disk: new SimDisk(clock, prng.create(prng.uint32(gen, 0, 0xffffffff)), opts.diskLatencyMs ?? [0, 2], storageProvider, ROOM, id),
      member: null,
      founder,
    } as unknown as Slot
    const member = newMember(slot)
    // the Mesh is assembled as every entry point's is; the cluster makes,
    // starts and replaces the member behind it itself
    slot.mesh = meshOver(member, {
      clock: clockOf(slot),
      settle,
      onClose: async () => {
        // a closing data channel delivers what it already carries: let the
        // last messages (the leaving notice) land before the links go
        await new Promise<void>((resolve) => clock.setTimeout(resolve, network.options.maxDelay + 1))
        if (slot.member === null || slot.member.isStopped) transports.close(slot.id)
      },
    })
    slots.push(slot)
    return slot
  }

  const slotOf = (mesh: Mesh): Slot => {
    const slot = slots.find((s) => s.mesh === mesh)
    if (slot === undefined) throw new MeshError('BAD_ARGUMENTS', 'not a mesh of this cluster')
    return slot
  }

  for (let i = 0; i < count; i++) addSlot()
  // members start in order on virtual time; each start is a few microtasks
  const starting = Promise.all(slots.map((s) => s.member!.start()))
  void driver.settle(starting).catch(() => { /* this only drives virtual time; a failed start is not this promise's to report */ })

  const cluster: SimulatedCluster = {
    get meshes() {
      return slots.map((s) => s.mesh)
    },
    clock,
    network,
    transport: transports.kind,
    async connectPeer(hello) {
      if (slots.some((s) => s.id === hello.member && s.member !== null && !s.member.isStopped)) throw new MeshError('BAD_ARGUMENTS', `${hello.member} is running`)
      const transport = transports.open(hello, scheduler)
      const live = slots.filter((s) => s.member !== null && !s.member.isStopped).map((s) => s.id)
      const deadline = clock.now() + 60_000
      let links = linksTo(transport, live)
      while (links === null) {
        if (clock.now() >= deadline) throw new MeshError('TIMEOUT', `${hello.member} did not link to ${live.join(', ')} within 60 s of virtual time`)
        await driver.advance(10)
        links = linksTo(transport, live)
      }
      return { id: hello.member, links, transport }
    },
    disconnectPeer(member) {
      if (slots.some((s) => s.id === member && s.member !== null && !s.member.isStopped)) throw new MeshError('BAD_ARGUMENTS', `${member} is a running member`)
      transports.close(member)
    },
    partition(...groups) {
      const ids = groups.map((g) => g.map((m) => slotOf(m).id))
      const grouped = new Set(ids.flat())
      for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) network.partition(ids[i]!, ids[j]!)
      const rest = slots.map((s) => s.id).filter((id) => !grouped.has(id))
      for (const id of rest) network.isolate(id)
    },
    heal() {
      network.heal()
    },
    linksOf(mesh) {
      const t = transports.online.get(slotOf(mesh).id)
      if (t === undefined) return []
      return [...t.links()].filter(([, link]) => link.open).map(([peer]) => peer).sort()
    },
    crash(mesh) {
      const slot = slotOf(mesh)
      slot.member?.stop(new MeshError('CLOSED', `member ${slot.id} crashed`))
      slot.disk.crash()
      transports.crash(slot.id)
      slot.member = null
    },
    async restart(mesh) {
      const slot = slotOf(mesh)
      if (slot.member !== null && !slot.member.isStopped) throw new MeshError('BAD_ARGUMENTS', `${slot.id} is running`)
      transports.close(slot.id)
      await settle(startSlot(slot))
    },
    setVisible(mesh, visible) {
      const slot = slotOf(mesh)
      slot.visible = visible
      slot.member?.visibilityChanged()
    },
    async addMember(o = {}) {
      const slot = addSlot(o.browser, o.founder === true)
      await settle(slot.member!.start())
      return slot.mesh
    },
    advance(ms) {
      return driver.advance(ms)
    },
    async stable(maxMs = 60_000) {
      const deadline = clock.now() + maxMs
      const isStable = (): boolean => {
        const live = slots.filter((s) => s.member !== null && !s.member.isStopped).map((s) => s.member!)
        if (live.length === 0) return true
        const leader = live[0]!.leader
        return leader !== null && live.every((m) => m.leader === leader && m.state === 'connected')
      }
      while (!isStable()) {
        if (clock.now() >= deadline) {
          const views = slots
            .filter((s) => s.member !== null && !s.member.isStopped)
            .map((s) => `${s.id}: leader=${s.member!.leader} term=${s.member!.term} state=${s.member!.state} voters=${s.member!.conf.voters.join(',')} learners=${s.member!.conf.learners.join(',')}`)
          throw new MeshError('TIMEOUT', `cluster not stable within ${maxMs} ms of virtual time (${views.join('; ')})`)
        }
        await driver.advance(50)
      }
    },
    settle,
    digests() {
      const out = new Map<string, string>()
      for (const s of slots) if (s.member !== null && !s.member.isStopped) out.set(s.id, s.member.tree.digest())
      return out
    },
    memberOf(mesh) {
      const m = slotOf(mesh).member
      if (m === null) throw new MeshError('CLOSED', 'member is crashed')
      return m
    },
    async close() {
      for (const s of slots) if (s.member !== null && !s.member.isStopped) await s.mesh.close()
    },
  }
  return cluster
}

/** An independent seeded stream for one member, drawn from the cluster's. */
function childRandom(gen: prng.PRNG): () => number {
  const child = prng.create(prng.uint32(gen, 0, 0xffffffff))
  return () => prng.real53(child)
}
